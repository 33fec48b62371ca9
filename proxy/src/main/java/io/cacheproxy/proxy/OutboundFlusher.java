package io.cacheproxy.proxy;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Deferred flush, one per event loop: handlers only queue writes and mark their channel; tasks run
 * after the loop has processed every ready read flush the marked channels. Requests from many
 * clients thus reach a backend in one write, and replies for many requests of one client leave in
 * one write. Measured as the largest single gain of the data path (shared/DESIGN.md, "Performance").
 *
 * <p>Two horizons:
 * <ul>
 *   <li>{@link #flushThisPass} (client replies): flushed at the end of the pass that queued them, so
 *       a reply waits for nothing.
 *   <li>{@link #flushNextPass} (backend requests): flushed at the end of the <em>next</em> pass. The
 *       loop polls its sockets once more without blocking in between, so requests that arrived
 *       meanwhile join the same backend write. At -P 1 with 50 clients over 3 nodes this raised the
 *       commands per backend read from ~2.9 to ~4.1 (Redis's {@code total_reads_processed}), cut
 *       Redis's CPU per request, and lifted proxy throughput ~10–15% on a 2-core machine. Delaying
 *       client replies the same way measured worse, so they keep the short horizon.
 * </ul>
 *
 * <p>Confined to its event loop: every method must be called from that loop's thread.
 */
public final class OutboundFlusher {
    private final EventLoop loop;
    private final Batch thisPass = new Batch();
    private final Batch nextPass = new Batch();
    private boolean thisPassScheduled;
    /** 0: idle; 1: waiting for the end of this pass; 2: waiting for the end of the next pass. */
    private int nextPassStage;
    private final Runnable thisPassTask = this::runThisPass;
    private final Runnable nextPassTask = this::runNextPass;

    public OutboundFlusher(EventLoop loop) {
        this.loop = loop;
    }

    public EventLoop loop() {
        return loop;
    }

    /** Something that has queued writes; {@link #flushNow()} flushes them (and clears its own mark). */
    @FunctionalInterface
    public interface Flushable {
        void flushNow();
    }

    /**
     * Flushes {@code target} at the end of this loop pass. Callers keep their own "already marked"
     * flag so that a target is marked once per flush.
     */
    public void flushThisPass(Flushable target) {
        thisPass.add(target);
        if (!thisPassScheduled) {
            thisPassScheduled = true;
            loop.execute(thisPassTask);
        }
    }

    /** Flushes {@code target} at the end of the next loop pass (see the class comment). */
    public void flushNextPass(Flushable target) {
        nextPass.add(target);
        if (nextPassStage == 0) {
            nextPassStage = 1;
            loop.execute(nextPassTask);
        }
    }

    private void runThisPass() {
        thisPassScheduled = false;
        thisPass.flush();
    }

    private void runNextPass() {
        if (nextPassStage == 1) {
            // Tasks executed now would still run in this pass; a task scheduled with no delay is
            // taken only when the next pass starts, after the loop has polled its sockets, and it
            // also keeps that poll from blocking.
            nextPassStage = 2;
            loop.schedule(nextPassTask, 0, TimeUnit.NANOSECONDS);
            return;
        }
        nextPassStage = 0;
        nextPass.flush();
    }

    /** Marked targets; a flush can mark targets again, and they go to the other list. */
    private static final class Batch {
        private ArrayList<Flushable> marked = new ArrayList<>();
        private ArrayList<Flushable> flushing = new ArrayList<>();

        void add(Flushable target) {
            marked.add(target);
        }

        void flush() {
            ArrayList<Flushable> batch = marked;
            marked = flushing;
            flushing = batch;
            for (int i = 0, n = batch.size(); i < n; i++) {
                batch.get(i).flushNow();
            }
            batch.clear();
        }
    }
}
