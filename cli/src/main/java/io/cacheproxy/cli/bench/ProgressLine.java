package io.cacheproxy.cli.bench;

import java.io.PrintWriter;

/**
 * The one-line progress display on stderr: {@code measure [######......]  4.2s/10.0s  181,234 ops/s},
 * redrawn in place with a carriage return and erased at the end. The rate is of all replies (warmup
 * and prefill included) since the previous redraw. A disabled line prints nothing.
 */
final class ProgressLine {

    private static final int BAR_WIDTH = 24;

    private final PrintWriter err;
    private final boolean enabled;
    private long lastNanos;
    private long lastReplies;
    private double rate;
    private int shown;

    ProgressLine(PrintWriter err, boolean enabled) {
        this.err = err;
        this.enabled = enabled;
    }

    /**
     * @param label    the phase, e.g. {@code warmup}
     * @param fraction how far it is, 0 to 1
     * @param position the same in words, e.g. {@code 1.5s/2.0s}
     * @param replies  replies received so far, all phases
     */
    void show(String label, double fraction, String position, long replies) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (lastNanos != 0 && now > lastNanos) {
            rate = (replies - lastReplies) * 1e9 / (now - lastNanos);
        }
        lastNanos = now;
        lastReplies = replies;
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * BAR_WIDTH);
        String line = String.format("%-7s [%s%s] %s  %,.0f ops/s", label, "#".repeat(filled),
                ".".repeat(BAR_WIDTH - filled), position, rate);
        err.print("\r" + line + " ".repeat(Math.max(0, shown - line.length())));
        err.flush();
        shown = line.length();
    }

    /** Erases the line. */
    void clear() {
        if (shown > 0) {
            err.print("\r" + " ".repeat(shown) + "\r");
            err.flush();
            shown = 0;
        }
    }
}
