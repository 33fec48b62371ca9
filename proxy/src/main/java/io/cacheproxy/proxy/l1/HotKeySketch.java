package io.cacheproxy.proxy.l1;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides which keys are hot enough for L1: two count-min sketches (depth 4), one of reads and one
 * of invalidations, whose counters are halved once a second (aging), so that a key read at a steady
 * {@code r} per second counts between {@code r} and {@code 2r} and a key that stops being read fades
 * within seconds.
 *
 * <p>A key is admitted when its read count reaches {@code l1.hot-keys.min-reads-per-second} (at
 * least 1) and exceeds its invalidation count: a key written as often as it is read would only
 * churn L1, so it stays out by itself.
 *
 * <p><b>Layout.</b> A key's four counters lie in one block of {@value #BLOCK} 16-bit counters (64
 * bytes, one cache line), each in its own quarter of the block, so a read costs one memory load;
 * {@value #BLOCKS} blocks give 2^16 counters per row (512 KB per sketch, which stays in a core's
 * cache better than a larger one: 2^18 measured slower at -P 16). Updates are conservative (only the
 * counters at the key's current minimum move), which keeps cold keys that share counters with hot
 * ones from looking hot; counters saturate at 65,535.
 *
 * <p>Thread-safe without locks: counters are plain values that every event loop updates; a lost
 * update under a race only makes an estimate slightly low. Fixed memory: 2 × 512 KB.
 */
final class HotKeySketch {
    static final int BLOCK = 32;
    static final int BLOCKS = 1 << 13;
    private static final int BLOCK_BITS = 13;
    private static final long AGING_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final short[] reads = new short[BLOCKS * BLOCK];
    private final short[] invalidations = new short[BLOCKS * BLOCK];
    private final int minReads;
    private final AtomicLong nextAgingNanos;

    HotKeySketch(int minReadsPerSecond, long nowNanos) {
        this.minReads = Math.max(1, minReadsPerSecond);
        this.nextAgingNanos = new AtomicLong(nowNanos + AGING_PERIOD_NANOS);
    }

    /** Counts one read of the key with {@code hash}; returns its read estimate after this read. */
    int recordRead(int hash, long nowNanos) {
        if (nowNanos - nextAgingNanos.get() >= 0) {
            age(nowNanos);
        }
        return increment(reads, hash);
    }

    void recordInvalidation(int hash) {
        increment(invalidations, hash);
    }

    /** Whether a key with this hash and {@code readEstimate} (from {@link #recordRead}) may enter L1. */
    boolean admits(int hash, int readEstimate) {
        return readEstimate >= minReads && readEstimate > estimate(invalidations, hash);
    }

    /** {@code l1.hot-keys.min-reads-per-second}, at least 1: the read estimate a key needs to be admitted. */
    int minReads() {
        return minReads;
    }

    int readEstimate(int hash) {
        return estimate(reads, hash);
    }

    /** Conservative update: raises the counters at the minimum by one; returns the new minimum. */
    private static int increment(short[] counters, int hash) {
        int base = base(hash);
        int i0 = base + slot(hash, 0);
        int i1 = base + slot(hash, 1);
        int i2 = base + slot(hash, 2);
        int i3 = base + slot(hash, 3);
        int min = Math.min(Math.min(counters[i0] & 0xffff, counters[i1] & 0xffff),
                Math.min(counters[i2] & 0xffff, counters[i3] & 0xffff));
        if (min == 0xffff) {
            return min;
        }
        short next = (short) (min + 1);
        if ((counters[i0] & 0xffff) == min) {
            counters[i0] = next;
        }
        if ((counters[i1] & 0xffff) == min) {
            counters[i1] = next;
        }
        if ((counters[i2] & 0xffff) == min) {
            counters[i2] = next;
        }
        if ((counters[i3] & 0xffff) == min) {
            counters[i3] = next;
        }
        return min + 1;
    }

    private static int estimate(short[] counters, int hash) {
        int base = base(hash);
        return Math.min(Math.min(counters[base + slot(hash, 0)] & 0xffff, counters[base + slot(hash, 1)] & 0xffff),
                Math.min(counters[base + slot(hash, 2)] & 0xffff, counters[base + slot(hash, 3)] & 0xffff));
    }

    /** The key's block: from the hash's high bits, re-mixed. */
    private static int base(int hash) {
        return ((hash * 0x9E3779B1) >>> (32 - BLOCK_BITS)) * BLOCK;
    }

    /** Row {@code row}'s counter in the block: one of the 8 in the row's quarter, from the hash's low bits. */
    private static int slot(int hash, int row) {
        return row * 8 + ((hash >>> (3 * row)) & 7);
    }

    /** Halves every counter once per period; the thread that wins the race does it. */
    private void age(long nowNanos) {
        long next = nextAgingNanos.get();
        if (nowNanos - next < 0 || !nextAgingNanos.compareAndSet(next, nowNanos + AGING_PERIOD_NANOS)) {
            return;
        }
        for (int i = 0; i < reads.length; i++) {
            reads[i] = (short) ((reads[i] & 0xffff) >>> 1);
            invalidations[i] = (short) ((invalidations[i] & 0xffff) >>> 1);
        }
    }
}
