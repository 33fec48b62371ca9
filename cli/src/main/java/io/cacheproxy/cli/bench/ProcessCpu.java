package io.cacheproxy.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time (user + system) one process spends during the measured interval, read from
 * {@code /proc/<pid>/stat} (Linux). Fields 14 and 15 there are in clock ticks, {@code USER_HZ}, which is
 * 100 on every Linux ABI the JDK runs on; {@code sysconf(_SC_CLK_TCK)} is not reachable from Java.
 */
final class ProcessCpu extends IntervalCounter {

    static final double CLOCK_TICKS_PER_SECOND = 100;

    private final String name;
    private final long pid;

    /** Fails if the process cannot be read now, so a wrong PID is reported before the run. */
    ProcessCpu(String name, long pid) throws BenchFailure {
        this.name = name;
        this.pid = pid;
        sample();
    }

    /** This JVM. */
    static ProcessCpu self() throws BenchFailure {
        return new ProcessCpu("bench", ProcessHandle.current().pid());
    }

    String name() {
        return name;
    }

    long pid() {
        return pid;
    }

    /** CPU seconds between {@link #start()} and {@link #stop()}. */
    double seconds() {
        return delta() / CLOCK_TICKS_PER_SECOND;
    }

    @Override
    long sample() throws BenchFailure {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        try {
            return parseTicks(Files.readString(stat));
        } catch (IOException | RuntimeException e) {
            throw new BenchFailure("cannot read the CPU time of " + name + " (pid " + pid + ") from " + stat + ": "
                    + (Files.exists(stat) ? e.getMessage() : "no such process"));
        }
    }

    /**
     * utime + stime from a {@code /proc/<pid>/stat} line. The command name (field 2) is in parentheses
     * and may hold spaces and parentheses itself, so fields are counted after its last {@code ')'}.
     */
    static long parseTicks(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + stat);
        }
        // After ") ": field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
        String[] fields = stat.substring(close + 2).strip().split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
