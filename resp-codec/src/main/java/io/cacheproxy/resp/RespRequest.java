package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AbstractReferenceCounted;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One client request: the command name and its arguments, plus the exact bytes to forward.
 *
 * <p><b>Ownership.</b> A request owns one reference to {@link #content()}; {@link #release()} releases
 * it. Whoever handles the request last releases it (or passes {@code content().retain()} on and then
 * releases the request). {@link #arg(int)} returns slices that share the content and are valid only
 * while the request is.
 *
 * <p><b>Layout.</b> {@link #content()} is always a RESP array of bulk strings
 * ({@code *N\r\n$len\r\narg\r\n...}) that can be written upstream unchanged: for a multibulk request it
 * is a retained slice of the bytes the client sent, for an inline request the decoder builds this form.
 * The arguments are located by one {@code int[]} of (offset, length) pairs, so reading them never
 * allocates; {@link #argOffset(int)} is an index into {@code content()}.
 */
public final class RespRequest extends AbstractReferenceCounted {

    private final ByteBuf content;
    /** args[2i] = offset of arg i in content, args[2i + 1] = its length. May be longer than needed. */
    private final int[] args;
    private final int argCount;
    private final boolean inline;

    /** Takes ownership of {@code content}. {@code args} is not copied. */
    RespRequest(ByteBuf content, int[] args, int argCount, boolean inline) {
        this.content = content;
        this.args = args;
        this.argCount = argCount;
        this.inline = inline;
    }

    /** Builds a request from raw arguments, for proxy-originated commands and tests. */
    public static RespRequest of(ByteBufAllocator alloc, byte[]... args) {
        return build(alloc, args, false);
    }

    static RespRequest build(ByteBufAllocator alloc, byte[][] args, boolean inline) {
        Objects.requireNonNull(alloc, "alloc");
        if (args.length == 0) {
            throw new IllegalArgumentException("args: 0 (expected: > 0)");
        }
        int size = 1 + decimalLength(args.length) + 2;
        for (byte[] a : args) {
            size += 1 + decimalLength(a.length) + 2 + a.length + 2;
        }
        ByteBuf buf = alloc.buffer(size);
        int[] offsets = new int[args.length * 2];
        try {
            RespWriter.writeArrayHeader(buf, args.length);
            for (int i = 0; i < args.length; i++) {
                RespWriter.writeLengthHeader(buf, (byte) '$', args[i].length);
                offsets[2 * i] = buf.writerIndex() - buf.readerIndex();
                offsets[2 * i + 1] = args[i].length;
                buf.writeBytes(args[i]).writeShort(Resp.CRLF_SHORT);
            }
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        return new RespRequest(buf, offsets, args.length, inline);
    }

    /** Builds a request from UTF-8 encoded arguments. */
    public static RespRequest of(ByteBufAllocator alloc, String... args) {
        byte[][] bytes = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            bytes[i] = args[i].getBytes(StandardCharsets.UTF_8);
        }
        return of(alloc, bytes);
    }

    /**
     * The whole request as a RESP array of bulk strings, ready to forward byte for byte. Not retained
     * for the caller: retain it to keep it beyond the request's lifetime.
     */
    public ByteBuf content() {
        return content;
    }

    /** Number of arguments including the command name; always at least 1. */
    public int argCount() {
        return argCount;
    }

    /** Index in {@link #content()} of the first byte of argument {@code i}. */
    public int argOffset(int i) {
        checkIndex(i);
        return args[2 * i];
    }

    public int argLength(int i) {
        checkIndex(i);
        return args[2 * i + 1];
    }

    /** A slice of argument {@code i}, not retained: valid only while this request is. */
    public ByteBuf arg(int i) {
        checkIndex(i);
        return content.slice(args[2 * i], args[2 * i + 1]);
    }

    /** A copy of argument {@code i}. */
    public byte[] argBytes(int i) {
        checkIndex(i);
        byte[] b = new byte[args[2 * i + 1]];
        content.getBytes(args[2 * i], b);
        return b;
    }

    /** Argument {@code i} decoded as UTF-8 (malformed input is replaced, never rejected). */
    public String argString(int i) {
        checkIndex(i);
        return content.toString(args[2 * i], args[2 * i + 1], StandardCharsets.UTF_8);
    }

    /**
     * Whether argument {@code i} equals {@code upperCaseAscii} ignoring ASCII case, without allocating.
     * Command names are matched this way, so {@code upperCaseAscii} must already be upper case.
     */
    public boolean argEqualsIgnoreCase(int i, byte[] upperCaseAscii) {
        checkIndex(i);
        int len = args[2 * i + 1];
        if (len != upperCaseAscii.length) {
            return false;
        }
        int off = args[2 * i];
        for (int j = 0; j < len; j++) {
            int b = content.getByte(off + j);
            if (b >= 'a' && b <= 'z') {
                b -= 'a' - 'A';
            }
            if (b != upperCaseAscii[j]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Argument {@code i} as an integer, accepted exactly where Redis's {@code string2ll} accepts it:
     * optional '-', no '+', no leading zeros, no spaces, within {@code long} range.
     *
     * @throws NumberFormatException if the argument is not such an integer
     */
    public long argLong(int i) {
        checkIndex(i);
        int off = args[2 * i];
        return Resp.string2ll(content, off, off + args[2 * i + 1]);
    }

    /** Whether the client sent this request as an inline command line rather than a RESP array. */
    public boolean inline() {
        return inline;
    }

    @Override
    public RespRequest retain() {
        super.retain();
        return this;
    }

    @Override
    public RespRequest retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public RespRequest touch() {
        super.touch();
        return this;
    }

    @Override
    public RespRequest touch(Object hint) {
        content.touch(hint);
        return this;
    }

    @Override
    protected void deallocate() {
        content.release();
    }

    /** Shows the shape only: arguments are user data and must not reach logs by accident. */
    @Override
    public String toString() {
        return "RespRequest(args=" + argCount + ", bytes=" + content.readableBytes()
                + (inline ? ", inline" : "") + ")";
    }

    private void checkIndex(int i) {
        Objects.checkIndex(i, argCount);
    }

    static int decimalLength(long v) {
        if (v < 0) {
            return v == Long.MIN_VALUE ? 20 : 1 + decimalLength(-v);
        }
        int n = 1;
        while (v >= 10) {
            v /= 10;
            n++;
        }
        return n;
    }
}
