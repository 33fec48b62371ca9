package io.cacheproxy.cli.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the controlling thread and the event loop threads share during one run: the phase, when the
 * measured interval began, the first failure, and the latches that tell the controller a phase is
 * over. Connections read {@link #phase()} once per read or write batch (a plain volatile load).
 */
final class RunState {

    /** The phases in order; a run may skip {@link #PREFILL} and {@link #WARMUP}. */
    enum Phase {
        /** Connections SET every key once; nothing is measured. */
        PREFILL,
        /** Load as in {@link #MEASURE}, but nothing is recorded. */
        WARMUP,
        /** Requests sent now are counted, and their replies recorded. */
        MEASURE,
        /** No more requests are sent and no replies recorded. */
        DONE
    }

    private volatile Phase phase = Phase.PREFILL;
    private volatile long measureStartNanos;
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final CountDownLatch prefilled;
    private final CountDownLatch finished;
    private final AtomicLong lastFinishNanos = new AtomicLong(Long.MIN_VALUE);

    RunState(int connections) {
        this.prefilled = new CountDownLatch(connections);
        this.finished = new CountDownLatch(connections);
    }

    Phase phase() {
        return phase;
    }

    /** Starts the measured interval now and returns its start ({@link System#nanoTime()}). */
    long startMeasuring() {
        long now = System.nanoTime();
        measureStartNanos = now;
        phase = Phase.MEASURE; // publishes measureStartNanos too
        return now;
    }

    long measureStartNanos() {
        return measureStartNanos;
    }

    void enter(Phase next) {
        phase = next;
    }

    /** Keeps the first failure only: later ones are usually its consequences. */
    void fail(String message) {
        failure.compareAndSet(null, message);
    }

    /** The first failure, or null. */
    String failure() {
        return failure.get();
    }

    /** A connection has SET its share of the keys and has every reply. */
    void prefillDone() {
        prefilled.countDown();
    }

    /** A connection has sent its share of {@code --requests} and has every reply, at {@code nanos}. */
    void connectionFinished(long nanos) {
        lastFinishNanos.accumulateAndGet(nanos, Math::max);
        finished.countDown();
    }

    /** When the last connection finished, or {@link Long#MIN_VALUE} while one is still running. */
    long lastFinishNanos() {
        return lastFinishNanos.get();
    }

    boolean awaitPrefilled(long timeout, TimeUnit unit) throws InterruptedException {
        return prefilled.await(timeout, unit);
    }

    boolean awaitFinished(long timeout, TimeUnit unit) throws InterruptedException {
        return finished.await(timeout, unit);
    }
}
