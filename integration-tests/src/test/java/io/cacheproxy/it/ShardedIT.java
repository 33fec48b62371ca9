package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/** Whole-keyspace and multi-key commands through a 3-node sharded pool, checked against the shards themselves. */
class ShardedIT {
    @RegisterExtension
    static final RedisExtension shard1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard3 = new RedisExtension();
    @RegisterExtension
    static final ProxyExtension proxy = new ProxyExtension(
            () -> new ProxyYaml().pool("main", "admin-commands: pass", shard1.fixture(), shard2.fixture(), shard3.fixture()),
            shard1, shard2, shard3);

    private static List<RedisExtension> shards() {
        return List.of(shard1, shard2, shard3);
    }

    private static Jedis direct(RedisExtension shard) {
        return new Jedis(shard.host(), shard.port());
    }

    private static Jedis client() {
        return new Jedis(proxy.host(), proxy.port());
    }

    @BeforeEach
    void flushShards() {
        for (RedisExtension shard : shards()) {
            try (Jedis jedis = direct(shard)) {
                jedis.flushAll();
            }
        }
    }

    @Test
    void shouldSpreadKeysOverEveryShardAndSumDbsize() {
        try (Jedis jedis = client()) {
            for (int i = 0; i < 300; i++) {
                jedis.set("key:" + i, "v" + i);
            }
            long total = 0;
            for (RedisExtension shard : shards()) {
                try (Jedis d = direct(shard)) {
                    long size = d.dbSize();
                    assertThat(size).as("keys on shard %s", shard.address()).isBetween(50L, 150L);
                    total += size;
                }
            }
            assertThat(total).isEqualTo(300);
            assertThat(jedis.dbSize()).isEqualTo(300);
            assertThat(jedis.keys("key:1*")).hasSize(111);
            assertThat(jedis.flushAll()).isEqualTo("OK");
            assertThat(jedis.dbSize()).isZero();
        }
    }

    @Test
    void shouldScanEveryKeyExactlyOnceAcrossShards() {
        Set<String> expected = new HashSet<>();
        try (Jedis jedis = client()) {
            for (int i = 0; i < 500; i++) {
                jedis.set("scan:" + i, "x");
                expected.add("scan:" + i);
            }
            jedis.set("other", "x");
            Map<String, Integer> seen = new HashMap<>();
            String cursor = ScanParams.SCAN_POINTER_START;
            int calls = 0;
            do {
                ScanResult<String> page = jedis.scan(cursor, new ScanParams().match("scan:*").count(7));
                page.getResult().forEach(k -> seen.merge(k, 1, Integer::sum));
                cursor = page.getCursor();
                assertThat(++calls).as("SCAN must terminate").isLessThan(10_000);
            } while (!cursor.equals("0"));
            assertThat(seen.keySet()).isEqualTo(expected);
            assertThat(seen.values()).allMatch(n -> n == 1);
        }
    }

    @Test
    void shouldReturnEveryKeyPresentThroughoutAScanWhileKeysAreAdded() {
        try (Jedis jedis = client()) {
            for (int i = 0; i < 300; i++) {
                jedis.set("stable:" + i, "x");
            }
            Set<String> seen = new HashSet<>();
            String cursor = ScanParams.SCAN_POINTER_START;
            int added = 0;
            do {
                ScanResult<String> page = jedis.scan(cursor, new ScanParams().count(10));
                seen.addAll(page.getResult());
                cursor = page.getCursor();
                for (int j = 0; j < 5; j++) {
                    jedis.set("added:" + added++, "y");
                }
            } while (!cursor.equals("0"));
            for (int i = 0; i < 300; i++) {
                assertThat(seen).contains("stable:" + i);
            }
        }
    }

    @Test
    void shouldAnswerAnInvalidScanCursorWithAnError() {
        try (Jedis jedis = client()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> jedis.scan("99"))
                    .hasMessageContaining("invalid cursor");
        }
    }

    @Test
    void shouldAnswerInfoWithAProxySectionAndTheKeyspaceSummedOverShards() {
        try (Jedis jedis = client()) {
            for (int i = 0; i < 60; i++) {
                jedis.set("i:" + i, "v");
            }
            jedis.expire("i:0", 1000);
            String all = jedis.info();
            assertThat(all).startsWith("# Proxy\r\n").contains("proxy_nodes:3\r\n").contains("# Server\r\n")
                    .contains("# Keyspace\r\ndb0:keys=60,expires=1,");
            String keyspace = jedis.info("keyspace");
            assertThat(keyspace).doesNotContain("# Proxy").contains("db0:keys=60,expires=1,");
        }
        try (RawRedisClient raw = proxy.connect()) {
            raw.call("HELLO", "3");
            String info = raw.callString("INFO", "keyspace");
            assertThat(info).as("RESP3 INFO is a verbatim string").startsWith("=").contains("txt:# Keyspace");
        }
    }

    @Test
    void shouldSendOneMgetPerShardForAHundredKeys() {
        try (Jedis jedis = client()) {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                keys.add("m:" + i);
                jedis.set("m:" + i, "value-" + i);
            }
            for (RedisExtension shard : shards()) {
                try (Jedis d = direct(shard)) {
                    d.configResetStat();
                }
            }
            List<String> values = jedis.mget(keys.toArray(new String[0]));
            for (int i = 0; i < 100; i++) {
                assertThat(values.get(i)).isEqualTo("value-" + i);
            }
            for (RedisExtension shard : shards()) {
                try (Jedis d = direct(shard)) {
                    String stats = d.info("commandstats");
                    assertThat(stats).as("shard %s", shard.address()).contains("cmdstat_mget:calls=1,");
                }
            }
        }
    }

    @Test
    void shouldDeliverShardChannelMessagesWhateverNodeTheChannelHashesTo() {
        try (RawRedisClient subscriber = proxy.connect(); RawRedisClient publisher = proxy.connect()) {
            for (int i = 0; i < 10; i++) {
                String channel = "shard:ch:" + i;
                assertThat(subscriber.callString("SSUBSCRIBE", channel))
                        .isEqualTo("*3\r\n$10\r\nssubscribe\r\n$" + channel.length() + "\r\n" + channel + "\r\n:" + (i + 1) + "\r\n");
            }
            for (int i = 0; i < 10; i++) {
                String channel = "shard:ch:" + i;
                assertThat(publisher.callString("SPUBLISH", channel, "m" + i)).as(channel).isEqualTo(":1\r\n");
                assertThat(subscriber.readString()).isEqualTo("*3\r\n$8\r\nsmessage\r\n$" + channel.length() + "\r\n"
                        + channel + "\r\n$2\r\nm" + i + "\r\n");
            }
            assertThat(publisher.callString("PUBSUB", "SHARDNUMSUB", "shard:ch:7"))
                    .isEqualTo("*2\r\n$10\r\nshard:ch:7\r\n:1\r\n");
        }
    }
}
