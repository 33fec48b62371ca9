package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;

/** Wire constants and the number parsing shared by the decoders (Netty's {@code RedisConstants}). */
final class Resp {

    static final byte CR = '\r';
    static final byte LF = '\n';
    static final short CRLF_SHORT = ('\r' << 8) | '\n';

    /** Returned by {@link #parseHeaderNumber} for text that Redis's {@code string2ll} rejects. */
    static final long INVALID = Long.MIN_VALUE;

    /** {@code LONG_STR_SIZE} in Redis: {@code string2ll} rejects strings of this length or longer. */
    private static final int LONG_STR_SIZE = 21;

    private Resp() {
    }

    /**
     * Parses {@code buf[from, to)} as Redis's {@code string2ll} does (no sign but '-', no leading
     * zeros, no "-0", at most 20 characters, no overflow), for length and count headers. Returns
     * {@link #INVALID} where {@code string2ll} fails. A valid negative value comes back as -1: every
     * caller treats all negative counts alike, and this keeps {@link #INVALID} unambiguous.
     */
    static long parseHeaderNumber(ByteBuf buf, int from, int to) {
        int len = to - from;
        if (len <= 0 || len >= LONG_STR_SIZE) {
            return INVALID;
        }
        byte b = buf.getByte(from);
        if (b >= '1' && b <= '9' && len <= 18) {
            // Fast path: up to 18 digits cannot overflow.
            long v = b - '0';
            for (int i = from + 1; i < to; i++) {
                b = buf.getByte(i);
                if (b < '0' || b > '9') {
                    return INVALID;
                }
                v = v * 10 + (b - '0');
            }
            return v;
        }
        try {
            long v = string2ll(buf, from, to);
            return v < 0 ? -1 : v;
        } catch (NumberFormatException e) {
            return INVALID;
        }
    }

    /**
     * Parses {@code bytes[from, to)} like Redis's {@code string2ll}, returning the exact value.
     *
     * @throws NumberFormatException where {@code string2ll} fails
     */
    static long string2ll(ByteBuf buf, int from, int to) {
        int len = to - from;
        if (len <= 0 || len >= LONG_STR_SIZE) {
            throw notANumber(buf, from, to);
        }
        byte b = buf.getByte(from);
        if (len == 1 && b == '0') {
            return 0;
        }
        boolean negative = false;
        int i = from;
        if (b == '-') {
            negative = true;
            if (++i == to) {
                throw notANumber(buf, from, to);
            }
            b = buf.getByte(i);
        }
        if (b < '1' || b > '9') {
            throw notANumber(buf, from, to);
        }
        // Accumulate negatively so Long.MIN_VALUE fits.
        long v = -(b - '0');
        for (i++; i < to; i++) {
            b = buf.getByte(i);
            if (b < '0' || b > '9') {
                throw notANumber(buf, from, to);
            }
            int d = b - '0';
            if (v < (Long.MIN_VALUE + d) / 10) {
                throw notANumber(buf, from, to);
            }
            v = v * 10 - d;
        }
        if (!negative) {
            if (v == Long.MIN_VALUE) {
                throw notANumber(buf, from, to);
            }
            return -v;
        }
        return v;
    }

    private static NumberFormatException notANumber(ByteBuf buf, int from, int to) {
        int n = Math.min(Math.max(to - from, 0), 32);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            int c = buf.getByte(from + i) & 0xff;
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
        }
        return new NumberFormatException("not an integer: \"" + sb + (to - from > n ? "...\"" : "\""));
    }
}
