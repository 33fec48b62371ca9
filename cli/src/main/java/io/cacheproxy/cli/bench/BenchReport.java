package io.cacheproxy.cli.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cacheproxy.cli.bench.BenchResult.Backend;
import io.cacheproxy.cli.bench.BenchResult.Cpu;
import io.cacheproxy.cli.bench.BenchResult.Latency;
import io.cacheproxy.cli.bench.BenchResult.Settings;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** Prints a {@link BenchResult} as the human-readable table, or as one line of JSON for {@code --json}. */
final class BenchReport {

    private static final ObjectMapper JSON = new ObjectMapper();

    private BenchReport() {
    }

    /** The result as one JSON object on one line (so runs can be appended to a {@code .jsonl} file). */
    static String json(BenchResult result) {
        try {
            return JSON.writeValueAsString(result);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void table(BenchResult r, PrintWriter out) {
        Settings s = r.settings();
        out.printf("cacheproxy bench -> %s  (%s, %d thread%s)%n", s.target(), s.transport(), s.threads(),
                s.threads() == 1 ? "" : "s");
        out.printf("  %,d clients x pipeline %d, %s over %,d keys, %.0f%% GET, %,d-byte values, warmup %.1fs%n",
                s.clients(), s.pipeline(), s.zipfExponent() == null ? s.distribution() : "zipf(" + s.zipfExponent() + ")",
                s.keys(), s.readRatio() * 100, s.valueSize(), s.warmupSeconds());
        if (r.prefill() != null) {
            out.printf("  prefill: %,d keys in %.2fs, %,d errors%n", r.prefill().keys(), r.prefill().seconds(),
                    r.prefill().errors());
        }
        out.println();
        out.printf("requests  %,14d in %.2fs   %,.0f ops/s%n", r.requests(), r.seconds(), r.opsPerSec());
        out.printf("errors    %,14d%s%n", r.errors(), r.firstError() == null ? "" : "   first: " + r.firstError());
        out.printf("GET       %,14d%s%n", r.reads(), r.hitRatio() == null ? ""
                : String.format("   hits %,d, misses %,d, hit ratio %.1f%%", r.hits(), r.misses(), r.hitRatio() * 100));
        out.printf("SET       %,14d%n", r.writes());
        out.println();
        out.printf("%-12s %12s %10s %10s %10s %10s %10s %10s%n",
                "latency us", "count", "mean", "p50", "p90", "p99", "p99.9", "max");
        latencyRow(out, "all", r.latencyUs().all());
        latencyRow(out, "GET", r.latencyUs().read());
        latencyRow(out, "SET", r.latencyUs().write());
        if (!r.cpu().isEmpty()) {
            out.println();
            out.printf("%-12s %12s %10s %10s %10s%n", "cpu", "pid", "seconds", "us/req", "cores");
            for (Cpu c : r.cpu()) {
                out.printf("%-12s %12d %10.2f %10.2f %10.2f%n", c.name(), c.pid(), c.seconds(), c.usPerRequest(),
                        c.utilization());
            }
        }
        if (!r.backendCommands().isEmpty()) {
            out.println();
            out.printf("%-25s %14s %10s%n", "backend commands", "commands", "per req");
            for (Backend b : r.backendCommands()) {
                out.printf("%-25s %,14d %10.3f%n", b.address(), b.commands(), b.perRequest());
            }
        }
        out.flush();
    }

    private static void latencyRow(PrintWriter out, String name, Latency l) {
        if (l.count() == 0) {
            out.printf("%-12s %12s %10s %10s %10s %10s %10s %10s%n", name, "0", "-", "-", "-", "-", "-", "-");
        } else {
            out.printf("%-12s %,12d %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f%n", name, l.count(), l.mean(), l.p50(),
                    l.p90(), l.p99(), l.p999(), l.max());
        }
    }
}
