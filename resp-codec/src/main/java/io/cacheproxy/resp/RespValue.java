package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A neutral, immutable model of one RESP2/RESP3 reply, for the few places that must look inside a reply
 * (fan-out merges, the near cache) and for tests. The forwarding path never builds these: it moves
 * bytes found by {@link RespReplyScanner}.
 *
 * <p>{@link #read(ByteBuf, RespLimits)} parses exactly one reply; {@link #writeTo(ByteBuf)} writes its
 * wire form, keeping the RESP2 nulls ({@code $-1}, {@code *-1}) apart from the RESP3 null ({@code _}),
 * so {@code read(writeTo(v))} equals {@code v} and, for bytes written by {@code writeTo}, the round trip
 * is byte for byte. Values hold no {@code ByteBuf}s and need no release.
 */
public sealed interface RespValue {

    /** Appends this value's wire bytes to {@code out}. */
    void writeTo(ByteBuf out);

    /**
     * Parses exactly one reply at {@code in}'s reader index and moves the reader index past it. Returns
     * null, leaving the reader index untouched, if the reply is not complete yet.
     *
     * @throws RespProtocolException if the bytes are not a valid reply within {@code limits}
     */
    static RespValue read(ByteBuf in, RespLimits limits) {
        int length = new RespReplyScanner(limits).scan(in);
        if (length < 0) {
            return null;
        }
        RespValueReader reader = new RespValueReader(in, in.readerIndex());
        RespValue value = reader.read();
        if (reader.pos != in.readerIndex() + length) {
            throw new IllegalStateException("scanner and reader disagree");
        }
        in.skipBytes(length);
        return value;
    }

    /** {@code +value}. */
    record SimpleString(String value) implements RespValue {
        public SimpleString {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeSimpleString(out, value);
        }
    }

    /** {@code -message}, e.g. {@code "ERR unknown command"}. */
    record ErrorValue(String message) implements RespValue {
        public ErrorValue {
            Objects.requireNonNull(message, "message");
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeError(out, message);
        }
    }

    /** {@code :value}. */
    record IntegerValue(long value) implements RespValue {
        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeInteger(out, value);
        }
    }

    /** {@code $len} bulk string; a null {@code value} is the RESP2 null bulk {@code $-1}. */
    record BulkString(byte[] value) implements RespValue {
        public static final BulkString NULL = new BulkString(null);

        public static BulkString of(String utf8) {
            return new BulkString(utf8.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void writeTo(ByteBuf out) {
            if (value == null) {
                RespWriter.writeNull(out, RespVersion.RESP2);
            } else {
                RespWriter.writeBulk(out, value);
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BulkString b && Arrays.equals(value, b.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return value == null ? "BulkString[null]" : "BulkString[" + printable(value) + "]";
        }
    }

    /** {@code *n} array; a null {@code elements} is the RESP2 null array {@code *-1}. */
    record ArrayValue(List<RespValue> elements) implements RespValue {
        public static final ArrayValue NULL = new ArrayValue(null);

        public ArrayValue {
            elements = elements == null ? null : List.copyOf(elements);
        }

        @Override
        public void writeTo(ByteBuf out) {
            if (elements == null) {
                RespWriter.writeNullArray(out, RespVersion.RESP2);
                return;
            }
            RespWriter.writeArrayHeader(out, elements.size());
            elements.forEach(e -> e.writeTo(out));
        }
    }

    /** The RESP3 null {@code _}. */
    record NullValue() implements RespValue {
        public static final NullValue INSTANCE = new NullValue();

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeNull(out, RespVersion.RESP3);
        }
    }

    /** RESP3 {@code #t} / {@code #f}. */
    record BooleanValue(boolean value) implements RespValue {
        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeBoolean(out, RespVersion.RESP3, value);
        }
    }

    /** RESP3 {@code ,double}, including {@code inf}, {@code -inf} and {@code nan}. */
    record DoubleValue(double value) implements RespValue {
        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeDouble(out, RespVersion.RESP3, value);
        }
    }

    /** RESP3 {@code (digits}, an integer of any size, kept as its decimal text. */
    record BigNumber(String value) implements RespValue {
        public BigNumber {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeBigNumber(out, value);
        }
    }

    /** RESP3 {@code !len} blob error. */
    record BlobError(byte[] value) implements RespValue {
        public BlobError {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeBlobError(out, value);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BlobError b && Arrays.equals(value, b.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "BlobError[" + printable(value) + "]";
        }
    }

    /** RESP3 {@code =len} verbatim string: a three-letter format ({@code txt}, {@code mkd}) and the text. */
    record Verbatim(String format, byte[] text) implements RespValue {
        public Verbatim {
            Objects.requireNonNull(text, "text");
            if (format.length() != 3 || format.getBytes(StandardCharsets.UTF_8).length != 3) {
                throw new IllegalArgumentException("format: " + format + " (expected: 3 ASCII characters)");
            }
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeLengthHeader(out, (byte) '=', 4L + text.length);
            out.writeCharSequence(format, StandardCharsets.US_ASCII);
            out.writeByte(':').writeBytes(text).writeShort(Resp.CRLF_SHORT);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Verbatim v && format.equals(v.format) && Arrays.equals(text, v.text);
        }

        @Override
        public int hashCode() {
            return 31 * format.hashCode() + Arrays.hashCode(text);
        }

        @Override
        public String toString() {
            return "Verbatim[" + format + ", " + printable(text) + "]";
        }
    }

    /** RESP3 {@code %n} map, entries in wire order (keys may repeat; nothing is deduplicated). */
    record MapValue(List<Map.Entry<RespValue, RespValue>> entries) implements RespValue {
        public MapValue {
            entries = List.copyOf(entries);
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeMapHeader(out, RespVersion.RESP3, entries.size());
            writeEntries(out, entries);
        }
    }

    /** RESP3 {@code ~n} set, elements in wire order. */
    record SetValue(List<RespValue> elements) implements RespValue {
        public SetValue {
            elements = List.copyOf(elements);
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeSetHeader(out, RespVersion.RESP3, elements.size());
            elements.forEach(e -> e.writeTo(out));
        }
    }

    /** RESP3 {@code |n} attributes followed by the value they annotate; one reply on the wire. */
    record AttributeValue(List<Map.Entry<RespValue, RespValue>> attributes, RespValue value) implements RespValue {
        public AttributeValue {
            attributes = List.copyOf(attributes);
            Objects.requireNonNull(value, "value");
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writeAttributeHeader(out, attributes.size());
            writeEntries(out, attributes);
            value.writeTo(out);
        }
    }

    /** RESP3 {@code >n} push (pub/sub message, client-tracking invalidation). */
    record PushValue(List<RespValue> elements) implements RespValue {
        public PushValue {
            elements = List.copyOf(elements);
        }

        @Override
        public void writeTo(ByteBuf out) {
            RespWriter.writePushHeader(out, RespVersion.RESP3, elements.size());
            elements.forEach(e -> e.writeTo(out));
        }
    }

    private static void writeEntries(ByteBuf out, List<Map.Entry<RespValue, RespValue>> entries) {
        for (Map.Entry<RespValue, RespValue> e : entries) {
            e.getKey().writeTo(out);
            e.getValue().writeTo(out);
        }
    }

    private static String printable(byte[] b) {
        StringBuilder sb = new StringBuilder(Math.min(b.length, 64) + 8).append('"');
        for (int i = 0; i < Math.min(b.length, 64); i++) {
            int c = b[i] & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.append(b.length > 64 ? "\"..." : "\"").toString();
    }

    /** Builds the value of a reply the scanner has already framed and validated, by recursive descent. */
    final class RespValueReader {
        private final ByteBuf in;
        private int pos;

        private RespValueReader(ByteBuf in, int pos) {
            this.in = in;
            this.pos = pos;
        }

        RespValue read() {
            byte type = in.getByte(pos);
            int lineStart = pos + 1;
            int lineEnd = in.indexOf(lineStart, in.writerIndex(), Resp.CR);
            pos = lineEnd + 2;
            return switch (type) {
                case '+' -> new SimpleString(string(lineStart, lineEnd));
                case '-' -> new ErrorValue(string(lineStart, lineEnd));
                case ':' -> new IntegerValue(Resp.string2ll(in, lineStart, lineEnd));
                case '_' -> NullValue.INSTANCE;
                case '#' -> new BooleanValue(in.getByte(lineStart) == 't');
                case ',' -> new DoubleValue(parseDouble(string(lineStart, lineEnd)));
                case '(' -> new BigNumber(bigNumber(string(lineStart, lineEnd)));
                case '$' -> lineEnd - lineStart == 2 && in.getByte(lineStart) == '-'
                        ? BulkString.NULL : new BulkString(blob(lineStart, lineEnd));
                case '!' -> new BlobError(blob(lineStart, lineEnd));
                case '=' -> verbatim(blob(lineStart, lineEnd));
                case '*' -> lineEnd - lineStart == 2 && in.getByte(lineStart) == '-'
                        ? ArrayValue.NULL : new ArrayValue(list(count(lineStart, lineEnd)));
                case '~' -> new SetValue(list(count(lineStart, lineEnd)));
                case '>' -> new PushValue(list(count(lineStart, lineEnd)));
                case '%' -> new MapValue(entries(count(lineStart, lineEnd)));
                case '|' -> {
                    List<Map.Entry<RespValue, RespValue>> attributes = entries(count(lineStart, lineEnd));
                    yield new AttributeValue(attributes, read());
                }
                default -> throw new IllegalStateException("type " + type);
            };
        }

        private int count(int from, int to) {
            return (int) Resp.string2ll(in, from, to);
        }

        private List<RespValue> list(int n) {
            // The scanner saw all n elements, so n is bounded by the input size.
            List<RespValue> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(read());
            }
            return Collections.unmodifiableList(list);
        }

        private List<Map.Entry<RespValue, RespValue>> entries(int n) {
            List<Map.Entry<RespValue, RespValue>> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                RespValue k = read();
                list.add(Map.entry(k, read()));
            }
            return list;
        }

        private byte[] blob(int lineStart, int lineEnd) {
            int n = count(lineStart, lineEnd);
            byte[] b = new byte[n];
            in.getBytes(pos, b);
            pos += n + 2;
            return b;
        }

        private String string(int from, int to) {
            return in.toString(from, to - from, StandardCharsets.UTF_8);
        }

        private static RespValue verbatim(byte[] b) {
            if (b.length < 4 || b[3] != ':' || (b[0] | b[1] | b[2]) < 0) {
                throw new RespProtocolException("Protocol error: invalid verbatim string");
            }
            String format = new String(b, 0, 3, StandardCharsets.US_ASCII);
            return new Verbatim(format, Arrays.copyOfRange(b, 4, b.length));
        }

        private static String bigNumber(String s) {
            int i = s.startsWith("-") || s.startsWith("+") ? 1 : 0;
            if (i == s.length()) {
                throw new RespProtocolException("Protocol error: invalid big number");
            }
            for (; i < s.length(); i++) {
                if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                    throw new RespProtocolException("Protocol error: invalid big number");
                }
            }
            return s;
        }

        private static double parseDouble(String s) {
            switch (s) {
                case "inf", "+inf" -> {
                    return Double.POSITIVE_INFINITY;
                }
                case "-inf" -> {
                    return Double.NEGATIVE_INFINITY;
                }
                case "nan", "-nan" -> {
                    return Double.NaN;
                }
                default -> {
                    // Double.parseDouble also takes "NaN", "0x1p3", "1d" and spaces: RESP does not.
                    boolean digit = false;
                    for (int i = 0; i < s.length(); i++) {
                        char c = s.charAt(i);
                        if (c >= '0' && c <= '9') {
                            digit = true;
                        } else if (c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E') {
                            throw new RespProtocolException("Protocol error: invalid double");
                        }
                    }
                    try {
                        if (digit) {
                            return Double.parseDouble(s);
                        }
                    } catch (NumberFormatException e) {
                        // fall through
                    }
                    throw new RespProtocolException("Protocol error: invalid double");
                }
            }
        }
    }
}
