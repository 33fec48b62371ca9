package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.config.HashingConfig;
import io.cacheproxy.routing.HashRing;
import io.cacheproxy.routing.KeyHash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * A sharded pool of 3 nodes with {@code replication.factor: 2} under load from a
 * {@link ReplicationChecker} (6 client threads, each writing and reading its own keys and an INCR
 * counter), while one node is killed, restarted empty, or frozen past the command deadline. What
 * must hold each time: no acknowledged write lost, no read older than the latest write
 * acknowledged before it began, at most 1% of operations failed, and the node ejected within
 * {@code failures-to-eject × interval} + one command deadline. A node that comes back is repaired
 * from its peers and then holds the latest value of every key it should hold.
 *
 * <p>Each test prints a line starting with {@code [ReplicationIT]} with what it measured.
 */
class ReplicationIT {
    private static final Duration INTERVAL = Duration.ofMillis(500);
    private static final int FAILURES_TO_EJECT = 3;
    private static final Duration DEADLINE = Duration.ofSeconds(1);
    private static final Duration EJECTION_BOUND = INTERVAL.multipliedBy(FAILURES_TO_EJECT).plus(DEADLINE);
    private static final String OPTIONS = "replication: {factor: 2}\n"
            + "health: {interval: " + INTERVAL.toMillis() + "ms, failures-to-eject: " + FAILURES_TO_EJECT + "}\n"
            + "timeouts: {command: " + DEADLINE.toMillis() + "ms}";

    private final List<LocalRedisServer> nodes = new ArrayList<>();
    private TestProxy proxy;

    @BeforeEach
    void start() {
        for (int i = 0; i < 3; i++) {
            LocalRedisServer node = new LocalRedisServer();
            node.start();
            nodes.add(node);
        }
        proxy = TestProxy.start(new ProxyYaml().pool("main", OPTIONS, nodes.toArray(RedisFixture[]::new)));
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        nodes.forEach(LocalRedisServer::stop);
    }

    private ReplicationChecker checker(Duration duration) {
        return new ReplicationChecker(proxy.host(), proxy.port())
                .threads(6)
                .keysPerThread(40)
                .duration(duration)
                .socketTimeout(Duration.ofSeconds(5));
    }

    @Test
    void shouldLoseNothingWhenANodeIsKilledUnderLoad() {
        LocalRedisServer victim = nodes.get(0);
        ReplicationChecker.Result result;
        Duration ejection;
        try (ReplicationChecker.Running run = checker(Duration.ofSeconds(6)).start()) {
            sleep(1500);
            run.mark("kill -9");
            long killed = System.nanoTime();
            victim.kill();
            ejection = awaitMetric(victim, "cacheproxy_node_ejected", 1, Duration.ofSeconds(5), killed);
            result = run.await();
        }
        report("kill -9", result, ejection, null);
        assertHeld(result);
        assertThat(ejection).as("detection to ejection").isLessThanOrEqualTo(EJECTION_BOUND);
    }

    @Test
    void shouldRepairANodeRestartedEmptyAndServeItsKeysAgain() {
        LocalRedisServer victim = nodes.get(1);
        ReplicationChecker checker = checker(Duration.ofSeconds(30));
        ReplicationChecker.Result result;
        Duration ejection;
        Duration repaired;
        try (ReplicationChecker.Running run = checker.start()) {
            sleep(1500);
            run.mark("kill -9");
            long killed = System.nanoTime();
            victim.kill();
            ejection = awaitMetric(victim, "cacheproxy_node_ejected", 1, Duration.ofSeconds(5), killed);
            sleep(1000);
            run.mark("restart empty");
            long restarted = System.nanoTime();
            victim.restart();
            repaired = awaitMetric(victim, "cacheproxy_node_trusted", 1, Duration.ofSeconds(20), restarted);
            sleep(2000);        // the repaired node serves reads under load
            run.mark("stop");
            result = run.stop();
        }
        report("kill -9, restart empty", result, ejection, repaired);
        assertHeld(result);
        assertThat(ejection).as("detection to ejection").isLessThanOrEqualTo(EJECTION_BOUND);
        assertRepaired(victim, checker);
    }

    @Test
    void shouldRideThroughANodeFrozenPastTheDeadline() {
        LocalRedisServer victim = nodes.get(2);
        ReplicationChecker checker = checker(Duration.ofSeconds(30));
        ReplicationChecker.Result result;
        Duration ejection;
        Duration repaired;
        try (ReplicationChecker.Running run = checker.start()) {
            sleep(1500);
            run.mark("SIGSTOP");
            long paused = System.nanoTime();
            victim.pause();
            ejection = awaitMetric(victim, "cacheproxy_node_ejected", 1, Duration.ofSeconds(6), paused);
            sleep(Math.max(0, DEADLINE.multipliedBy(2).toMillis() - ejection.toMillis()));
            run.mark("SIGCONT");
            long resumed = System.nanoTime();
            victim.resume();
            repaired = awaitMetric(victim, "cacheproxy_node_trusted", 1, Duration.ofSeconds(20), resumed);
            sleep(2000);
            run.mark("stop");
            result = run.stop();
        }
        report("SIGSTOP " + DEADLINE.multipliedBy(2).toMillis() + " ms, SIGCONT", result, ejection, repaired);
        assertHeld(result);
        assertThat(ejection).as("detection to ejection").isLessThanOrEqualTo(EJECTION_BOUND);
        assertRepaired(victim, checker);
    }

