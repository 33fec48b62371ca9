package io.cacheproxy.it;

import io.cacheproxy.it.CliRun.Outcome;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;

/**
 * {@code cacheproxy keys scan|delete|expire} run in-process against a proxy over 3 real Redis nodes,
 * once as a plain sharded pool and once with {@code replication: {factor: 2}}; what the commands did
 * is checked on the nodes themselves. Every test writes {@code a:1..500} and {@code b:1..200} through
 * the proxy first.
 */
@Timeout(120)
class KeysCommandIT {
    private static final String REPLICATED = "replication: {factor: 2}";

    @RegisterExtension
    static final RedisExtension node1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node3 = new RedisExtension();

    private TestProxy proxy;

    private static List<RedisExtension> nodes() {
        return List.of(node1, node2, node3);
    }

    /** Flushes the nodes, starts a proxy with {@code poolOptions} and writes the a: and b: keys through it. */
    private void start(String poolOptions) {
        for (RedisExtension node : nodes()) {
            try (Jedis jedis = new Jedis(node.host(), node.port())) {
                jedis.flushAll();
            }
        }
        proxy = TestProxy.start(new ProxyYaml().pool("main", poolOptions, node1.fixture(), node2.fixture(), node3.fixture()));
        try (Jedis jedis = client()) {
            Pipeline pipeline = jedis.pipelined();
            for (int i = 1; i <= 500; i++) {
                pipeline.set("a:" + i, "v" + i);
            }
            for (int i = 1; i <= 200; i++) {
                pipeline.set("b:" + i, "v" + i);
            }
            pipeline.sync();
            assertThat(jedis.dbSize()).as("keys written through the proxy").isEqualTo(700);
        }
    }

    @AfterEach
    void stopProxy() {
        if (proxy != null) {
            proxy.close();
            proxy = null;
        }
    }

    private Jedis client() {
        return new Jedis(proxy.host(), proxy.port());
    }

    private String target() {
        return proxy.host() + ":" + proxy.port();
    }

    private static int factor(String poolOptions) {
        return poolOptions.equals(REPLICATED) ? 2 : 1;
    }

    /** Runs the CLI in this JVM with stdout and stderr captured (tests in a class run one at a time). */
    private static synchronized Outcome execute(String... args) {
        return CliRun.capturingStdStreams(args);
    }

    /** Every copy of a key matching {@code pattern} on the nodes, a key held by two nodes listed twice. */
    private static List<String> onNodes(String pattern) {
        List<String> keys = new ArrayList<>();
        for (RedisExtension node : nodes()) {
            try (Jedis jedis = new Jedis(node.host(), node.port())) {
                keys.addAll(jedis.keys(pattern));
            }
        }
        return keys;
    }

    private static Set<String> names(String prefix, int count) {
        Set<String> names = new HashSet<>();
        IntStream.rangeClosed(1, count).forEach(i -> names.add(prefix + i));
        return names;
    }

    @ParameterizedTest(name = "pool options: ''{0}''")
    @ValueSource(strings = {"", REPLICATED})
    void scanShouldListEveryMatchingKeyOnce(String poolOptions) {
        start(poolOptions);
        Outcome outcome = execute("keys", "scan", "--pattern", "a:*", "--target", target(), "--batch", "37");
        assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
        List<String> listed = outcome.outLines();
        assertThat(listed).as("one line per key, each once").hasSize(500).doesNotHaveDuplicates();
        assertThat(new HashSet<>(listed)).isEqualTo(names("a:", 500));
        assertThat(outcome.err()).isEqualTo("500 keys match 'a:*'\n");
    }

    @ParameterizedTest(name = "pool options: ''{0}''")
    @ValueSource(strings = {"", REPLICATED})
    void deleteDryRunShouldCountAndDeleteNothing(String poolOptions) {
        start(poolOptions);
        Outcome outcome = execute("keys", "delete", "--pattern", "b:*", "--dry-run", "--target", target(), "--batch", "50");
        assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
        assertThat(outcome.err()).as(outcome.toString()).contains("200 keys match 'b:*'").contains("none deleted");
        assertThat(new HashSet<>(outcome.outLines())).as("the keys it would delete").isEqualTo(names("b:", 200));
        assertThat(onNodes("b:*")).as("every copy of every b: key is still there").hasSize(200 * factor(poolOptions));
        try (Jedis jedis = client()) {
            assertThat(jedis.dbSize()).isEqualTo(700);
        }
    }

