package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.Objects;

/**
 * Finds where one complete RESP2/RESP3 reply ends without building any objects, so replies can be
 * forwarded as the exact bytes Redis sent.
 *
 * <p>All types are understood: {@code + - : $ * _ # , ( ! = % ~ | >}, including the RESP2 nulls
 * {@code $-1} and {@code *-1}. A map {@code %n} holds 2n elements; an attribute {@code |n} holds 2n
 * elements <em>plus the value it annotates</em>, so an attribute and its value are one reply. Nesting is
 * tracked with an explicit stack (never recursion) of at most {@link RespLimits#maxNestingDepth()}
 * aggregates. Bulk, blob error and verbatim lengths are limited by {@link RespLimits#maxBulkLength()};
 * aggregate lengths are not limited (a reply's elements cost nothing to count), and neither is
 * anything allocated in proportion to them.
 *
 * <p><b>Resumable.</b> When {@link #scan(ByteBuf)} returns -1, the scanner remembers how far it got
 * (inside a half-received bulk string or a deep array); call it again with the same reader index once
 * more bytes have arrived and it continues from there, so a large reply is scanned once in total. After
 * returning a length, or throwing, the scanner is reset for the next reply.
 *
 * <p>Not thread-safe: one scanner per connection.
 */
public final class RespReplyScanner {

    /** Header lines that hold only a number (or t/f, or nothing) are never longer than this. */
    private static final int MAX_NUMBER_LINE = 32;

    private final RespLimits limits;

    /** Offset from the reader index of the next unparsed byte. */
    private int pos;
    /** Offset up to which the current line has been searched for CR without finding it. */
    private int scanned;
    /** Offset from the reader index where the pending bulk payload ends, or -1. */
    private int bulkEnd = -1;
    private int depth;
    /** Elements still expected by each open aggregate, outermost first. */
    private long[] remaining = new long[8];

