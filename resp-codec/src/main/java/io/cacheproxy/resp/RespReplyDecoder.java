package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Frames upstream replies: emits one retained {@code ByteBuf} slice per complete top-level reply,
 * holding exactly the bytes Redis sent (found with {@link RespReplyScanner}, so nothing is parsed twice
 * and nothing is built). The receiver owns each emitted buffer and must release it. A RESP3 push reply
 * (first byte {@code '>'}) is emitted like any other; the consumer tells them apart by that byte.
 *
 * <p>A subclass can take each reply where it lies instead, without the slice: override
 * {@link #onReply}.
 *
 * <p>After a {@link RespProtocolException} the decoder discards all further input and emits nothing.
 */
public class RespReplyDecoder extends ByteToMessageDecoder {

    private final RespReplyScanner scanner;
    private boolean failed;

    public RespReplyDecoder(RespLimits limits) {
        this.scanner = new RespReplyScanner(limits);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            while (in.isReadable()) {
                int n = scanner.scan(in);
                if (n < 0) {
                    return;
                }
                int index = in.readerIndex();
                in.skipBytes(n);
                onReply(in, index, n, out);
            }
        } catch (RespProtocolException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /**
     * One complete reply: {@code in[index, index + length)}. The bytes stay valid only until this
     * method returns and {@code in} stays owned by the decoder: keep them with
     * {@code in.retainedSlice(index, length)} or copy them. By default the retained slice is emitted.
     */
    protected void onReply(ByteBuf in, int index, int length, List<Object> out) {
        out.add(in.retainedSlice(index, length));
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        scanner.reset();
    }
}
