package io.cacheproxy.it;

import io.cacheproxy.it.CliRun.Outcome;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cacheproxy.cli.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line: {@code check-config} in-process through {@link Main#execute}, and
 * {@code run --config} as a real child JVM that must answer and then exit 0 on SIGTERM.
 */
@Timeout(60)
class CliIT {

    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    @TempDir
    Path tmp;

    /** Runs the CLI in this JVM with stdout and stderr captured (tests in a class run one at a time). */
    private static synchronized Outcome execute(String... args) {
        return CliRun.capturingStdStreams(args);
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(tmp.resolve(name), text);
    }

    @Test
    void checkConfigShouldExitTwoAndListEveryErrorOfABadFile() throws IOException {
        Path bad = write("bad.yaml", """
                server:
                  listen: 127.0.0.1:99999
                  max-clints: 10
                pools:
                  main:
                    type: sharded
                    nodes: []
                    timeouts: {command: 5 parsecs}
                routes:
                  - {pool: nosuchpool}
                """);
        Outcome outcome = execute("check-config", bad.toString());
        assertThat(outcome.exitCode()).as(outcome.toString()).isEqualTo(2);
        assertThat(outcome.err())
                .contains(bad.toString())
                .contains("5 errors")
                .contains("server.listen: 127.0.0.1:99999")
                .contains("server.max-clints: unknown key").contains("max-clients")
                .contains("pools.main.timeouts.command: 5 parsecs")
                .contains("pools.main.nodes: required")
                .contains("routes[0].pool: nosuchpool");
        assertThat(outcome.out()).isEmpty();
    }

    @Test
    void checkConfigShouldPrintTheEffectiveConfigOfAGoodFile() throws IOException {
        Path good = write("good.yaml", """
                server:
                  listen: 127.0.0.1:6390
                pools:
                  main:
                    nodes: [127.0.0.1:7001]
                    password: "s3cret"
                """);
        Outcome outcome = execute("check-config", good.toString());
        assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
        assertThat(outcome.out())
                .contains("listen: 127.0.0.1:6390")
                .contains("max-clients: 10000")      // a default filled in
                .contains("admin-commands: deny")
                .contains("127.0.0.1:7001")
                .contains("'****'")
                .doesNotContain("s3cret");
        assertThat(outcome.err()).isEmpty();
    }

    @Test
    void checkConfigShouldExitTwoForAMissingFile() {
        Outcome outcome = execute("check-config", tmp.resolve("nope.yaml").toString());
        assertThat(outcome.exitCode()).isEqualTo(2);
        assertThat(outcome.err()).contains("nope.yaml").contains("no such file");
    }

    @Test
    void runShouldExitTwoOnABadConfigWithoutStarting() throws IOException {
        Path bad = write("bad.yaml", "pools:\n  main:\n    nodes: []\n");
        Outcome outcome = execute("run", "--config", bad.toString());
        assertThat(outcome.exitCode()).isEqualTo(2);
        assertThat(outcome.err()).contains("pools.main.nodes");
    }

    @Test
    void runShouldServeInAChildJvmAndExitZeroOnSigterm() throws Exception {
        int port = FreePorts.find();
        int adminPort = FreePorts.find();
        Path config = write("run.yaml", """
                server:
                  listen: 127.0.0.1:%d
                admin:
                  listen: 127.0.0.1:%d
                pools:
                  main:
                    nodes: [%s]
                """.formatted(port, adminPort, redis.address()));
        Path log = tmp.resolve("proxy.log");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED",
                "-cp", classPath, "io.cacheproxy.cli.Main", "run", "--config", config.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!process.isAlive()) {
                    throw new AssertionError("the proxy exited with " + process.exitValue() + ":\n" + Files.readString(log));
                }
                return Ping.once("127.0.0.1", port, Duration.ofMillis(500));
            });
            try (RawRedisClient client = RawRedisClient.connect("127.0.0.1", port)) {
                assertThat(client.callString("PING")).isEqualTo("+PONG\r\n");
                assertThat(client.callString("SET", "cli:key", "from-child")).isEqualTo("+OK\r\n");
                assertThat(client.callString("GET", "cli:key")).isEqualTo("$10\r\nfrom-child\r\n");
            }
            try (RawRedisClient direct = redis.connect()) {
                assertThat(direct.callString("GET", "cli:key")).isEqualTo("$10\r\nfrom-child\r\n");
            }

            process.destroy(); // SIGTERM
            assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("exited within 10 s of SIGTERM; log:\n%s",
                    (Object) Files.readString(log)).isTrue();
            assertThat(process.exitValue()).as("exit code after SIGTERM; log:\n%s", Files.readString(log)).isZero();
            assertThat(Ping.once("127.0.0.1", port, Duration.ofMillis(500))).as("port closed after exit").isFalse();
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
    @Test
    void hotkeysShouldListTheHottestKeysAndWhetherL1HoldsThem() {
        try (TestProxy proxy = TestProxy.start(new ProxyYaml().pool("main", "", redis.fixture())
                .section("l1:\n  hot-keys: {min-reads-per-second: 1}\n"));
             RawRedisClient client = proxy.connect()) {
            client.callString("SET", "hot:key", "v");
            for (int i = 0; i < 2000; i++) {
                assertThat(client.callString("GET", "hot:key")).isEqualTo("$1\r\nv\r\n");
                if (i % 10 == 0) {
                    client.callString("GET", "warm:key");
                }
            }
            String admin = "127.0.0.1:" + proxy.adminAddress().getPort();
            Outcome outcome = execute("hotkeys", "--admin", admin, "--top", "2");
            assertThat(outcome.exitCode()).as(outcome.err()).isZero();
            String[] lines = outcome.out().split("\n");
            assertThat(lines[0]).startsWith("L1: ").contains("hit ratio");
            assertThat(lines[2]).as(outcome.out()).matches("\\s+1\\s+\\d+\\s+yes\\s+hot:key");
            assertThat(lines[3]).as(outcome.out()).matches("\\s+2\\s+\\d+\\s+(yes|no)\\s+warm:key");

            Outcome json = execute("hotkeys", "--admin", admin, "--json");
            assertThat(json.out()).contains("\"key\":\"hot:key\"").contains("\"cached\":true");

            Outcome unreachable = execute("hotkeys", "--admin", "127.0.0.1:1");
            assertThat(unreachable.exitCode()).isEqualTo(Main.EXIT_RUNTIME);
            assertThat(unreachable.err()).startsWith("cacheproxy hotkeys: cannot reach the admin endpoint at 127.0.0.1:1");
        }
    }
}
