package io.cacheproxy.cli.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The counters and latency histograms of the connections on one event loop thread. Only that thread
 * writes them, so they are plain fields and plain {@link Histogram}s (no {@code Recorder}, no
 * atomics); the controller reads them after the connections are closed, which orders the reads after
 * every write. For the progress line, reply counts are also published with {@link #publish()}.
 */
final class LoopStats {

    /** Longer latencies are recorded as this; nothing on a working network takes a minute. */
    static final long MAX_LATENCY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final int SIGNIFICANT_DIGITS = 3;
    private static final int MAX_ERROR_TEXT = 200;

    final Histogram readNanos = newHistogram();
    final Histogram writeNanos = newHistogram();
    /** Measured error replies (first byte {@code -} or {@code !}). */
    long errors;
    /** Measured GETs answered with a value, and with a null. */
    long hits;
    long misses;
    /** Error replies to the prefill's SETs. */
    long prefillErrors;
    /** The first error reply counted above, without its type byte and CRLF; null if none. */
    String firstError;

    /** Replies of every phase (for the current rate), and measured replies. */
    long replies;
    long measuredReplies;
    private final AtomicLong publishedReplies = new AtomicLong();
    private final AtomicLong publishedMeasured = new AtomicLong();

    static Histogram newHistogram() {
        return new Histogram(MAX_LATENCY_NANOS, SIGNIFICANT_DIGITS);
    }

    void recordRead(long nanos) {
        readNanos.recordValue(Math.min(Math.max(nanos, 0), MAX_LATENCY_NANOS));
    }

    void recordWrite(long nanos) {
        writeNanos.recordValue(Math.min(Math.max(nanos, 0), MAX_LATENCY_NANOS));
    }

    void noteError(String text) {
        if (firstError == null) {
            firstError = text.length() > MAX_ERROR_TEXT ? text.substring(0, MAX_ERROR_TEXT) + "..." : text;
        }
    }

    /** Makes the reply counts visible to the progress line (an ordered store, no fence). */
    void publish() {
        publishedReplies.lazySet(replies);
        publishedMeasured.lazySet(measuredReplies);
    }

    /** The published count of replies of every phase; any thread. */
    long publishedReplies() {
        return publishedReplies.get();
    }

    /** The published count of measured replies; any thread. */
    long publishedMeasured() {
        return publishedMeasured.get();
    }
}
