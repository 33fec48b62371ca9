package io.cacheproxy.proxy.metrics;

/**
 * Command counts and latencies of one event loop, kept in plain arrays: the loop thread is the only
 * writer, so recording is a few array increments with no atomics and no Micrometer call on the hot
 * path. A scrape reads the arrays from another thread without synchronization; a value read there
 * may lag the loop by a moment, which is what a metric may do, and longs are read whole on the 64-bit
 * JVMs the proxy runs on.
 *
 * <p>Written only by its event loop; read by {@link CommandMetricsCollector}.
 */
public final class CommandStats {
    final long[] ok;
    final long[] errors;
    /** Count per latency bucket; the last one is +Inf. */
    final long[] latencyBuckets;
    long latencySumNanos;
    private final long[] bucketBoundsNanos;

    CommandStats(int commands, long[] bucketBoundsNanos) {
        this.ok = new long[commands];
        this.errors = new long[commands];
        this.bucketBoundsNanos = bucketBoundsNanos;
        this.latencyBuckets = new long[bucketBoundsNanos.length + 1];
    }

    /** Counts one command ({@code id} from {@link ProxyMetrics#commandId}) and its latency. */
    public void record(int id, boolean error, long nanos) {
        if (error) {
            errors[id]++;
        } else {
            ok[id]++;
        }
        int b = 0;
        long[] bounds = bucketBoundsNanos;
        while (b < bounds.length && nanos > bounds[b]) {
            b++;
        }
        latencyBuckets[b]++;
        latencySumNanos += nanos;
    }

    /** Counts a command without a latency (commands passed through a subscriber tunnel). */
    public void count(int id) {
        ok[id]++;
    }
}
