package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Decodes client bytes into {@link RespRequest}s with the framing rules and error texts of Redis 7.0
 * ({@code processMultibulkBuffer} / {@code processInlineBuffer} in {@code networking.c}).
 *
 * <ul>
 *   <li><b>Multibulk</b> ({@code *N\r\n} then N {@code $len\r\n<bytes>\r\n}): a count of 0 or less is
 *       skipped silently; the count, lengths and header lines are checked against {@link RespLimits}
 *       before the body arrives. Each request is emitted as a retained slice of the input (zero copy).</li>
 *   <li><b>Inline</b> (any other first byte): one line ending in {@code \n} (a preceding {@code \r} is
 *       stripped), split like {@code sdssplitargs} (blanks, "double quotes" with {@code \xHH} and
 *       {@code \n}-style escapes, 'single quotes'); blank lines are skipped. The decoder builds the
 *       multibulk form of the request, so the rest of the proxy sees one shape.</li>
 * </ul>
 *
 * <p><b>Differences from Redis</b>, all about input no real client sends: Redis takes any byte after a
 * header's {@code \r} and any two bytes after bulk data as the line end; this decoder requires
 * {@code \r\n} ("invalid multibulk length" / "invalid bulk length" for a header, "expected CRLF after
 * bulk data" after data), so the bytes it forwards are always well-formed RESP whatever parses them
 * upstream. Size errors do not depend on how the input was split into reads (Redis's do): a header or
 * inline line longer than {@code maxInlineLength} is rejected however it arrives. Redis also stops an
 * inline line at a NUL byte, as this decoder does when splitting it. A request whose total size would
 * not fit in one buffer (2 GB) is rejected as "invalid bulk length".
 *
 * <p><b>Resource use.</b> Nothing is allocated in proportion to a declared size: the argument table
 * grows as arguments arrive, and bulk data simply waits in the cumulation buffer. The parse position is
 * kept across reads, so a large bulk string arriving in many reads is never re-parsed; per request the
 * decoder allocates one {@link RespRequest}, one {@code int[]} and one slice.
 *
 * <p><b>After a protocol error</b> the decoder throws {@link RespProtocolException} once, then discards
 * all further input and emits nothing: the proxy replies {@code -ERR <message>} and closes, as Redis does.
 */
public final class RespRequestDecoder extends ByteToMessageDecoder {

    private static final int START = 0;
    private static final int MULTIBULK_COUNT = 1;
    private static final int BULK_HEADER = 2;
    private static final int BULK_DATA = 3;
    private static final int INLINE = 4;
    private static final int FAILED = 5;

    /** Capacity (in arguments) of a new argument table before it has to grow. */
    private static final int INITIAL_ARGS = 16;

    private final RespLimits limits;

    private int state = START;
    /** Offset, from the start of the current request (the reader index), of the next unparsed byte. */
    private int pos;
    /** Offset up to which the current line has been searched for its terminator without finding it. */
    private int scanned;
    private int argsExpected;
    private int argsRead;
    private int[] args;
    private int bulkLength;

    public RespRequestDecoder(RespLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (state == FAILED) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            while (in.isReadable()) {
                if (state == START) {
                    pos = 0;
                    scanned = 0;
                    state = in.getByte(in.readerIndex()) == '*' ? MULTIBULK_COUNT : INLINE;
                }
                RespRequest request = state == INLINE ? decodeInline(ctx, in) : decodeMultibulk(in);
                if (request != null) {
                    out.add(request);
                } else if (state != START) {
                    return; // incomplete: wait for more bytes
                }
            }
        } catch (RespProtocolException e) {
            state = FAILED;
            args = null;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /**
     * Continues the multibulk request at the reader index. Returns it when complete; returns null with
     * state START when a request with no arguments was skipped, or with another state when incomplete.
     */
    private RespRequest decodeMultibulk(ByteBuf in) {
        final int base = in.readerIndex();
        final int avail = in.writerIndex() - base;
        for (;;) {
            switch (state) {
                case MULTIBULK_COUNT -> {
                    int cr = findCr(in, base, avail, 0, "Protocol error: too big mbulk count string");
                    if (cr < 0) {
                        return null;
                    }
                    long n = Resp.parseHeaderNumber(in, base + 1, base + cr);
                    if (n == Resp.INVALID || n > limits.maxArgs() || in.getByte(base + cr + 1) != Resp.LF) {
                        throw new RespProtocolException("Protocol error: invalid multibulk length");
                    }
                    pos = cr + 2;
                    if (n <= 0) {
                        in.skipBytes(pos);
                        state = START;
                        return null;
                    }
                    argsExpected = (int) n;
                    argsRead = 0;
                    args = new int[2 * Math.min(argsExpected, INITIAL_ARGS)];
                    scanned = pos;
                    state = BULK_HEADER;
                }
                case BULK_HEADER -> {
                    if (pos >= avail) {
                        return null;
                    }
                    byte type = in.getByte(base + pos);
                    int cr = findCr(in, base, avail, pos, "Protocol error: too big bulk count string");
                    if (cr < 0) {
                        return null;
                    }
                    if (type != '$') {
                        // Redis replaces CR and LF in error texts with spaces.
                        char got = type == Resp.CR || type == Resp.LF ? ' ' : (char) (type & 0xff);
                        throw new RespProtocolException("Protocol error: expected '$', got '" + got + "'");
                    }
                    long len = Resp.parseHeaderNumber(in, base + pos + 1, base + cr);
                    if (len < 0 || len > limits.maxBulkLength() || in.getByte(base + cr + 1) != Resp.LF
                            || len > Integer.MAX_VALUE - 2 - (cr + 2)) {
                        throw new RespProtocolException("Protocol error: invalid bulk length");
                    }
                    bulkLength = (int) len;
                    pos = cr + 2;
                    state = BULK_DATA;
                }
                case BULK_DATA -> {
                    int end = pos + bulkLength;
                    if (avail - 2 < end) {
                        return null;
                    }
                    if (in.getShort(base + end) != Resp.CRLF_SHORT) {
                        throw new RespProtocolException("Protocol error: expected CRLF after bulk data");
                    }
                    if (2 * argsRead == args.length) {
                        args = Arrays.copyOf(args, 2 * Math.min(argsExpected, 2 * argsRead));
                    }
                    args[2 * argsRead] = pos;
                    args[2 * argsRead + 1] = bulkLength;
                    pos = end + 2;
                    if (++argsRead == argsExpected) {
                        RespRequest request = new RespRequest(in.retainedSlice(base, pos), args, argsRead, false);
                        in.skipBytes(pos);
                        args = null;
                        state = START;
                        return request;
                    }
                    scanned = pos;
                    state = BULK_HEADER;
                }
                default -> throw new IllegalStateException("state: " + state);
            }
        }
    }

    /**
     * Finds the {@code \r} ending the header line that starts at {@code lineStart}, and returns its
     * offset once the byte after it has arrived too; returns -1 if more input is needed. Resumes the
     * search where the previous call stopped.
     */
    private int findCr(ByteBuf in, int base, int avail, int lineStart, String tooBig) {
        int limit = lineStart + limits.maxInlineLength(); // last offset the \r may have
        int from = Math.max(scanned, lineStart);
        int to = Math.min(avail, limit + 1);
        int i = from;
        while (i < to && in.getByte(base + i) != Resp.CR) {
            i++;
        }
        if (i == to) {
            if (avail > limit) {
                throw new RespProtocolException(tooBig);
            }
            scanned = i;
            return -1;
        }
        scanned = i;
        return i + 1 < avail ? i : -1;
    }

    private RespRequest decodeInline(ChannelHandlerContext ctx, ByteBuf in) {
        final int base = in.readerIndex();
        final int avail = in.writerIndex() - base;
        int limit = limits.maxInlineLength(); // last offset the \n may have
        int to = Math.min(avail, limit + 1);
        int nl = to > scanned ? in.indexOf(base + scanned, base + to, Resp.LF) : -1;
        if (nl < 0) {
            if (avail > limit) {
                throw new RespProtocolException("Protocol error: too big inline request");
            }
            scanned = to;
            return null;
        }
        nl -= base;
        int lineEnd = nl > 0 && in.getByte(base + nl - 1) == Resp.CR ? nl - 1 : nl;
        List<byte[]> argv = splitArgs(in, base, lineEnd);
        if (argv == null) {
            throw new RespProtocolException("Protocol error: unbalanced quotes in request");
        }
        in.skipBytes(nl + 1);
        state = START;
        if (argv.isEmpty()) {
            return null;
        }
        return RespRequest.build(ctx.alloc(), argv.toArray(new byte[0][]), true);
    }

    /**
     * {@code sdssplitargs} over {@code in[base, base + end)}: returns the arguments, or null for
     * unbalanced quotes. As in Redis (which splits a C string), a NUL byte ends the line.
     */
    static List<byte[]> splitArgs(ByteBuf in, int base, int end) {
        for (int i = 0; i < end; i++) {
            if (in.getByte(base + i) == 0) {
                end = i;
                break;
            }
        }
        List<byte[]> argv = new ArrayList<>();
        int p = 0;
        ByteArrayOutputStream current = new ByteArrayOutputStream();
        for (;;) {
            while (p < end && isSpace(in.getByte(base + p))) {
                p++;
            }
            if (p >= end) {
                return argv;
            }
            boolean inq = false;
            boolean insq = false;
            boolean done = false;
            current.reset();
            while (!done) {
                int c = at(in, base, end, p);
                if (inq) {
                    if (c == '\\' && at(in, base, end, p + 1) == 'x'
                            && isHex(at(in, base, end, p + 2)) && isHex(at(in, base, end, p + 3))) {
                        current.write(hex(at(in, base, end, p + 2)) * 16 + hex(at(in, base, end, p + 3)));
                        p += 3;
                    } else if (c == '\\' && at(in, base, end, p + 1) != 0) {
                        p++;
                        int e = at(in, base, end, p);
                        current.write(switch (e) {
                            case 'n' -> '\n';
                            case 'r' -> '\r';
                            case 't' -> '\t';
                            case 'b' -> '\b';
                            case 'a' -> 7;
                            default -> e;
                        });
                    } else if (c == '"') {
                        int next = at(in, base, end, p + 1);
                        if (next != 0 && !isSpace((byte) next)) {
                            return null;
                        }
                        done = true;
                    } else if (c == 0) {
                        return null;
                    } else {
                        current.write(c);
                    }
                } else if (insq) {
                    if (c == '\\' && at(in, base, end, p + 1) == '\'') {
                        p++;
                        current.write('\'');
                    } else if (c == '\'') {
                        int next = at(in, base, end, p + 1);
                        if (next != 0 && !isSpace((byte) next)) {
                            return null;
                        }
                        done = true;
                    } else if (c == 0) {
                        return null;
                    } else {
                        current.write(c);
                    }
                } else {
                    switch (c) {
                        case ' ', '\n', '\r', '\t', 0 -> done = true;
                        case '"' -> inq = true;
                        case '\'' -> insq = true;
                        default -> current.write(c);
                    }
                }
                if (p < end) {
                    p++;
                }
            }
            argv.add(current.toByteArray());
        }
    }

    private static int at(ByteBuf in, int base, int end, int i) {
        return i < end ? in.getByte(base + i) & 0xff : 0;
    }

    /** C's {@code isspace} in the "C" locale. */
    private static boolean isSpace(byte b) {
        return b == ' ' || (b >= '\t' && b <= '\r');
    }

    private static boolean isHex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static int hex(int c) {
        return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        args = null;
    }
}
