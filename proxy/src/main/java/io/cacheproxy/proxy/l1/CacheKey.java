package io.cacheproxy.proxy.l1;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * A Redis key as L1 knows it: its bytes, copied out of the request or the invalidation message (so
 * no socket buffer is kept), and their hash. Immutable.
 */
public final class CacheKey {
    private final byte[] bytes;
    private final int hash;

    private CacheKey(byte[] bytes) {
        this(bytes, spread(Arrays.hashCode(bytes)));
    }

    private CacheKey(byte[] bytes, int hash) {
        this.bytes = bytes;
        this.hash = hash;
    }

    /**
     * The hash a key of {@code buf[offset, offset + length)} has ({@link #hashCode()}), computed in
     * place: a read can be counted, and found cold, without copying its key.
     */
    public static int hashOf(ByteBuf buf, int offset, int length) {
        int h = 1;
        for (int i = offset, end = offset + length; i < end; i++) {
            h = 31 * h + buf.getByte(i);
        }
        return spread(h);
    }

    /** A copy of {@code buf[offset, offset + length)} whose {@link #hashOf} is {@code hash}. */
    public static CacheKey of(ByteBuf buf, int offset, int length, int hash) {
        byte[] bytes = new byte[length];
        buf.getBytes(offset, bytes);
        return new CacheKey(bytes, hash);
    }

    /** Murmur3's finaliser: spreads a polynomial hash so that low and high bits both vary. */
    private static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }

    /** A copy of {@code buf[offset, offset + length)}. */
    public static CacheKey of(ByteBuf buf, int offset, int length) {
        byte[] bytes = new byte[length];
        buf.getBytes(offset, bytes);
        return new CacheKey(bytes);
    }

    /** Takes {@code bytes} as they are: the caller must not change them afterwards. */
    public static CacheKey wrap(byte[] bytes) {
        return new CacheKey(bytes);
    }

    /** The key's bytes; callers must not change them. */
    public byte[] bytes() {
        return bytes;
    }

    int length() {
        return bytes.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheKey other && other.hash == hash && Arrays.equals(other.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** Only the length: keys are user data and stay out of logs above TRACE. */
    @Override
    public String toString() {
        return "key(" + bytes.length + " bytes)";
    }
}
