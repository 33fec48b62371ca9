package io.cacheproxy.proxy.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Exposes the per-loop {@link CommandStats} at scrape time as {@code cacheproxy_commands_total
 * {command,result}} and the {@code cacheproxy_command_seconds} histogram, summing over event loops.
 * Registered directly with the Prometheus registry under Micrometer's, so they appear in the same
 * {@code /metrics} text. Thread-safe.
 */
final class CommandMetricsCollector implements MultiCollector {
    private final List<String> commandNames;
    private final double[] bucketBoundsSeconds;
    private final List<CommandStats> loops = new CopyOnWriteArrayList<>();

    CommandMetricsCollector(List<String> commandNames, long[] bucketBoundsNanos) {
        this.commandNames = List.copyOf(commandNames);
        this.bucketBoundsSeconds = new double[bucketBoundsNanos.length + 1];
        for (int i = 0; i < bucketBoundsNanos.length; i++) {
            bucketBoundsSeconds[i] = bucketBoundsNanos[i] / 1e9;
        }
        bucketBoundsSeconds[bucketBoundsNanos.length] = Double.POSITIVE_INFINITY;
    }

    void add(CommandStats stats) {
        loops.add(stats);
    }

    @Override
    public MetricSnapshots collect() {
        CounterSnapshot.Builder commands = CounterSnapshot.builder()
                .name("cacheproxy_commands")
                .help("Commands answered, by command and result (ok or error reply)");
        int n = commandNames.size();
        long[] ok = new long[n];
        long[] errors = new long[n];
        long[] buckets = new long[bucketBoundsSeconds.length];
        long sumNanos = 0;
        for (CommandStats stats : loops) {
            for (int i = 0; i < n; i++) {
                ok[i] += stats.ok[i];
                errors[i] += stats.errors[i];
            }
            for (int b = 0; b < buckets.length; b++) {
                buckets[b] += stats.latencyBuckets[b];
            }
            sumNanos += stats.latencySumNanos;
        }
        for (int i = 0; i < n; i++) {
            if (ok[i] != 0) {
                commands.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                        .labels(Labels.of("command", commandNames.get(i), "result", "ok")).value(ok[i]).build());
            }
            if (errors[i] != 0) {
                commands.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                        .labels(Labels.of("command", commandNames.get(i), "result", "error")).value(errors[i]).build());
            }
        }
        // ClassicHistogramBuckets takes per-bucket counts and writes them cumulatively
        HistogramSnapshot latency = HistogramSnapshot.builder()
                .name("cacheproxy_command_seconds")
                .help("Time from reading a command to its reply being ready to write")
                .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(bucketBoundsSeconds, buckets))
                        .sum(sumNanos / 1e9)
                        .build())
                .build();
        return MetricSnapshots.of(commands.build(), latency);
    }
}
