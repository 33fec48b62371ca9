package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cacheproxy.config.HashingConfig;
import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.routing.HashRing;
import io.cacheproxy.routing.KeyHash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Nodes added to and removed from a running sharded pool under load from a
 * {@link ReplicationChecker}: the keys that move are copied to their new nodes while reads still
 * go to the old ones and writes reach both, then the pool switches. No key that exists reads as
 * missing, no read is stale, no acknowledged write is lost, and afterwards every key sits on the
 * nodes the new ring names. Both with {@code replication.factor: 2} and with one copy per key.
 *
 * <p>Each test prints a line starting with {@code [TopologyChangeIT]}.
 */
class TopologyChangeIT {
    private final List<LocalRedisServer> nodes = new ArrayList<>();
    private TestProxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        nodes.forEach(LocalRedisServer::stop);
    }

    private LocalRedisServer newNode() {
        LocalRedisServer node = new LocalRedisServer();
        node.start();
        nodes.add(node);
        return node;
    }

    private void startProxy(int nodeCount, String options) {
        for (int i = 0; i < nodeCount; i++) {
            newNode();
        }
        proxy = TestProxy.start(new ProxyYaml().pool("main", options, nodes.toArray(RedisFixture[]::new)));
    }

    private ReplicationChecker checker() {
        return new ReplicationChecker(proxy.host(), proxy.port()).threads(4).keysPerThread(100)
                .duration(Duration.ofSeconds(60)).stepPause(Duration.ofMillis(1)).socketTimeout(Duration.ofSeconds(5));
    }

    @Test
    void shouldAddThenRemoveANodeOfAReplicatedPoolUnderLoad() {
        startProxy(3, "replication: {factor: 2}");
        runChanges(2);
    }

    @Test
    void shouldAddThenRemoveANodeOfAPoolWithOneCopyPerKeyUnderLoad() {
        startProxy(3, "");
        runChanges(1);
    }

    private void runChanges(int factor) {
        ReplicationChecker checker = checker();
        LocalRedisServer added = newNode();
        LocalRedisServer removed = nodes.get(0);
        ReplicationChecker.Result result;
        long addMillis;
        long removeMillis;
        try (ReplicationChecker.Running run = checker.start()) {
            sleep(1000);
            run.mark("add " + added.address());
            long t0 = System.nanoTime();
            proxy.topology().addNode("main", HostAndPort.parse(added.address()));
            awaitSwitched();
            addMillis = (System.nanoTime() - t0) / 1_000_000;
            sleep(1000);
            run.mark("remove " + removed.address());
            long t1 = System.nanoTime();
            proxy.topology().removeNode("main", HostAndPort.parse(removed.address()));
            awaitSwitched();
            removeMillis = (System.nanoTime() - t1) / 1_000_000;
            sleep(1000);
            result = run.stop();
        }
        System.out.printf("[TopologyChangeIT] factor %d: add took %d ms, remove %d ms; %s%n", factor, addMillis,
                removeMillis, result);
        assertThat(result.problems()).isEmpty();
        assertThat(result.ackedWrites()).isGreaterThan(100);
        assertThat(result.stale()).as("stale or missing reads: " + result.staleReads()).isZero();
        assertThat(result.lost()).as("lost writes: " + result.lostWrites()).isZero();
        assertThat(result.violations()).as(result.report()).isZero();
        assertThat(result.errorRatio()).as("errors: " + result.errorTexts()).isLessThanOrEqualTo(0.01);

        // every key now lives on the replicas the final ring names
        List<LocalRedisServer> remaining = nodes.stream().filter(n -> n != removed).toList();
        HashRing ring = new HashRing(remaining.stream().map(RedisFixture::address).toList(), HashingConfig.defaults().vnodes());
        int checked = 0;
        for (String key : checker.keys()) {
            int[] owners = ring.nodesFor(KeyHash.hash(key.getBytes(StandardCharsets.UTF_8)), factor);
            String expected;
            try (Jedis viaProxy = new Jedis(proxy.host(), proxy.port())) {
                expected = viaProxy.get(key);
            }
            for (int owner : owners) {
                LocalRedisServer node = remaining.get(owner);
                try (Jedis direct = new Jedis(node.host(), node.port())) {
                    assertThat(direct.get(key)).as("key %s on its replica %s", key, node.address()).isEqualTo(expected);
                }
            }
            checked++;
        }
        assertThat(checked).isEqualTo(checker.keys().size());
    }

    @Test
    void shouldRefuseChangesThatCannotBeMade() {
        startProxy(2, "replication: {factor: 2}");
        assertThatThrownBy(() -> proxy.topology().addNode("nope", HostAndPort.parse("127.0.0.1:1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no pool nope");
        assertThatThrownBy(() -> proxy.topology().addNode("main", HostAndPort.parse(nodes.get(0).address())))
                .hasMessageContaining("already has node");
        assertThatThrownBy(() -> proxy.topology().removeNode("main", HostAndPort.parse(nodes.get(0).address())))
                .hasMessageContaining("fewer than its replication.factor 2");
        assertThatThrownBy(() -> proxy.topology().removeNode("main", HostAndPort.parse("127.0.0.1:1")))
                .hasMessageContaining("has no node 127.0.0.1:1");
    }

    @Test
    void shouldApplyANodeListChangedInTheConfigFileOnReload(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        for (int i = 0; i < 2; i++) {
            newNode();
        }
        java.nio.file.Path file = dir.resolve("cacheproxy.yaml");
        java.nio.file.Files.writeString(file, new ProxyYaml().pool("main", "replication: {factor: 2}",
                nodes.toArray(RedisFixture[]::new)).toString());
        proxy = TestProxy.start(file);
        try (Jedis jedis = new Jedis(proxy.host(), proxy.port())) {
            for (int i = 0; i < 100; i++) {
                jedis.set("r:" + i, "v" + i);
            }
        }
        LocalRedisServer third = newNode();
        java.nio.file.Files.writeString(file, new ProxyYaml().pool("main", "replication: {factor: 2}",
                nodes.toArray(RedisFixture[]::new)).section("l1:\n  max-memory: 32mb\n").toString());
        var response = proxy.admin("POST", "/reload", "");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).contains("adding " + third.address()).contains("not applied (needs a restart): l1");
        awaitSwitched();
        try (Jedis jedis = new Jedis(proxy.host(), proxy.port()); Jedis direct = new Jedis(third.host(), third.port())) {
            for (int i = 0; i < 100; i++) {
                assertThat(jedis.get("r:" + i)).isEqualTo("v" + i);
            }
            assertThat(direct.dbSize()).as("keys copied to the node the reload added").isGreaterThan(20);
        }
    }

    private void awaitSwitched() {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!proxy.topology().migrations().isEmpty()) {
            assertThat(System.nanoTime()).as("migration still running: " + proxy.topology().migrations()).isLessThan(deadline);
            sleep(50);
        }
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
