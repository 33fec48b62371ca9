package io.cacheproxy.proxy.l1;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.util.Arrays;

/**
 * A Redis key as L1 knows it: its bytes, copied out of the request or the invalidation message (so
 * no socket buffer is kept), and their hash. Immutable.
 *
 * <p>The first 16 bytes are also kept in two longs, so that comparing two keys of up to 16 bytes
 * (most keys) reads no array: a lookup in a cache of a million keys is bound by memory loads, and
 * the key's array is one more a hit would wait for.
 */
public final class CacheKey {
    private final byte[] bytes;
    private final int hash;
    private final long head0;
    private final long head1;
    private final int length;

    private CacheKey(byte[] bytes) {
        this(bytes, spread(Arrays.hashCode(bytes)));
    }

    private CacheKey(byte[] bytes, int hash) {
        this.bytes = bytes;
        this.hash = hash;
        this.head0 = pack(bytes, 0);
        this.head1 = pack(bytes, 8);
        this.length = bytes.length;
    }

    /** Bytes {@code [from, from + 8)} of {@code b} (zeros past its end), big-endian. */
    private static long pack(byte[] b, int from) {
        long v = 0;
        for (int i = from; i < from + 8; i++) {
            v = v << 8 | (i < b.length ? b[i] & 0xff : 0);
        }
        return v;
    }

    /**
     * The hash a key of {@code buf[offset, offset + length)} has ({@link #hashCode()}), computed in
     * place: a read can be counted, and found cold, without copying its key.
     */
    public static int hashOf(ByteBuf buf, int offset, int length) {
        int h = 1;
        if (buf.hasMemoryAddress() && PlatformDependent.hasUnsafe()) {
            // straight from memory: ByteBuf.getByte checks bounds and liveness on every byte
            long address = buf.memoryAddress() + offset;
            for (int i = 0; i < length; i++) {
                h = 31 * h + PlatformDependent.getByte(address + i);
            }
        } else {
            for (int i = offset, end = offset + length; i < end; i++) {
                h = 31 * h + buf.getByte(i);
            }
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
        return length;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CacheKey other) || other.hash != hash || other.head0 != head0 || other.head1 != head1) {
            return false;
        }
        // equal heads: keys of up to 16 bytes are equal when their lengths are
        return other.length == length && (length <= 16 || Arrays.equals(other.bytes, bytes));
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
