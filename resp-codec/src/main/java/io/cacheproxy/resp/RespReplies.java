package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * Shared, immutable reply bytes (Netty's {@code FixedRedisMessagePool}). Each buffer is read-only and
 * unreleasable, so it can never be freed or changed by mistake; never write it to a channel directly
 * (its reader index is shared), copy it: {@code out.writeBytes(X, X.readerIndex(), X.readableBytes())}
 * or {@link #copyTo(ByteBuf, ByteBuf)}.
 */
public final class RespReplies {

    /** {@code +OK\r\n}. */
    public static final ByteBuf OK = constant("+OK\r\n");
    /** {@code +PONG\r\n}. */
    public static final ByteBuf PONG = constant("+PONG\r\n");
    /** {@code +QUEUED\r\n}. */
    public static final ByteBuf QUEUED = constant("+QUEUED\r\n");
    /** {@code $-1\r\n}: the RESP2 null bulk string. */
    public static final ByteBuf NULL_BULK = constant("$-1\r\n");
    /** {@code *-1\r\n}: the RESP2 null array. */
    public static final ByteBuf NULL_ARRAY = constant("*-1\r\n");
    /** {@code _\r\n}: the RESP3 null. */
    public static final ByteBuf NULL3 = constant("_\r\n");
    /** {@code *0\r\n}. */
    public static final ByteBuf EMPTY_ARRAY = constant("*0\r\n");
    /** {@code :0\r\n}. */
    public static final ByteBuf ZERO = constant(":0\r\n");
    /** {@code :1\r\n}. */
    public static final ByteBuf ONE = constant(":1\r\n");

    private RespReplies() {
    }

    /** Appends the bytes of the shared reply {@code reply} to {@code out} without touching {@code reply}. */
    public static void copyTo(ByteBuf reply, ByteBuf out) {
        out.writeBytes(reply, reply.readerIndex(), reply.readableBytes());
    }

    private static ByteBuf constant(String s) {
        return Unpooled.unreleasableBuffer(
                Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.US_ASCII)).asReadOnly());
    }
}
