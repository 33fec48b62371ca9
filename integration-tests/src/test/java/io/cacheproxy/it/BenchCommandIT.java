package io.cacheproxy.it;

import io.cacheproxy.it.CliRun.Outcome;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cacheproxy.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * {@code cacheproxy bench} against a real {@code redis-server}: short runs whose {@code --json} result
 * must add up (every measured request answered, every GET a hit after {@code --prefill}, the server's
 * own command count at least the measured requests), and the failures a user meets first.
 */
@Timeout(60)
class BenchCommandIT {

    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    /** Runs {@code cacheproxy bench args...} in this JVM, as registered in {@link Main}, output captured. */
    private static Outcome bench(String... args) {
        List<String> line = new ArrayList<>(List.of("bench", "--target", redis.address(), "--no-progress"));
        line.addAll(List.of(args));
        return CliRun.inProcess(line.toArray(String[]::new));
    }

    @Test
    void shouldMeasureAPrefilledGetSetMixForTwoSeconds() throws Exception {
        List<String> args = new ArrayList<>(List.of("--duration", "2s", "--warmup", "500ms", "--clients", "8",
                "--pipeline", "4", "--keys", "1000", "--prefill", "--read-ratio", "0.9", "--value-size", "64",
                "--info-stats", redis.address(), "--json"));
        boolean local = redis.fixture() instanceof LocalRedisServer;
        if (local) {
            args.addAll(List.of("--cpu-pid", "redis=" + ((LocalRedisServer) redis.fixture()).pid()));
        }
        Outcome outcome = bench(args.toArray(String[]::new));
        JsonNode r = outcome.json();
        assertThat(outcome.err()).isEmpty();

        long requests = r.path("requests").asLong();
        assertThat(requests).isPositive();
        assertThat(r.path("seconds").asDouble()).isBetween(1.9, 2.5);
        assertThat(r.path("opsPerSec").asDouble()).isCloseTo(requests / r.path("seconds").asDouble(),
                org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(r.path("errors").asLong()).isZero();
        assertThat(r.path("firstError").isNull()).isTrue();
        assertThat(r.path("reads").asLong() + r.path("writes").asLong()).isEqualTo(requests);
        assertThat(r.path("reads").asLong()).isGreaterThan(r.path("writes").asLong()).isPositive();
        assertThat(r.path("writes").asLong()).isPositive();
        assertThat(r.path("hits").asLong()).as("every key was prefilled").isEqualTo(r.path("reads").asLong());
        assertThat(r.path("misses").asLong()).isZero();
        assertThat(r.path("hitRatio").asDouble()).isEqualTo(1.0);

        JsonNode all = r.path("latencyUs").path("all");
        assertThat(all.path("count").asLong()).isEqualTo(requests);
        assertThat(all.path("p50").asDouble()).isPositive()
                .isLessThanOrEqualTo(all.path("p90").asDouble());
        assertThat(all.path("p99").asDouble()).isLessThanOrEqualTo(all.path("p999").asDouble())
                .isLessThanOrEqualTo(all.path("max").asDouble());
        assertThat(r.path("latencyUs").path("read").path("count").asLong()).isEqualTo(r.path("reads").asLong());
        assertThat(r.path("latencyUs").path("write").path("count").asLong()).isEqualTo(r.path("writes").asLong());

        JsonNode backend = r.path("backendCommands").path(0);
        assertThat(backend.path("address").asText()).isEqualTo(redis.address());
        // each measured request reached Redis; besides, at most the requests in flight at either end
        // and a few commands of the fixture and of INFO itself (seen: up to 20 under a loaded machine)
        assertThat(backend.path("commands").asLong()).as("commands Redis counted for %d requests", requests)
                .isBetween(requests, requests + 2 * 8 * 4 + 100);

        JsonNode cpu = r.path("cpu");
        assertThat(cpu.path(0).path("name").asText()).isEqualTo("bench");
        assertThat(cpu.path(0).path("seconds").asDouble()).isPositive();
        if (local) {
            assertThat(cpu.path(1).path("name").asText()).isEqualTo("redis");
            assertThat(cpu.path(1).path("seconds").asDouble()).isPositive();
            assertThat(cpu.path(1).path("usPerRequest").asDouble()).isPositive();
        }
        assertThat(r.path("prefill").path("keys").asLong()).isEqualTo(1000);
        assertThat(r.path("prefill").path("errors").asLong()).isZero();
        assertThat(r.path("settings").path("clients").asInt()).isEqualTo(8);
        assertThat(r.path("settings").path("distribution").asText()).isEqualTo("zipf");
    }

    @Test
    void shouldStopAfterTheRequestedNumberOfRequestsAndPrintATable() {
        Outcome outcome = bench("--requests", "5000", "--warmup", "0s", "--clients", "3", "--pipeline", "8",
                "--distribution", "uniform", "--keys", "100", "--read-ratio", "0.5");
        assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        assertThat(outcome.out())
                .containsPattern("requests +5,000 in ")
                .containsPattern("errors +0\\n")
                .contains("latency us", "p50", "p99.9", "max")
                .containsPattern("all +5,000 ")
                .contains("3 clients x pipeline 8, uniform over 100 keys, 50% GET");
    }

    @Test
    void shouldCountErrorRepliesAndShowTheFirst() throws Exception {
        redis.fixture().call("CONFIG", "SET", "maxmemory", "1");
        try {
            JsonNode r = bench("--duration", "1s", "--warmup", "0s", "--clients", "2", "--read-ratio", "0.5",
                    "--json").json();
            assertThat(r.path("errors").asLong()).as("every SET fails").isEqualTo(r.path("writes").asLong())
                    .isPositive();
            assertThat(r.path("firstError").asText()).startsWith("OOM");
        } finally {
            redis.fixture().call("CONFIG", "SET", "maxmemory", "0");
        }
    }

    @Test
    void shouldExitOneWithOneLineWhenNothingListens() {
        int port = FreePorts.find();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setErr(new PrintWriter(err))
                .execute("bench", "--target", "127.0.0.1:" + port, "--duration", "1s", "--no-progress");
        assertThat(code).isEqualTo(Main.EXIT_RUNTIME);
        assertThat(err.toString()).startsWith("cacheproxy bench: cannot connect to 127.0.0.1:" + port + ": ");
        assertThat(err.toString().strip().lines()).hasSize(1);
    }
}
