package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;

/**
 * Writes replies and commands as exact RESP bytes, appending to a caller-owned {@code ByteBuf}. Nothing
 * here allocates except {@link #writeDouble} (rare) and buffer growth. Where RESP3 has a type that RESP2
 * lacks, the {@link RespVersion} argument selects Redis 7.0's RESP2 fallback, so a reply written for a
 * RESP2 client is byte-identical to the one Redis would send it.
 *
 * <p>Simple strings and errors cannot contain CR or LF; like Redis's {@code addReplyError}, the writers
 * replace them with spaces rather than emit a broken frame.
 */
public final class RespWriter {

    private static final byte[] MIN_LONG = Long.toString(Long.MIN_VALUE).getBytes(StandardCharsets.US_ASCII);
    private static final MathContext G17 = new MathContext(17, RoundingMode.HALF_EVEN);

    private RespWriter() {
    }

    /** {@code +s\r\n}. */
    public static void writeSimpleString(ByteBuf out, CharSequence s) {
        out.writeByte('+');
        writeLine(out, s);
    }

    /** {@code -msg\r\n}; {@code msgWithoutDash} is e.g. {@code "ERR unknown command"}. */
    public static void writeError(ByteBuf out, CharSequence msgWithoutDash) {
        out.writeByte('-');
        writeLine(out, msgWithoutDash);
    }

    /** {@code :v\r\n}. */
    public static void writeInteger(ByteBuf out, long v) {
        writeLengthHeader(out, (byte) ':', v);
    }

    /** {@code $len\r\nb\r\n}. */
    public static void writeBulk(ByteBuf out, byte[] b) {
        writeLengthHeader(out, (byte) '$', b.length);
        out.writeBytes(b).writeShort(Resp.CRLF_SHORT);
    }

    /** {@code $len\r\nb\r\n} with the readable bytes of {@code b}, which is neither consumed nor released. */
    public static void writeBulk(ByteBuf out, ByteBuf b) {
        int len = b.readableBytes();
        writeLengthHeader(out, (byte) '$', len);
        out.writeBytes(b, b.readerIndex(), len).writeShort(Resp.CRLF_SHORT);
    }

    /** {@code $len\r\ns\r\n} with {@code s} encoded as UTF-8. */
    public static void writeBulk(ByteBuf out, CharSequence s) {
        writeLengthHeader(out, (byte) '$', ByteBufUtil.utf8Bytes(s));
        ByteBufUtil.writeUtf8(out, s);
        out.writeShort(Resp.CRLF_SHORT);
    }

    /** The null reply: {@code $-1\r\n} (RESP2 null bulk) or {@code _\r\n} (RESP3). */
    public static void writeNull(ByteBuf out, RespVersion v) {
        if (v == RespVersion.RESP3) {
            out.writeByte('_').writeShort(Resp.CRLF_SHORT);
        } else {
            out.writeByte('$').writeByte('-').writeByte('1').writeShort(Resp.CRLF_SHORT);
        }
    }

    /** The null array: {@code *-1\r\n} (RESP2) or {@code _\r\n} (RESP3). */
    public static void writeNullArray(ByteBuf out, RespVersion v) {
        if (v == RespVersion.RESP3) {
            out.writeByte('_').writeShort(Resp.CRLF_SHORT);
        } else {
            out.writeByte('*').writeByte('-').writeByte('1').writeShort(Resp.CRLF_SHORT);
        }
    }

    /** {@code *n\r\n}; {@code n} elements must follow. */
    public static void writeArrayHeader(ByteBuf out, int n) {
        writeLengthHeader(out, (byte) '*', checkCount(n));
    }

    /** {@code %pairs\r\n} (RESP3) or {@code *(2 * pairs)\r\n} (RESP2); 2 * pairs elements must follow. */
    public static void writeMapHeader(ByteBuf out, RespVersion v, int pairs) {
        checkCount(pairs);
        if (v == RespVersion.RESP3) {
            writeLengthHeader(out, (byte) '%', pairs);
        } else {
            writeLengthHeader(out, (byte) '*', 2L * pairs);
        }
    }

    /** {@code ~n\r\n} (RESP3) or {@code *n\r\n} (RESP2). */
    public static void writeSetHeader(ByteBuf out, RespVersion v, int n) {
        writeLengthHeader(out, v == RespVersion.RESP3 ? (byte) '~' : (byte) '*', checkCount(n));
    }

    /** {@code >n\r\n} (RESP3) or {@code *n\r\n} (RESP2, as Redis sends pub/sub messages). */
    public static void writePushHeader(ByteBuf out, RespVersion v, int n) {
        writeLengthHeader(out, v == RespVersion.RESP3 ? (byte) '>' : (byte) '*', checkCount(n));
    }

    /** {@code |pairs\r\n}: an attribute map, followed by 2 * pairs elements and the value it annotates. */
    public static void writeAttributeHeader(ByteBuf out, int pairs) {
        writeLengthHeader(out, (byte) '|', checkCount(pairs));
    }

    /**
     * A double the way Redis 7.0's {@code addReplyDouble} writes it: RESP3 {@code ,1.5\r\n},
     * {@code ,inf}, {@code ,-inf}, {@code ,nan}; RESP2 a bulk string of the same text. Finite values use
     * C's {@code %.17g} (17 significant digits, so {@code 0.1} is {@code 0.10000000000000001}), which
     * reads back as exactly the same double.
     */
    public static void writeDouble(ByteBuf out, RespVersion v, double d) {
        String s = formatDouble(d);
        if (v == RespVersion.RESP3) {
            out.writeByte(',');
            out.writeCharSequence(s, StandardCharsets.US_ASCII);
            out.writeShort(Resp.CRLF_SHORT);
        } else {
            writeBulk(out, s);
        }
    }

