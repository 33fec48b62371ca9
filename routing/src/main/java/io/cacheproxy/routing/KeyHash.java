package io.cacheproxy.routing;

import io.netty.buffer.ByteBuf;

/**
 * The hash that places keys on a {@link HashRing}: MurmurHash3 (x86, 32-bit, seed 0) of the key's
 * hash slice. The hash slice follows Redis Cluster's rule: if the key contains a {@code {} and a
 * later {@code }} with at least one byte between them, only the bytes between the first {@code {}
 * and the first {@code }} after it are hashed; otherwise the whole key is.
 *
 * <p>This function is part of the on-disk contract: changing it moves keys between nodes.
 */
public final class KeyHash {
    private KeyHash() {
    }

    public static int hash(byte[] key) {
        return hash(io.netty.buffer.Unpooled.wrappedBuffer(key), 0, key.length);
    }

    public static int hash(ByteBuf buf, int offset, int length) {
        long slice = hashSlice(buf, offset, length);
        int start = (int) (slice >>> 32);
        return murmur3(buf, start, (int) slice - start);
    }

    /**
     * The key's hash slice, Redis Cluster's rule (see the class comment), as
     * {@code start << 32 | end} (absolute indexes, end exclusive): no allocation on the hot path.
     */
    static long hashSlice(ByteBuf buf, int offset, int length) {
        int start = offset;
        int end = offset + length;
        int open = indexOf(buf, offset, end, (byte) '{');
        if (open >= 0) {
            int close = indexOf(buf, open + 1, end, (byte) '}');
            if (close > open + 1) {
                start = open + 1;
                end = close;
            }
        }
        return (long) start << 32 | end;
    }

    private static int indexOf(ByteBuf buf, int from, int to, byte value) {
        for (int i = from; i < to; i++) {
            if (buf.getByte(i) == value) {
                return i;
            }
        }
        return -1;
    }

    static int murmur3(ByteBuf buf, int offset, int length) {
        final int c1 = 0xcc9e2d51;
        final int c2 = 0x1b873593;
        int h = 0;
        int blocks = length >>> 2;
        for (int i = 0; i < blocks; i++) {
            int k = buf.getIntLE(offset + (i << 2));
            k *= c1;
            k = Integer.rotateLeft(k, 15);
            k *= c2;
            h ^= k;
            h = Integer.rotateLeft(h, 13);
            h = h * 5 + 0xe6546b64;
        }
        int tail = offset + (blocks << 2);
        int k = 0;
        switch (length & 3) {
            case 3:
                k ^= (buf.getByte(tail + 2) & 0xff) << 16;
            // fall through
            case 2:
                k ^= (buf.getByte(tail + 1) & 0xff) << 8;
            // fall through
            case 1:
                k ^= buf.getByte(tail) & 0xff;
                k *= c1;
                k = Integer.rotateLeft(k, 15);
                k *= c2;
                h ^= k;
            default:
                break;
        }
        h ^= length;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }
}