    public RespReplyScanner(RespLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /**
     * Returns the length of the first complete reply starting at {@code buf.readerIndex()}, or -1 if it
     * is not complete yet. Does not move the reader index.
     *
     * @throws RespProtocolException if the bytes are not a valid reply
     */
    public int scan(ByteBuf buf) {
        final int base = buf.readerIndex();
        final int avail = buf.writerIndex() - base;
        try {
            for (;;) {
                if (bulkEnd >= 0) {
                    if (avail - 2 < bulkEnd) {
                        return -1;
                    }
                    if (buf.getShort(base + bulkEnd) != Resp.CRLF_SHORT) {
                        throw new RespProtocolException("Protocol error: expected CRLF after bulk data");
                    }
                    pos = bulkEnd + 2;
                    bulkEnd = -1;
                    if (elementDone()) {
                        return finish();
                    }
                    continue;
                }
                if (pos >= avail) {
                    return -1;
                }
                byte type = buf.getByte(base + pos);
                int cr = findLineEnd(buf, base, avail, type);
                if (cr < 0) {
                    return -1;
                }
                int lineStart = base + pos + 1;
                int lineEnd = base + cr;
                int next = cr + 2;
                switch (type) {
                    case '+', '-', ',', '(' -> pos = next;
                    case ':' -> {
                        if (Resp.parseHeaderNumber(buf, lineStart, lineEnd) == Resp.INVALID) {
                            throw new RespProtocolException("Protocol error: invalid integer");
                        }
                        pos = next;
                    }
                    case '#' -> {
                        byte b = buf.getByte(lineStart);
                        if (lineEnd - lineStart != 1 || (b != 't' && b != 'f')) {
                            throw new RespProtocolException("Protocol error: invalid boolean");
                        }
                        pos = next;
                    }
                    case '_' -> {
                        if (lineEnd != lineStart) {
                            throw new RespProtocolException("Protocol error: invalid null");
                        }
                        pos = next;
                    }
                    case '$', '!', '=' -> {
                        long n = Resp.parseHeaderNumber(buf, lineStart, lineEnd);
                        if (type == '$' && isMinusOne(buf, lineStart, lineEnd)) {
                            pos = next; // $-1: RESP2 null bulk string
                        } else if (n < 0 || n > limits.maxBulkLength() || n > Integer.MAX_VALUE - 2 - next) {
                            throw new RespProtocolException("Protocol error: invalid bulk length");
                        } else {
                            pos = next;
                            bulkEnd = next + (int) n;
                            continue;
                        }
                    }
                    case '*', '%', '~', '>', '|' -> {
                        long n = Resp.parseHeaderNumber(buf, lineStart, lineEnd);
                        if (type == '*' && isMinusOne(buf, lineStart, lineEnd)) {
                            pos = next; // *-1: RESP2 null array
                        } else if (n < 0 || n > Integer.MAX_VALUE) {
                            throw new RespProtocolException("Protocol error: invalid multibulk length");
                        } else {
                            if (depth >= limits.maxNestingDepth()) {
                                throw new RespProtocolException("Protocol error: nesting too deep");
                            }
                            pos = next;
                            long elements = type == '%' ? 2 * n : type == '|' ? 2 * n + 1 : n;
                            if (elements > 0) {
                                push(elements);
                                continue;
                            }
                        }
                    }
                    default -> throw new RespProtocolException(
                            "Protocol error: unknown reply type byte 0x" + Integer.toHexString(type & 0xff));
                }
                if (elementDone()) {
                    return finish();
                }
            }
        } catch (RespProtocolException e) {
            reset();
            throw e;
        }
    }

    /** Forgets any partial progress; the next {@link #scan} starts a new reply. */
    public void reset() {
        pos = 0;
        scanned = 0;
        bulkEnd = -1;
        depth = 0;
    }

    /**
     * Returns the offset of the CR ending the line that starts at {@link #pos} once the LF after it has
     * arrived too, or -1 if more input is needed. Resumes where the previous search stopped.
     */
    private int findLineEnd(ByteBuf buf, int base, int avail, byte type) {
        long maxLine = switch (type) {
            case '+', '-', ',', '(' -> limits.maxBulkLength();
            default -> MAX_NUMBER_LINE;
        };
        int from = Math.max(scanned, pos + 1);
        long lastCr = pos + 1 + maxLine; // the furthest offset the CR may have
        int to = (int) Math.min(avail, lastCr + 1);
        int cr = -1;
        if (maxLine == MAX_NUMBER_LINE) {
            // Number lines are a few bytes: a plain loop beats indexOf's setup.
            for (int i = base + from, end = base + to; i < end; i++) {
                if (buf.getByte(i) == Resp.CR) {
                    cr = i;
                    break;
                }
            }
        } else if (from < to) {
            cr = buf.indexOf(base + from, base + to, Resp.CR);
        }
        if (cr < 0) {
            if (avail > lastCr) {
                throw new RespProtocolException(maxLine == MAX_NUMBER_LINE
                        ? "Protocol error: invalid length or number line"
                        : "Protocol error: too big reply line");
            }
            scanned = Math.max(from, to);
            return -1;
        }
        cr -= base;
        scanned = cr;
        if (cr + 1 >= avail) {
            return -1;
        }
        if (buf.getByte(base + cr + 1) != Resp.LF) {
            throw new RespProtocolException("Protocol error: expected LF after CR");
        }
        return cr;
    }

    private static boolean isMinusOne(ByteBuf buf, int from, int to) {
        return to - from == 2 && buf.getByte(from) == '-' && buf.getByte(from + 1) == '1';
    }

    private void push(long elements) {
        if (depth == remaining.length) {
            remaining = Arrays.copyOf(remaining, Math.min(2 * depth, limits.maxNestingDepth()));
        }
        remaining[depth++] = elements;
    }

    /** One element has ended: closes every aggregate it completes; true when the whole reply has ended. */
    private boolean elementDone() {
        while (depth > 0) {
            if (--remaining[depth - 1] > 0) {
                return false;
            }
            depth--;
        }
        return true;
    }

    private int finish() {
        int length = pos;
        reset();
        return length;
    }
}
