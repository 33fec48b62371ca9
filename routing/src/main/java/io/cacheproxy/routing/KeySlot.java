package io.cacheproxy.routing;

import io.netty.buffer.ByteBuf;

/**
 * Redis Cluster's key slot: CRC16 (XMODEM: polynomial 0x1021, initial 0) of the key's hash slice,
 * modulo 16384. The hash slice is the same as {@link KeyHash}'s, Redis Cluster's {@code {hash tag}}
 * rule. {@code type: cluster} pools route by it, so it must agree with {@code CLUSTER KEYSLOT}.
 */
public final class KeySlot {
    public static final int SLOTS = 16384;
    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            TABLE[i] = crc & 0xffff;
        }
    }

    private KeySlot() {
    }

    /** The slot of the key {@code buf[offset, offset + length)}. */
    public static int slot(ByteBuf buf, int offset, int length) {
        long slice = KeyHash.hashSlice(buf, offset, length);
        int start = (int) (slice >>> 32);
        int end = (int) slice;
        int crc = 0;
        for (int i = start; i < end; i++) {
            crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ buf.getByte(i)) & 0xff]) & 0xffff;
        }
        return crc & (SLOTS - 1);
    }

    public static int slot(byte[] key) {
        return slot(io.netty.buffer.Unpooled.wrappedBuffer(key), 0, key.length);
    }
}
