package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * Listing the keys of a replicated pool node by node would list each key once per replica (KEYS,
 * SCAN): a node's list keeps only the keys that node serves now ({@link BackendPool#nodeFor}), so
 * that every key is listed once while the pool's trust does not change.
 */
final class ServedKeys {
    private ServedKeys() {
    }

    /** The keys of {@code keys} (an array of bulk strings, not owned) that {@code node} serves, as a new array. */
    static ByteBuf keep(ByteBufAllocator alloc, ByteBuf keys, BackendPool pool, BackendNode node) {
        List<ByteBuf> kept = new ArrayList<>();
        int bytes = 16;
        for (ByteBuf element : FanOut.elements(keys)) {
            int start = element.readerIndex();
            int lineEnd = element.indexOf(start, element.writerIndex(), (byte) '\r');
            if (element.getByte(start) == '$' && lineEnd > 0) {
                int length = element.writerIndex() - (lineEnd + 2) - 2;
                if (length >= 0 && pool.nodeFor(element, lineEnd + 2, length) != node) {
                    continue;
                }
            }
            kept.add(element);
            bytes += element.readableBytes();
        }
        ByteBuf out = alloc.buffer(bytes);
        RespWriter.writeArrayHeader(out, kept.size());
        for (ByteBuf element : kept) {
            out.writeBytes(element, element.readerIndex(), element.readableBytes());
        }
        return out;
    }

    /** A sink that passes {@code target} the KEYS reply of {@code node} with only the keys it serves. */
    static ReplySink filtering(ReplySink target, ByteBufAllocator alloc, BackendPool pool, BackendNode node) {
        return new ReplySink() {
            @Override
            public void onReply(ByteBuf reply) {
                try {
                    byte type = reply.getByte(reply.readerIndex());
                    target.onReply(type == '*' || type == '~' ? keep(alloc, reply, pool, node) : reply.retain());
                } finally {
                    reply.release();
                }
            }

            @Override
            public void onFailure(String error) {
                target.onFailure(error);
            }

            @Override
            public long deadlineNanos() {
                return target.deadlineNanos();
            }
        };
    }
}
