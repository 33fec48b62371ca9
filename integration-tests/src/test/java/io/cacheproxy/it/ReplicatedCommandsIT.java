package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cacheproxy.config.HashingConfig;
import io.cacheproxy.routing.HashRing;
import io.cacheproxy.routing.KeyHash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Commands through a sharded pool of 3 nodes with {@code replication.factor: 2}, all nodes up:
 * every kind of write leaves both replicas of its keys equal (plain, multi-key split by replica set,
 * value-dependent, inside MULTI/EXEC, blocking pops), and listing the keyspace (KEYS, SCAN, DBSIZE)
 * counts each key once although it is stored twice.
 */
class ReplicatedCommandsIT {
    @RegisterExtension
    static final RedisExtension node1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node3 = new RedisExtension();
    @RegisterExtension
    static final ProxyExtension proxy = new ProxyExtension(
            () -> new ProxyYaml().pool("main", "replication: {factor: 2}", node1.fixture(), node2.fixture(), node3.fixture()),
            node1, node2, node3);

    private static List<RedisExtension> nodes() {
        return List.of(node1, node2, node3);
    }

    private static Jedis client() {
        return new Jedis(proxy.host(), proxy.port());
    }

    @BeforeEach
    void flush() {
        for (RedisExtension node : nodes()) {
            try (Jedis jedis = new Jedis(node.host(), node.port())) {
                jedis.flushAll();
            }
        }
    }

    /** The two nodes holding {@code key}, by the proxy's ring; owner first. */
    private static List<RedisExtension> replicasOf(String key) {
        List<String> names = nodes().stream().map(n -> n.fixture().address()).toList();
        int[] ranked = new HashRing(names, HashingConfig.defaults().vnodes())
                .nodesFor(KeyHash.hash(key.getBytes(StandardCharsets.UTF_8)), 2);
        return List.of(nodes().get(ranked[0]), nodes().get(ranked[1]));
    }

    /** DUMP of {@code key} on each node that holds it: equal payloads mean equal values. */
    private static void assertReplicasEqual(String key) {
        List<byte[]> dumps = new ArrayList<>();
        for (RedisExtension node : replicasOf(key)) {
            try (Jedis jedis = new Jedis(node.host(), node.port())) {
                dumps.add(jedis.dump(key.getBytes(StandardCharsets.UTF_8)));
            }
        }
        assertThat(dumps.get(0)).as("key %s on its owner", key).isNotNull();
        assertThat(dumps.get(1)).as("key %s on its second replica equals the owner's", key).isEqualTo(dumps.get(0));
        RedisExtension other = nodes().stream().filter(n -> !replicasOf(key).contains(n)).findFirst().orElseThrow();
        try (Jedis jedis = new Jedis(other.host(), other.port())) {
            assertThat(jedis.exists(key)).as("key %s on the node that is not its replica", key).isFalse();
        }
    }

    @Test
    void shouldWriteEveryKeyToBothOfItsReplicasAndNoOther() {
        try (Jedis jedis = client()) {
            for (int i = 0; i < 60; i++) {
                jedis.set("s:" + i, "v" + i);
                jedis.incrBy("n:" + i, i);
                jedis.rpush("l:" + i, "a", "b");
                jedis.hset("h:" + i, "f", "x");
            }
            jedis.mset("m:1", "1", "m:2", "2", "m:3", "3", "m:4", "4");
            assertThat(jedis.del("s:0", "s:1", "s:2")).isEqualTo(3);
        }
        for (int i = 3; i < 60; i++) {
            assertReplicasEqual("s:" + i);
            assertReplicasEqual("n:" + i);
            assertReplicasEqual("l:" + i);
            assertReplicasEqual("h:" + i);
        }
        for (int i = 1; i <= 4; i++) {
            assertReplicasEqual("m:" + i);
        }
        for (RedisExtension node : nodes()) {
            try (Jedis direct = new Jedis(node.host(), node.port())) {
                assertThat(direct.exists("s:0")).isFalse();
            }
        }
    }

    @Test
    void shouldCopyWhatATransactionWroteToTheOtherReplica() {
        try (Jedis jedis = client()) {
            jedis.set("{tx}counter", "10");
            Transaction multi = jedis.multi();
            multi.incr("{tx}counter");
            multi.lpush("{tx}list", "a", "b");
            multi.incr("{tx}counter");
            List<Object> replies = multi.exec();
            assertThat(replies).containsExactly(11L, 2L, 12L);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertReplicasEqual("{tx}counter");
            assertReplicasEqual("{tx}list");
        });
    }

    @Test
    void shouldCopyWhatABlockingPopTookToTheOtherReplica() {
        try (Jedis jedis = client()) {
            jedis.rpush("queue", "1", "2", "3");
            assertThat(jedis.blpop(1, "queue")).containsExactly("queue", "1");
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertReplicasEqual("queue");
            for (RedisExtension node : replicasOf("queue")) {
                try (Jedis direct = new Jedis(node.host(), node.port())) {
                    assertThat(direct.lrange("queue", 0, -1)).containsExactly("2", "3");
                }
            }
        });
    }

    @Test
    void shouldListEachKeyOnceThoughItIsStoredTwice() {
        Set<String> written = new HashSet<>();
        try (Jedis jedis = client()) {
            for (int i = 0; i < 200; i++) {
                jedis.set("k:" + i, "v");
                written.add("k:" + i);
            }
            long stored = 0;
            for (RedisExtension node : nodes()) {
                try (Jedis direct = new Jedis(node.host(), node.port())) {
                    stored += direct.dbSize();
                }
            }
            assertThat(stored).as("two copies of each key over the nodes").isEqualTo(400);
            assertThat(jedis.dbSize()).isEqualTo(200);
            assertThat(jedis.keys("k:*")).hasSize(200).containsExactlyInAnyOrderElementsOf(written);
            List<String> scanned = new ArrayList<>();
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> page = jedis.scan(cursor, new ScanParams().count(50));
                scanned.addAll(page.getResult());
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
            assertThat(scanned).as("SCAN lists each key once").hasSize(200).containsExactlyInAnyOrderElementsOf(written);
        }
    }
}
