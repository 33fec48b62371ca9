package io.cacheproxy.cli.bench;

/**
 * A counter outside this process, sampled at both ends of the measured interval: a process's CPU
 * ticks, a Redis server's command count. Sampled on the controlling thread, never on an event loop.
 */
abstract class IntervalCounter {

    private long before;
    private long after;

    /** Reads the counter now; a failure ends the run. */
    abstract long sample() throws BenchFailure;

    /** Samples at the start of the measured interval. */
    final void start() throws BenchFailure {
        before = sample();
    }

    /** Samples at its end. */
    final void stop() throws BenchFailure {
        after = sample();
    }

    /** How much the counter grew in between. */
    final long delta() {
        return after - before;
    }
}
