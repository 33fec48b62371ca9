package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * What a client library's own test suite exercises (the redis-py suite's groups: pipelines,
 * transactions with hash tags, pub/sub, blocking pops, SCAN, Lua, large values), run with Jedis
 * through a 3-node sharded pool, each checked against what one Redis would answer.
 */
class ClientSuiteShardedIT {
    @RegisterExtension
    static final RedisExtension shard1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard3 = new RedisExtension();
    @RegisterExtension
    static final ProxyExtension proxy = new ProxyExtension(
            () -> new ProxyYaml().pool("main", "timeouts: {command: 5s}", shard1.fixture(), shard2.fixture(), shard3.fixture()),
            shard1, shard2, shard3);

    private static Jedis client() {
        return new Jedis(proxy.host(), proxy.port(), 10_000);
    }

    @BeforeEach
    void flush() {
        try (Jedis jedis = client()) {
            assertThat(jedis.flushAll()).isEqualTo("OK");
        }
    }

    @Test
    void shouldAnswerAPipelineOfMixedCommandsOverEveryShardInOrder() {
        try (Jedis jedis = client()) {
            Pipeline p = jedis.pipelined();
            List<Response<?>> responses = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                responses.add(p.set("p:" + i, "v" + i));
                responses.add(p.incr("p:n:" + (i % 7)));
                responses.add(p.get("p:" + i));
            }
            responses.add(p.mget("p:1", "p:500", "p:999", "p:missing"));
            p.sync();
            for (int i = 0; i < 1000; i++) {
                assertThat(responses.get(3 * i).get()).isEqualTo("OK");
                assertThat(responses.get(3 * i + 1).get()).isEqualTo((long) (i / 7 + 1));
                assertThat(responses.get(3 * i + 2).get()).isEqualTo("v" + i);
            }
            assertThat(responses.get(3000).get()).isEqualTo(Arrays.asList("v1", "v500", "v999", null));
        }
    }

    @Test
    void shouldRunTransactionsWhoseKeysShareAHashTag() {
        try (Jedis jedis = client(); Jedis other = client()) {
            jedis.set("{user:1}:balance", "100");
            jedis.watch("{user:1}:balance");
            Transaction t = jedis.multi();
            t.decrBy("{user:1}:balance", 30);
            t.rpush("{user:1}:log", "-30");
            t.lrange("{user:1}:log", 0, -1);
            assertThat(t.exec()).isEqualTo(List.of(70L, 1L, List.of("-30")));

            // WATCH still aborts when another client changes the key
            jedis.watch("{user:1}:balance");
            other.set("{user:1}:balance", "0");
            Transaction aborted = jedis.multi();
            aborted.incr("{user:1}:balance");
            assertThat(aborted.exec()).isNull();
            assertThat(jedis.get("{user:1}:balance")).isEqualTo("0");
        }
    }

    @Test
    void shouldDeliverPubSubMessagesPublishedFromAnotherConnection() throws Exception {
        CountDownLatch subscribed = new CountDownLatch(1);
        List<String> received = new ArrayList<>();
        JedisPubSub listener = new JedisPubSub() {
            @Override
            public void onSubscribe(String channel, int count) {
                subscribed.countDown();
            }

            @Override
            public void onMessage(String channel, String message) {
                synchronized (received) {
                    received.add(channel + "=" + message);
                }
                if (message.equals("last")) {
                    unsubscribe();
                }
            }
        };
        try (Jedis subscriber = client(); Jedis publisher = client()) {
            CompletableFuture<Void> loop = CompletableFuture.runAsync(() -> subscriber.subscribe(listener, "news"));
            assertThat(subscribed.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(publisher.publish("news", "first")).isEqualTo(1L);
            assertThat(publisher.publish("news", "last")).isEqualTo(1L);
            loop.get(5, TimeUnit.SECONDS);
            assertThat(received).containsExactly("news=first", "news=last");
            assertThat(subscriber.ping()).isEqualTo("PONG");
        }
    }

    @Test
    void shouldWakeABlockedPopWhenAnotherClientPushes() throws Exception {
        try (Jedis blocked = client(); Jedis pusher = client()) {
            // several keys: they must share a node, as in Redis Cluster (a hash tag)
            CompletableFuture<List<String>> pop = CompletableFuture.supplyAsync(() -> blocked.blpop(5, "{q}:a", "{q}:b"));
            Thread.sleep(200);
            assertThat(pop).isNotDone();
            pusher.rpush("{q}:b", "job-1");
            assertThat(pop.get(5, TimeUnit.SECONDS)).isEqualTo(List.of("{q}:b", "job-1"));
            assertThat(blocked.blpop(1, "queue:empty")).as("timed out: nil").isNull();
        }
    }

    @Test
    void shouldScanEveryKeyOnceWithMatchAndType() {
        try (Jedis jedis = client()) {
            for (int i = 0; i < 500; i++) {
                jedis.set("scan:str:" + i, "x");
                jedis.sadd("scan:set:" + i, "m");
            }
            Set<String> seen = new HashSet<>();
            List<String> all = new ArrayList<>();
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> page = jedis.scan(cursor, new ScanParams().match("scan:str:*").count(50));
                all.addAll(page.getResult());
                seen.addAll(page.getResult());
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
            assertThat(seen).hasSize(500).allMatch(k -> k.startsWith("scan:str:"));
            assertThat(all).hasSize(500);
        }
    }

    @Test
    void shouldRunLuaWithKeysOnOneShardAndRefuseKeysSpanningShards() {
        try (Jedis jedis = client()) {
            String script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])";
            assertThat(jedis.eval(script, List.of("{acct}:name", "{acct}:count"), List.of("ann", "5"))).isEqualTo(5L);
            String sha = jedis.scriptLoad("return redis.call('GET', KEYS[1])");
            assertThat(jedis.evalsha(sha, List.of("{acct}:name"), List.of())).isEqualTo("ann");
            // keys on different shards: the error Redis Cluster gives
            boolean spanned = false;
            for (int i = 0; i < 20 && !spanned; i++) {
                try {
                    jedis.eval(script, List.of("a" + i, "b" + i), List.of("x", "1"));
                } catch (redis.clients.jedis.exceptions.JedisDataException e) {
                    assertThat(e.getMessage()).isEqualTo("CROSSSLOT Keys in request don't hash to the same slot");
                    spanned = true;
                }
            }
            assertThat(spanned).as("some key pair spans shards").isTrue();
        }
    }

    @Test
    void shouldStoreAndReadAnEightMegabyteValue() {
        byte[] value = new byte[8 * 1024 * 1024];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) (i * 31 + 7);
        }
        try (Jedis jedis = client()) {
            assertThat(jedis.set("big".getBytes(), value)).isEqualTo("OK");
            assertThat(jedis.get("big".getBytes())).isEqualTo(value);
            assertThat(jedis.strlen("big")).isEqualTo(value.length);
        }
    }
}
