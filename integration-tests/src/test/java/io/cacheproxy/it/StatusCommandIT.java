package io.cacheproxy.it;

import io.cacheproxy.it.CliRun.Outcome;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cacheproxy.cli.Main;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code cacheproxy status} against a real proxy, in this JVM with its output captured: a sharded
 * pool {@code main} of three Redis nodes with {@code replication.factor: 2}, L1 on, and a fast
 * health check so a killed node is ejected within about a second.
 */
@Timeout(60)
class StatusCommandIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SUMMARY = Pattern.compile(
            "clients (\\d+), ready (yes|no[^,]*), ops/s (\\S+), L1 hit ratio \\d+\\.\\d%, L1 entries \\d+");

    @RegisterExtension
    static final RedisExtension node1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node3 = new RedisExtension();

    private TestProxy proxy;

    @BeforeEach
    void startProxy() {
        proxy = TestProxy.start(new ProxyYaml()
                .pool("main", "replication: {factor: 2}\nhealth: {interval: 200ms, failures-to-eject: 3}\n"
                        + "timeouts: {connect: 500ms, command: 500ms}", node1.fixture(), node2.fixture(), node3.fixture())
                .section("l1:\n  enabled: true\n"));
    }

    @AfterEach
    void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private Outcome cli(String... args) {
        return CliRun.inProcess(args);
    }

    /** {@code cacheproxy status args... --admin <this proxy>}. */
    private Outcome status(String... args) {
        List<String> all = new ArrayList<>(List.of("status"));
        all.addAll(List.of(args));
        all.add("--admin");
        all.add("127.0.0.1:" + proxy.adminAddress().getPort());
        return cli(all.toArray(String[]::new));
    }

    /** The table line of {@code node}: pool, node, state, circuit, up; fails unless there is exactly one. */
    private static String nodeLine(String out, String node) {
        List<String> lines = out.lines().filter(l -> l.matches("main\\s+" + Pattern.quote(node) + "\\s.*")).toList();
        assertThat(lines).as("table lines of %s in:%n%s", node, out).hasSize(1);
        return lines.get(0);
    }

    private static Matcher summary(String out) {
        Matcher m = SUMMARY.matcher(out);
        assertThat(m.find()).as("summary line in:%n%s", out).isTrue();
        return m;
    }

    @Test
    void shouldListEveryNodeTrustedAndClosedWithTheRateOfCommands() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong sent = new AtomicLong();
        Thread traffic = new Thread(() -> {
            try (RawRedisClient client = proxy.connect()) {
                client.call("SET", "status:k", "v");
                while (running.get()) {
                    client.call("GET", "status:k");
                    sent.incrementAndGet();
                }
            }
        }, "status-it-traffic");
        traffic.start();
        Outcome outcome;
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> sent.get() > 10);
            outcome = status("--interval", "500ms");
        } finally {
            running.set(false);
            traffic.join(5000);
        }

        System.out.print("[StatusCommandIT] healthy:\n" + outcome.out());
        assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        assertThat(outcome.err()).isEmpty();
        assertThat(outcome.out().lines().findFirst()).hasValueSatisfying(header ->
                assertThat(header.split("\\s+")).containsExactly("POOL", "NODE", "STATE", "CIRCUIT", "UP", "ERRORS", "EJECTIONS"));
        for (RedisExtension node : List.of(node1, node2, node3)) {
            assertThat(nodeLine(outcome.out(), node.address()).split("\\s+"))
                    .containsExactly("main", node.address(), "trusted", "closed", "yes", "0", "0");
        }
        Matcher summary = summary(outcome.out());
        assertThat(Long.parseLong(summary.group(1))).as("clients").isGreaterThanOrEqualTo(1);
        assertThat(summary.group(2)).isEqualTo("yes");
        // GETs ran the whole interval: the rate is a number, and not 0
        assertThat(Double.parseDouble(summary.group(3))).as("ops/s").isPositive();
        assertThat(outcome.out()).doesNotContain("migration:");

        JsonNode json = JSON.readTree(status("--json", "--interval", "200ms").out());
        assertThat(json.path("opsPerSecond").isNumber()).as(json.toString()).isTrue();
        assertThat(json.path("opsPerSecond").asDouble()).isGreaterThanOrEqualTo(0);
        assertThat(json.path("ready").asBoolean()).isTrue();
        assertThat(json.path("l1").path("enabled").asBoolean()).isTrue();
        assertThat(json.path("l1").has("hotKeys")).isFalse();
        assertThat(json.path("migrations").isArray()).isTrue();
    }

    @Test
    void shouldShowAKilledNodeEjectedAndItsCircuitOpen() throws Exception {
        try (RawRedisClient client = proxy.connect()) {
            for (int i = 0; i < 20; i++) {
                assertThat(client.callString("SET", "status:" + i, "v")).isEqualTo("+OK\r\n");
            }
        }
        String victim = node2.address();
        node2.fixture().kill();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() ->
                proxy.admin("/metrics").body().lines().anyMatch(l -> l.startsWith("cacheproxy_node_ejected{")
                        && l.contains("node=\"" + victim + "\"") && l.endsWith(" 1.0")));

        Outcome outcome = status("--interval", "0s");
        System.out.print("[StatusCommandIT] one node killed:\n" + outcome.out());
        assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        assertThat(outcome.err()).isEmpty();
        String[] killed = nodeLine(outcome.out(), victim).split("\\s+");
        assertThat(killed[2]).as("state").isEqualTo("ejected");
        assertThat(killed[3]).as("circuit").isEqualTo("open");
        assertThat(Long.parseLong(killed[6])).as("ejections").isGreaterThanOrEqualTo(1);
        for (RedisExtension node : List.of(node1, node3)) {
            assertThat(nodeLine(outcome.out(), node.address()).split("\\s+"))
                    .startsWith("main", node.address(), "trusted", "closed", "yes");
        }
        Matcher summary = summary(outcome.out());
        assertThat(summary.group(2)).as("every shard still has a trusted replica").isEqualTo("yes");
        assertThat(summary.group(3)).as("no rate with --interval 0s").isEqualTo("-");

        Outcome jsonOutcome = status("--json", "--interval", "0s");
        assertThat(jsonOutcome.exitCode()).as(jsonOutcome.err()).isZero();
        JsonNode json = JSON.readTree(jsonOutcome.out());
        assertThat(json.path("opsPerSecond").isNull()).as(json.toString()).isTrue();
        JsonNode pools = json.path("pools");
        assertThat(pools).hasSize(1);
        assertThat(pools.get(0).path("name").asText()).isEqualTo("main");
        List<String> addresses = new ArrayList<>();
        for (JsonNode node : pools.get(0).path("nodes")) {
            addresses.add(node.path("address").asText());
            boolean isVictim = node.path("address").asText().equals(victim);
            assertThat(node.path("state").asText()).as(node.toString()).isEqualTo(isVictim ? "ejected" : "trusted");
            assertThat(node.path("circuit").asText()).as(node.toString()).isEqualTo(isVictim ? "open" : "closed");
            assertThat(node.path("up").asBoolean()).as(node.toString()).isEqualTo(!isVictim);
        }
        assertThat(addresses).containsExactlyInAnyOrder(node1.address(), victim, node3.address());
    }

    @Test
    void shouldExitOneWithOneLineWhenTheAdminEndpointIsUnreachable() {
        Outcome outcome = cli("status", "--admin", "127.0.0.1:" + FreePorts.find());
        assertThat(outcome.exitCode()).isEqualTo(Main.EXIT_RUNTIME);
        assertThat(outcome.out()).isEmpty();
        assertThat(outcome.err().lines().toList()).hasSize(1);
        assertThat(outcome.err()).startsWith("cacheproxy status: cannot reach the admin endpoint at 127.0.0.1:");
    }

    @Test
    void shouldExitTwoOnABadInterval() {
        Outcome outcome = status("--interval", "soon");
        assertThat(outcome.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(outcome.out()).isEmpty();
        assertThat(outcome.err()).startsWith("cacheproxy status: --interval: soon (");
    }
}
