package io.cacheproxy.routing;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
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
    private final int maxLength;
    /** Per-thread scratch for the name being looked up (event-loop threads make this an array index). */
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[64];
        }
    };

    NameIndex(Map<String, V> entries) {
        int capacity = Integer.highestOneBit(Math.max(4, entries.size() * 2 - 1)) << 1;
        names = new byte[capacity][];
        values = new Object[capacity];
        mask = capacity - 1;
        int longest = 0;
        for (Map.Entry<String, V> e : entries.entrySet()) {
            byte[] name = e.getKey().toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
            int slot = hash(name) & mask;
            while (names[slot] != null) {
                slot = (slot + 1) & mask;
            }
            names[slot] = name;
            values[slot] = e.getValue();
            longest = Math.max(longest, name.length);
        }
        maxLength = longest;
    }

    /** The value for the name at {@code buf[offset, offset+length)}, ignoring ASCII case, or null. */
    @SuppressWarnings("unchecked")
    V get(ByteBuf buf, int offset, int length) {
        if (length > maxLength) {
            return null;
        }
        byte[] name = SCRATCH.get();   // one bounds-checked copy instead of a getByte per byte
        buf.getBytes(offset, name, 0, length);
        int h = 0;
        for (int i = 0; i < length; i++) {
            byte b = lower(name[i]);
            name[i] = b;
            h = 31 * h + b;
        }
        for (int slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
            byte[] candidate = names[slot];
            if (candidate == null) {
                return null;
            }
            if (candidate.length == length && java.util.Arrays.equals(candidate, 0, length, name, 0, length)) {
                return (V) values[slot];
            }
        }
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