    /** RESP3 {@code #t\r\n} / {@code #f\r\n}; RESP2 {@code :1\r\n} / {@code :0\r\n}. */
    public static void writeBoolean(ByteBuf out, RespVersion v, boolean b) {
        out.writeByte(v == RespVersion.RESP3 ? '#' : ':');
        out.writeByte(v == RespVersion.RESP3 ? (b ? 't' : 'f') : (b ? '1' : '0'));
        out.writeShort(Resp.CRLF_SHORT);
    }

    /**
     * RESP3 {@code =len\r\nfmt:text\r\n} (len counts the 4 format bytes); RESP2 a bulk string of the
     * text alone, as Redis does.
     *
     * @param format3 the three-letter format, {@code "txt"} or {@code "mkd"}
     */
    public static void writeVerbatim(ByteBuf out, RespVersion v, String format3, CharSequence text) {
        if (format3.length() != 3) {
            throw new IllegalArgumentException("format3: " + format3 + " (expected: 3 characters)");
        }
        if (v != RespVersion.RESP3) {
            writeBulk(out, text);
            return;
        }
        writeLengthHeader(out, (byte) '=', 4L + ByteBufUtil.utf8Bytes(text));
        out.writeCharSequence(format3, StandardCharsets.US_ASCII);
        out.writeByte(':');
        ByteBufUtil.writeUtf8(out, text);
        out.writeShort(Resp.CRLF_SHORT);
    }

    /** RESP3 big number {@code (digits\r\n}. */
    public static void writeBigNumber(ByteBuf out, CharSequence digits) {
        out.writeByte('(');
        writeLine(out, digits);
    }

    /** RESP3 blob error {@code !len\r\nb\r\n}. */
    public static void writeBlobError(ByteBuf out, byte[] b) {
        writeLengthHeader(out, (byte) '!', b.length);
        out.writeBytes(b).writeShort(Resp.CRLF_SHORT);
    }

    /** A command as a RESP array of bulk strings, each argument encoded as UTF-8. */
    public static void writeCommand(ByteBuf out, String... args) {
        writeArrayHeader(out, args.length);
        for (String a : args) {
            writeBulk(out, a);
        }
    }

    /** A command as a RESP array of bulk strings. */
    public static void writeCommand(ByteBuf out, byte[]... args) {
        writeArrayHeader(out, args.length);
        for (byte[] a : args) {
            writeBulk(out, a);
        }
    }

    /** {@code <type><n>\r\n}, the header of every length-prefixed type and of integers. */
    static void writeLengthHeader(ByteBuf out, byte type, long n) {
        if (n >= 0 && n < 10) {
            out.writeByte(type).writeByte('0' + (int) n).writeShort(Resp.CRLF_SHORT);
            return;
        }
        out.writeByte(type);
        writeDecimal(out, n);
        out.writeShort(Resp.CRLF_SHORT);
    }

    /** ASCII decimal digits of {@code v}, written without allocating. */
    static void writeDecimal(ByteBuf out, long v) {
        if (v == Long.MIN_VALUE) {
            out.writeBytes(MIN_LONG);
            return;
        }
        int len = RespRequest.decimalLength(v);
        out.ensureWritable(len);
        int start = out.writerIndex();
        int i = start + len;
        if (v < 0) {
            out.setByte(start, '-');
            v = -v;
        }
        do {
            out.setByte(--i, (int) ('0' + v % 10));
            v /= 10;
        } while (v != 0);
        out.writerIndex(start + len);
    }

    /** {@code s} as UTF-8 with CR and LF replaced by spaces, then CRLF. */
    private static void writeLine(ByteBuf out, CharSequence s) {
        int start = out.writerIndex();
        ByteBufUtil.writeUtf8(out, s);
        int end = out.writerIndex();
        for (int i = start; i < end; i++) {
            byte b = out.getByte(i);
            if (b == Resp.CR || b == Resp.LF) {
                out.setByte(i, ' ');
            }
        }
        out.writeShort(Resp.CRLF_SHORT);
    }

    private static int checkCount(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n: " + n + " (expected: >= 0)");
        }
        return n;
    }

    /** C's {@code printf("%.17g", d)} as Redis 7.0 uses it, with "inf" / "-inf" / "nan". */
    static String formatDouble(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return Double.doubleToRawLongBits(d) < 0 ? "-0" : "0";
        }
        BigDecimal bd = new BigDecimal(d).round(G17);
        int exponent = bd.precision() - bd.scale() - 1;
        bd = bd.stripTrailingZeros();
        if (exponent >= -4 && exponent < 17) {
            return bd.toPlainString();
        }
        String digits = bd.unscaledValue().abs().toString();
        StringBuilder sb = new StringBuilder(digits.length() + 8);
        if (bd.signum() < 0) {
            sb.append('-');
        }
        sb.append(digits.charAt(0));
        if (digits.length() > 1) {
            sb.append('.').append(digits, 1, digits.length());
        }
        sb.append('e').append(exponent < 0 ? '-' : '+');
        int abs = Math.abs(exponent);
        if (abs < 10) {
            sb.append('0');
        }
        return sb.append(abs).toString();
    }
}