    @Test
    void shouldKeepTrustingANodeWhoseConnectionsWereOnlyKilled() {
        LocalRedisServer node = nodes.get(0);
        try (Jedis viaProxy = new Jedis(proxy.host(), proxy.port()); Jedis direct = new Jedis(node.host(), node.port())) {
            viaProxy.set("warm", "up");
            direct.clientKill(new redis.clients.jedis.params.ClientKillParams().type(redis.clients.jedis.args.ClientType.NORMAL));
            sleep(INTERVAL.multipliedBy(3).toMillis());
            viaProxy.set("after", "kill");
            assertThat(viaProxy.get("after")).isEqualTo("kill");
        }
        assertThat(metric(node, "cacheproxy_node_trusted")).as("a dropped connection costs no trust").isEqualTo(1.0);
        assertThat(metric(node, "cacheproxy_repairs_total", "pool=\"main\"")).as("no repair ran").isEqualTo(0.0);
    }

    @Test
    void shouldNoticeAQuietRestartAndRepairTheNode() {
        LocalRedisServer node = nodes.get(1);
        ReplicationChecker checker = checker(Duration.ofSeconds(1));
        checker.run();      // writes every key once
        long restarted = System.nanoTime();
        node.restart();     // no traffic meanwhile: only the probes can tell
        awaitMetric(node, "cacheproxy_node_trusted", 0, Duration.ofSeconds(5), restarted);
        Duration repaired = awaitMetric(node, "cacheproxy_node_trusted", 1, Duration.ofSeconds(20), restarted);
        System.out.printf("[ReplicationIT] quiet restart: trusted again %d ms after it came back%n", repaired.toMillis());
        assertRepaired(node, checker);
    }

    private double metric(LocalRedisServer node, String metric) {
        return metric(node, metric, "node=\"" + node.address() + "\"");
    }

    private double metric(LocalRedisServer node, String metric, String label) {
        for (String line : proxy.admin("/metrics").body().split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (m.matches() && m.group(1).equals(metric) && m.group(2).contains(label)) {
                return Double.parseDouble(m.group(3));
            }
        }
        throw new AssertionError("no " + metric + "{" + label + "} in /metrics");
    }

    private static void assertHeld(ReplicationChecker.Result result) {
        assertThat(result.problems()).as("checker problems").isEmpty();
        assertThat(result.ackedWrites()).as("acknowledged writes").isGreaterThan(100);
        assertThat(result.lost()).as("acknowledged writes lost: " + result.lostWrites()).isZero();
        assertThat(result.stale()).as("stale reads: " + result.staleReads()).isZero();
        assertThat(result.violations()).as("violations: " + result).isZero();
        assertThat(result.errorRatio()).as("error ratio: " + result.errorTexts()).isLessThanOrEqualTo(0.01);
        assertThat(result.maxLatency()).as("slowest operation: " + result.slowestOp())
                .isLessThan(Duration.ofSeconds(4));
    }

    /**
     * Every key whose replicas include {@code node} (by the proxy's own ring) holds, on that node,
     * the value the other replica holds: the latest, as the checker found no lost write.
     */
    private void assertRepaired(LocalRedisServer node, ReplicationChecker checker) {
        List<String> names = nodes.stream().map(RedisFixture::address).toList();
        HashRing ring = new HashRing(names, HashingConfig.defaults().vnodes());
        int index = nodes.indexOf(node);
        int checked = 0;
        List<String> keys = new ArrayList<>(checker.keys());
        for (int t = 0; t < 6; t++) {
            keys.add(checker.counterOf(t));
        }
        for (String key : keys) {
            int[] replicas = ring.nodesFor(KeyHash.hash(key.getBytes(StandardCharsets.UTF_8)), 2);
            if (replicas[0] != index && replicas[1] != index) {
                continue;
            }
            LocalRedisServer other = nodes.get(replicas[0] == index ? replicas[1] : replicas[0]);
            try (Jedis repaired = new Jedis(node.host(), node.port()); Jedis peer = new Jedis(other.host(), other.port())) {
                assertThat(repaired.get(key)).as("key %s on the repaired node %s", key, node.address())
                        .isEqualTo(peer.get(key));
            }
            checked++;
        }
        assertThat(checked).as("keys the node should hold").isGreaterThan(20);
    }

    private static final Pattern SAMPLE = Pattern.compile("^(\\S+)\\{([^}]*)\\}\\s+(\\S+)$");

    /** Waits until the proxy's metric for {@code node} reads {@code value}; returns how long after {@code since}. */
    private Duration awaitMetric(LocalRedisServer node, String metric, double value, Duration limit, long since) {
        long deadline = since + limit.toNanos();
        String label = "node=\"" + node.address() + "\"";
        BooleanSupplier reached = () -> {
            for (String line : proxy.admin("/metrics").body().split("\n")) {
                Matcher m = SAMPLE.matcher(line);
                if (m.matches() && m.group(1).equals(metric) && m.group(2).contains(label)
                        && Double.parseDouble(m.group(3)) == value) {
                    return true;
                }
            }
            return false;
        };
        while (!reached.getAsBoolean()) {
            assertThat(System.nanoTime()).as("%s of %s to reach %s within %s", metric, node.address(), value, limit)
                    .isLessThan(deadline);
            sleep(20);
        }
        return Duration.ofNanos(System.nanoTime() - since);
    }

    private static void report(String scenario, ReplicationChecker.Result result, Duration ejection, Duration repaired) {
        System.out.printf("[ReplicationIT] %s: ejected after %d ms%s; %s%n", scenario, ejection.toMillis(),
                repaired == null ? "" : ", trusted again " + repaired.toMillis() + " ms after it came back", result);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
