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
 * least 1) and exceeds its invalidation count: a key written more often than it is read would only
 * churn L1, so it stays out by itself.
 *
 * <p>Thread-safe without locks: counters are plain ints that every event loop increments; a lost
 * increment under a race only makes an estimate slightly low, and count-min never under-counts
 * otherwise. Fixed memory: {@value #WIDTH} × 4 ints per sketch.
 */
final class HotKeySketch {
    private static final int BITS = 14;
    static final int WIDTH = 1 << BITS;
    private static final int DEPTH = 4;
    private static final int[] SEEDS = {0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F};
    private static final long AGING_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final int[] reads = new int[WIDTH * DEPTH];
    private final int[] invalidations = new int[WIDTH * DEPTH];
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

    int readEstimate(int hash) {
        return estimate(reads, hash);
    }

    private static int increment(int[] counters, int hash) {
        int min = Integer.MAX_VALUE;
        for (int row = 0; row < DEPTH; row++) {
            int i = index(hash, row);
            int v = counters[i];
            if (v != Integer.MAX_VALUE) {
                counters[i] = ++v;
            }
            min = Math.min(min, v);
        }
        return min;
    }

    private static int estimate(int[] counters, int hash) {
        int min = Integer.MAX_VALUE;
        for (int row = 0; row < DEPTH; row++) {
            min = Math.min(min, counters[index(hash, row)]);
        }
        return min;
    }

    private static int index(int hash, int row) {
        int h = hash * SEEDS[row];
        return row * WIDTH + (h >>> (32 - BITS));
    }

    /** Halves every counter once per period; the thread that wins the race does it. */
    private void age(long nowNanos) {
        long next = nextAgingNanos.get();
        if (nowNanos - next < 0 || !nextAgingNanos.compareAndSet(next, nowNanos + AGING_PERIOD_NANOS)) {
            return;
        }
        for (int i = 0; i < reads.length; i++) {
            reads[i] >>>= 1;
            invalidations[i] >>>= 1;
        }
    }
}
