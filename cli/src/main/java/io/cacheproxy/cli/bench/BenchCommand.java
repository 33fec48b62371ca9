package io.cacheproxy.cli.bench;

import io.cacheproxy.cli.Main;
import io.cacheproxy.cli.Terminal;
import io.cacheproxy.config.ConfigError;
import io.cacheproxy.config.ConfigException;
import io.cacheproxy.config.Durations;
import io.cacheproxy.config.HostAndPort;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cacheproxy bench}: GET/SET load against a Redis-protocol server, with a latency and
 * throughput report. See {@link LoadGenerator} for how the load is made, {@link BenchResult} for what
 * is reported.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "Load generator: GET/SET on keys key:0 .. key:<keys-1> with uniform or zipf popularity, "
                    + "pipelined, for a duration or a number of requests, against the proxy or any Redis server.",
            "Prints throughput, an HdrHistogram latency table (microseconds) and, with --cpu-pid, "
                    + "CPU per request of other processes. Exit codes: 0 ok, 1 runtime error, 2 usage error."},
        footer = {"", "Examples:",
            "  cacheproxy bench --target 127.0.0.1:6380 --duration 30s --pipeline 8",
            "  cacheproxy bench --prefill --keys 100000 --cpu-pid proxy=4242 --json",
            "  cacheproxy bench --requests 1000000 --info-stats 127.0.0.1:7001"})
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--target", defaultValue = "127.0.0.1:6380", paramLabel = "HOST:PORT",
            description = "the server to load (default: ${DEFAULT-VALUE})")
    String target;

    @Option(names = "--clients", defaultValue = "50", paramLabel = "N",
            description = "connections (default: ${DEFAULT-VALUE})")
    int clients;

    @Option(names = "--pipeline", defaultValue = "1", paramLabel = "P",
            description = "requests in flight per connection (default: ${DEFAULT-VALUE})")
    int pipeline;

    @Option(names = "--duration", paramLabel = "DURATION",
            description = "length of the measured interval, e.g. 30s or 2m (default: 10s)")
    String duration;

    @Option(names = "--requests", paramLabel = "N",
            description = "measure this many requests instead of a duration")
    Long requests;

    @Option(names = "--warmup", defaultValue = "2s", paramLabel = "DURATION",
            description = "load sent but not measured before the interval (default: ${DEFAULT-VALUE})")
    String warmup;

    @Option(names = "--keys", defaultValue = "1000000", paramLabel = "N",
            description = "keyspace size (default: ${DEFAULT-VALUE})")
    int keys;

    @Option(names = "--distribution", defaultValue = "zipf", paramLabel = "uniform|zipf",
            description = "key popularity (default: ${DEFAULT-VALUE})")
    String distribution;

    @Option(names = "--zipf-exponent", defaultValue = "0.99", paramLabel = "S",
            description = "zipf skew: rank r has weight 1/r^S (default: ${DEFAULT-VALUE})")
    double zipfExponent;

    @Option(names = "--read-ratio", defaultValue = "0.95", paramLabel = "R",
            description = "fraction of requests that are GET, the rest SET (default: ${DEFAULT-VALUE})")
    double readRatio;

    @Option(names = "--value-size", defaultValue = "100", paramLabel = "BYTES",
            description = "SET value size (default: ${DEFAULT-VALUE})")
    int valueSize;

    @Option(names = "--prefill", description = "SET every key once before the warmup, so GETs hit")
    boolean prefill;

    @Option(names = "--cpu-pid", paramLabel = "NAME=PID",
            description = "report the CPU time of this process during the interval (repeatable)")
    Map<String, Long> cpuPids = new LinkedHashMap<>();

    @Option(names = "--info-stats", paramLabel = "HOST:PORT",
            description = "report how many commands this Redis server processed during the interval, "
                    + "from INFO stats (repeatable)")
    List<String> infoStats = new ArrayList<>();

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
            description = "event loop threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--transport", defaultValue = "auto", paramLabel = "auto|io_uring|epoll|nio",
            description = "Netty transport; auto is epoll, else nio (default: ${DEFAULT-VALUE})")
    String transport;

    @Option(names = "--json", description = "print the result as one JSON object instead of the table")
    boolean json;

    @Option(names = "--no-progress", description = "no progress line on stderr")
    boolean noProgress;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BenchPlan plan;
        List<BackendCommands> backends = new ArrayList<>();
        try {
            plan = plan();
            for (String address : infoStats) {
                backends.add(new BackendCommands(parse("--info-stats", address, HostAndPort::parse)));
            }
        } catch (IllegalArgumentException e) {
            return fail(err, e.getMessage(), Main.EXIT_USAGE);
        }
        List<ProcessCpu> cpu = new ArrayList<>();
        try {
            cpu.add(ProcessCpu.self());
        } catch (BenchFailure e) {
            // no /proc (not Linux): no CPU row for this process
        }
        try {
            for (Map.Entry<String, Long> entry : cpuPids.entrySet()) {
                cpu.add(new ProcessCpu(entry.getKey(), entry.getValue()));
            }
        } catch (BenchFailure e) {
            return fail(err, "--cpu-pid: " + e.getMessage(), Main.EXIT_USAGE);
        }
        List<IntervalCounter> counters = new ArrayList<>(cpu);
        counters.addAll(backends);
        try {
            ProgressLine progress = new ProgressLine(err, !noProgress && Terminal.isTerminal());
            Measurement measurement = new LoadGenerator(plan, counters, progress).run();
            BenchResult result = BenchResult.of(plan, measurement, cpu, backends);
            if (json) {
                out.println(BenchReport.json(result));
                out.flush();
            } else {
                BenchReport.table(result, out);
            }
            return Main.EXIT_OK;
        } catch (BenchFailure e) {
            return fail(err, e.getMessage(), Main.EXIT_RUNTIME);
        }
    }

    BenchPlan plan() {
        if (duration != null && requests != null) {
            throw new IllegalArgumentException("--duration and --requests: give one of them, not both");
        }
        Duration length = duration == null ? Duration.ofSeconds(10) : parse("--duration", duration, Durations::parse);
        return new BenchPlan(parse("--target", target, HostAndPort::parse), clients, pipeline, threads,
                transport(), length, requests == null ? 0 : positive("--requests", requests),
                parse("--warmup", warmup, Durations::parse), keys, BenchPlan.Distribution.parse(distribution),
                zipfExponent, readRatio, valueSize, prefill);
    }

    private String transport() {
        return switch (transport) {
            case "auto", "io_uring", "epoll", "nio" -> transport;
            default -> throw new IllegalArgumentException(
                    BenchPlan.invalid("--transport", transport, "auto, io_uring, epoll or nio"));
        };
    }

    private static long positive(String option, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(BenchPlan.invalid(option, value, ">= 1"));
        }
        return value;
    }

    /** Parses with a config parser, naming the option instead of the config key in the message. */
    private static <T> T parse(String option, String text, Function<String, T> parser) {
        try {
            return parser.apply(text);
        } catch (ConfigException e) {
            ConfigError error = e.errors().get(0);
            throw new IllegalArgumentException(new ConfigError(option, error.value(), error.reason()).toString(), e);
        }
    }

    private static int fail(PrintWriter err, String message, int exitCode) {
        err.println("cacheproxy bench: " + message);
        err.flush();
        return exitCode;
    }
}
