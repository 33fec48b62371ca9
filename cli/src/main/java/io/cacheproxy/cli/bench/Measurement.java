package io.cacheproxy.cli.bench;

import org.HdrHistogram.Histogram;

/**
 * What {@link LoadGenerator} measured, merged over its event loop threads: raw counts and histograms
 * (nanoseconds), before any rounding or derived rates.
 *
 * @param transport     the Netty transport used
 * @param nanos         the length of the measured interval
 * @param reads         latencies of measured GETs
 * @param writes        latencies of measured SETs
 * @param errors        measured error replies
 * @param hits          measured GETs that found a value
 * @param misses        measured GETs that found none
 * @param firstError    the first error reply's text, or null
 * @param prefillKeys   keys SET by the prefill, 0 without one
 * @param prefillNanos  how long the prefill took
 * @param prefillErrors error replies to the prefill
 */
record Measurement(String transport, long nanos, Histogram reads, Histogram writes, long errors, long hits,
        long misses, String firstError, long prefillKeys, long prefillNanos, long prefillErrors) {

    long requests() {
        return reads.getTotalCount() + writes.getTotalCount();
    }
}
