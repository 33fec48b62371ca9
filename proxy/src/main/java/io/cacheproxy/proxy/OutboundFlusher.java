package io.cacheproxy.proxy;

import io.netty.channel.EventLoop;
import java.util.ArrayList;

/**
 * Deferred flush, one per event loop: handlers only queue writes and mark their channel; a single
 * task, run after the loop has processed every ready read of this pass, flushes all marked channels.
 * Requests from many clients thus reach a backend in one write, and replies for many requests of one
 * client leave in one write. Measured as the largest single gain of the data path
 * (shared/DESIGN.md, "Performance").
 *
 * <p>Confined to its event loop: every method must be called from that loop's thread.
 */
public final class OutboundFlusher implements Runnable {
    private final EventLoop loop;
    private ArrayList<Flushable> marked = new ArrayList<>();
    private ArrayList<Flushable> flushing = new ArrayList<>();
    private boolean scheduled;

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
     * flag so that a target is marked once per pass.
     */
    public void mark(Flushable target) {
        marked.add(target);
        if (!scheduled) {
            scheduled = true;
            loop.execute(this);
        }
    }

    @Override
    public void run() {
        scheduled = false;
        // A flush can run listeners that mark channels again: they go to the other list.
        ArrayList<Flushable> batch = marked;
        marked = flushing;
        flushing = batch;
        for (int i = 0, n = batch.size(); i < n; i++) {
            batch.get(i).flushNow();
        }
        batch.clear();
    }
}
