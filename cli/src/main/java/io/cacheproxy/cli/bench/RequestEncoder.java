package io.cacheproxy.cli.bench;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes {@code GET key:<n>} and {@code SET key:<n> <value>} as RESP arrays straight into a buffer: the
 * fixed parts are constant byte arrays and the key's digits are written in place, so a request costs
 * no {@code String}, no {@code byte[]} and no intermediate buffer. Every SET carries the same value
 * ({@code valueSize} bytes), encoded once. Immutable; shared by all connections.
 */
final class RequestEncoder {

    /** What every request starts with, up to the {@code $} of the key's length. */
    private static final byte[] GET = ascii("*2\r\n$3\r\nGET\r\n$");
    private static final byte[] SET = ascii("*3\r\n$3\r\nSET\r\n$");
    /** After the key's length: CRLF and the key name's fixed prefix. */
    private static final byte[] KEY_PREFIX = ascii("\r\nkey:");
    private static final int KEY_PREFIX_LENGTH = 4; // "key:"
    private static final short CRLF = ('\r' << 8) | '\n';
    /** The longest key part after the {@code $}: "14\r\nkey:2147483647\r\n". */
    private static final int MAX_KEY_BYTES = 2 + KEY_PREFIX.length + 10 + 2;

    /** {@code $<size>\r\n<value>\r\n}. */
    private final byte[] valueBulk;

    RequestEncoder(int valueSize) {
        if (valueSize < 0) {
            throw new IllegalArgumentException("valueSize: " + valueSize + " (expected: >= 0)");
        }
        byte[] header = ascii("$" + valueSize + "\r\n");
        valueBulk = Arrays.copyOf(header, header.length + valueSize + 2);
        for (int i = 0; i < valueSize; i++) {
            valueBulk[header.length + i] = (byte) ('a' + i % 26);
        }
        valueBulk[valueBulk.length - 2] = '\r';
        valueBulk[valueBulk.length - 1] = '\n';
    }

    /** An upper bound of the size of one request, for sizing a buffer. */
    int maxRequestBytes() {
        return SET.length + MAX_KEY_BYTES + valueBulk.length;
    }

    void writeGet(ByteBuf out, int key) {
        out.writeBytes(GET);
        writeKey(out, key);
    }

    void writeSet(ByteBuf out, int key) {
        out.writeBytes(SET);
        writeKey(out, key);
        out.writeBytes(valueBulk);
    }

    /** {@code <length>\r\nkey:<n>\r\n}, the {@code $} already written. */
    private static void writeKey(ByteBuf out, int key) {
        int digits = digits(key);
        writeDecimal(out, KEY_PREFIX_LENGTH + digits, digits(KEY_PREFIX_LENGTH + digits));
        out.writeBytes(KEY_PREFIX);
        writeDecimal(out, key, digits);
        out.writeShort(CRLF);
    }

    private static void writeDecimal(ByteBuf out, int value, int digits) {
        out.ensureWritable(digits);
        int end = out.writerIndex() + digits;
        for (int i = end - 1; i >= end - digits; i--) {
            out.setByte(i, '0' + value % 10);
            value /= 10;
        }
        out.writerIndex(end);
    }

    /** The number of decimal digits of a non-negative int. */
    static int digits(int value) {
        int digits = 1;
        for (long bound = 10; bound <= value; bound *= 10) {
            digits++;
        }
        return digits;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
