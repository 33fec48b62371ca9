package io.cacheproxy.routing;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * An immutable, case-insensitive map from ASCII names to values, looked up straight from the bytes
 * of a request so the hot path creates no {@code String}. Open addressing with linear probing, load
 * factor at most 1/2.
 */
final class NameIndex<V> {
    private final byte[][] names;
    private final Object[] values;
    private final int mask;

    NameIndex(Map<String, V> entries) {
        int capacity = Integer.highestOneBit(Math.max(4, entries.size() * 2 - 1)) << 1;
        names = new byte[capacity][];
        values = new Object[capacity];
        mask = capacity - 1;
        for (Map.Entry<String, V> e : entries.entrySet()) {
            byte[] name = e.getKey().toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
            int slot = hash(name) & mask;
            while (names[slot] != null) {
                slot = (slot + 1) & mask;
            }
            names[slot] = name;
            values[slot] = e.getValue();
        }
    }

    /** The value for the name at {@code buf[offset, offset+length)}, ignoring ASCII case, or null. */
    @SuppressWarnings("unchecked")
    V get(ByteBuf buf, int offset, int length) {
        int h = 0;
        for (int i = 0; i < length; i++) {
            h = 31 * h + lower(buf.getByte(offset + i));
        }
        for (int slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
            byte[] candidate = names[slot];
            if (candidate == null) {
                return null;
            }
            if (candidate.length == length && equalsIgnoreCase(candidate, buf, offset)) {
                return (V) values[slot];
            }
        }
    }

    private static boolean equalsIgnoreCase(byte[] lowerName, ByteBuf buf, int offset) {
        for (int i = 0; i < lowerName.length; i++) {
            if (lowerName[i] != lower(buf.getByte(offset + i))) {
                return false;
            }
        }
        return true;
    }

    private static int hash(byte[] lowerName) {
        int h = 0;
        for (byte b : lowerName) {
            h = 31 * h + b;
        }
        return mix(h);
    }

    private static int mix(int h) {
        return h ^ (h >>> 16);
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }
}
