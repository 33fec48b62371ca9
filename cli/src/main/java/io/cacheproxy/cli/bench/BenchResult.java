package io.cacheproxy.cli.bench;

import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * The outcome of one run, as printed: the table and {@code --json} are both made from this, so they
 * cannot disagree. Latencies are in microseconds. Field names are the JSON keys.
 *
 * @param settings        what ran
 * @param seconds         the measured interval
 * @param requests        measured requests (replies received in the interval to requests sent in it)
 * @param errors          error replies among them
 * @param firstError      the first error reply, or null
 * @param opsPerSec       requests per second
 * @param reads           GETs
 * @param writes          SETs
 * @param hits            GETs that found a value
 * @param misses          GETs that found none
 * @param hitRatio        hits / reads, or null without reads
 * @param latencyUs       per kind of request and overall
 * @param cpu             CPU time per process, this one first
 * @param backendCommands per {@code --info-stats} server
 * @param prefill         the prefill, or null without {@code --prefill}
 */
public record BenchResult(Settings settings, double seconds, long requests, long errors, String firstError,
        double opsPerSec, long reads, long writes, long hits, long misses, Double hitRatio, Latencies latencyUs,
        List<Cpu> cpu, List<Backend> backendCommands, Prefill prefill) {

    /** What ran; {@code durationSeconds} is null for a run of {@code requestLimit} requests, and the reverse. */
    public record Settings(String target, int clients, int pipeline, int threads, String transport, int keys,
            String distribution, Double zipfExponent, double readRatio, int valueSize, double warmupSeconds,
            Double durationSeconds, Long requestLimit) {
    }

    /** Percentiles of one kind of request, in microseconds; all 0 when {@code count} is 0. */
    public record Latency(long count, double mean, double p50, double p90, double p99, double p999, double max) {

        static Latency of(Histogram h) {
            if (h.getTotalCount() == 0) {
                return new Latency(0, 0, 0, 0, 0, 0, 0);
            }
            return new Latency(h.getTotalCount(), micros(h.getMean()), micros(h.getValueAtPercentile(50)),
                    micros(h.getValueAtPercentile(90)), micros(h.getValueAtPercentile(99)),
                    micros(h.getValueAtPercentile(99.9)), micros(h.getMaxValue()));
        }

        private static double micros(double nanos) {
            return round(nanos / 1_000, 1);
        }
    }

    /** Overall, GET and SET latencies. */
    public record Latencies(Latency all, Latency read, Latency write) {
    }

    /**
     * @param seconds      CPU seconds (user + system) in the interval
     * @param usPerRequest CPU microseconds per measured request
     * @param utilization  CPU seconds per second: 1.0 is one core busy
     */
    public record Cpu(String name, long pid, double seconds, double usPerRequest, double utilization) {
    }

    /** Commands that reached one server ({@code INFO stats}), in all and per measured request. */
    public record Backend(String address, long commands, double perRequest) {
    }

    public record Prefill(long keys, double seconds, long errors) {
    }

    static BenchResult of(BenchPlan plan, Measurement m, List<ProcessCpu> cpu, List<BackendCommands> backends) {
        double seconds = m.nanos() / 1e9;
        long requests = m.requests();
        Histogram all = m.reads().copy();
        all.add(m.writes());
        long reads = m.reads().getTotalCount();
        Settings settings = new Settings(plan.target().toString(), plan.clients(), plan.pipeline(), plan.threads(),
                m.transport(), plan.keys(), plan.distribution().toString(),
                plan.distribution() == BenchPlan.Distribution.ZIPF ? plan.zipfExponent() : null, plan.readRatio(),
                plan.valueSize(), plan.warmup().toMillis() / 1e3,
                plan.countsRequests() ? null : plan.duration().toMillis() / 1e3,
                plan.countsRequests() ? plan.requests() : null);
        return new BenchResult(settings, round(seconds, 3), requests, m.errors(), m.firstError(),
                round(perSecond(requests, seconds), 1), reads, m.writes().getTotalCount(), m.hits(), m.misses(),
                reads == 0 ? null : round((double) m.hits() / reads, 4),
                new Latencies(Latency.of(all), Latency.of(m.reads()), Latency.of(m.writes())),
                cpu.stream().map(p -> new Cpu(p.name(), p.pid(), round(p.seconds(), 2),
                        round(requests == 0 ? 0 : p.seconds() * 1e6 / requests, 2),
                        round(perSecond(p.seconds(), seconds), 3))).toList(),
                backends.stream().map(b -> new Backend(b.address().toString(), b.commands(),
                        round(requests == 0 ? 0 : (double) b.commands() / requests, 3))).toList(),
                m.prefillKeys() == 0 ? null
                        : new Prefill(m.prefillKeys(), round(m.prefillNanos() / 1e9, 3), m.prefillErrors()));
    }

    private static double perSecond(double count, double seconds) {
        return seconds <= 0 ? 0 : count / seconds;
    }

    static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }
}