    @ParameterizedTest(name = "pool options: ''{0}''")
    @ValueSource(strings = {"", REPLICATED})
    void deleteShouldRemoveEveryMatchingKeyFromEveryNodeAndNothingElse(String poolOptions) {
        start(poolOptions);
        Outcome outcome = execute("keys", "delete", "--pattern", "b:*", "--target", target(), "--batch", "30",
                "--no-progress");
        assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
        assertThat(outcome.out()).isEqualTo("deleted 200 keys (200 matched 'b:*')\n");
        assertThat(outcome.err()).isEmpty();
        assertThat(onNodes("b:*")).as("b: keys left on the nodes").isEmpty();
        List<String> a = onNodes("a:*");
        assertThat(a).as("every copy of every a: key is kept").hasSize(500 * factor(poolOptions));
        assertThat(new HashSet<>(a)).isEqualTo(names("a:", 500));
    }

    @ParameterizedTest(name = "pool options: ''{0}''")
    @ValueSource(strings = {"", REPLICATED})
    void expireShouldSetTheTtlOfMatchingKeysOnly(String poolOptions) {
        start(poolOptions);
        Outcome outcome = execute("keys", "expire", "--pattern", "a:1*", "--ttl", "100s", "--target", target(),
                "--batch", "40");
        assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
        // a:1, a:10..a:19, a:100..a:199
        assertThat(outcome.out()).isEqualTo("set a TTL of 100s on 111 keys (111 matched 'a:1*')\n");
        Set<String> expiring = new HashSet<>();
        IntStream.rangeClosed(1, 500).filter(i -> Integer.toString(i).startsWith("1")).forEach(i -> expiring.add("a:" + i));
        assertThat(expiring).hasSize(111);
        List<String> all = new ArrayList<>(names("a:", 500));
        all.addAll(names("b:", 200));
        try (Jedis jedis = client()) {
            Pipeline pipeline = jedis.pipelined();
            Map<String, Response<Long>> ttls = new HashMap<>();
            all.forEach(key -> ttls.put(key, pipeline.ttl(key)));
            pipeline.sync();
            ttls.forEach((key, ttl) -> {
                if (expiring.contains(key)) {
                    assertThat(ttl.get()).as("TTL of %s", key).isBetween(90L, 100L);
                } else {
                    assertThat(ttl.get()).as("TTL of %s", key).isEqualTo(-1L);
                }
            });
        }
        int copies = 0;
        for (RedisExtension node : nodes()) {
            try (Jedis jedis = new Jedis(node.host(), node.port())) {
                for (String key : jedis.keys("*")) {
                    copies++;
                    long ttl = jedis.ttl(key);
                    if (expiring.contains(key)) {
                        assertThat(ttl).as("TTL of %s on %s", key, node.address()).isBetween(90L, 100L);
                    } else {
                        assertThat(ttl).as("TTL of %s on %s", key, node.address()).isEqualTo(-1L);
                    }
                }
            }
        }
        assertThat(copies).isEqualTo(700 * factor(poolOptions));
    }

    @Test
    void anUnreachableTargetShouldExitOneWithOneLine() {
        int port = FreePorts.find();
        Outcome outcome = execute("keys", "delete", "--pattern", "b:*", "--target", "127.0.0.1:" + port);
        assertThat(outcome.exitCode()).as(outcome.toString()).isEqualTo(1);
        assertThat(outcome.out()).isEmpty();
        assertThat(outcome.err()).startsWith("cacheproxy keys delete: cannot connect to 127.0.0.1:" + port)
                .endsWith("\n");
        assertThat(outcome.err().strip().lines()).hasSize(1);
    }

    @Test
    void aTtlWithoutAUnitShouldBeAUsageError() {
        Outcome outcome = execute("keys", "expire", "--pattern", "a:*", "--ttl", "100", "--target", "127.0.0.1:1");
        assertThat(outcome.exitCode()).as(outcome.toString()).isEqualTo(2);
        assertThat(outcome.err()).startsWith("cacheproxy keys expire: --ttl: 100");
    }
}
