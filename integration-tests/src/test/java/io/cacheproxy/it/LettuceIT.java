package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.Consumer;
import io.lettuce.core.GeoArgs;
import io.lettuce.core.GeoSearch;
import io.lettuce.core.GetExArgs;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.TransactionResult;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Lettuce, in RESP2 and RESP3, through the proxy: every data type, pipelining and transactions. */
class LettuceIT {

    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    @RegisterExtension
    static final ProxyExtension proxy = ProxyExtension.singlePool(redis, "admin-commands: pass");

    private static RedisClient client;

    @BeforeAll
    static void createClient() {
        client = RedisClient.create(RedisURI.builder().withHost(proxy.host()).withPort(proxy.port())
                .withTimeout(Duration.ofSeconds(5)).build());
    }

    @AfterAll
    static void shutdownClient() {
        if (client != null) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }

    @BeforeEach
    void flush() {
        try (RawRedisClient direct = redis.connect()) {
            assertThat(direct.callString("FLUSHALL")).isEqualTo("+OK\r\n");
        }
    }

    private static StatefulRedisConnection<String, String> connect(ProtocolVersion protocol) {
        client.setOptions(ClientOptions.builder().protocolVersion(protocol)
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(5))).build());
        StatefulRedisConnection<String, String> connection = client.connect();
        assertThat(connection.sync().ping()).isEqualTo("PONG");
        return connection;
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void shouldRoundTripStringsAndExpiry(ProtocolVersion protocol) {
        try (var connection = connect(protocol)) {
            RedisCommands<String, String> redis = connection.sync();
            assertThat(redis.set("s", "hello")).isEqualTo("OK");
            assertThat(redis.get("s")).isEqualTo("hello");
            assertThat(redis.get("missing")).isNull();
            assertThat(redis.append("s", "!")).isEqualTo(6);
            assertThat(redis.getex("s", GetExArgs.Builder.ex(100))).isEqualTo("hello!");
            assertThat(redis.ttl("s")).isBetween(99L, 100L);
            assertThat(redis.persist("s")).isTrue();
            assertThat(redis.ttl("s")).isEqualTo(-1);
            assertThat(redis.incrby("n", 5)).isEqualTo(5);
            assertThat(redis.incrbyfloat("n", 0.5)).isEqualTo(5.5);
            assertThat(redis.getdel("n")).isEqualTo("5.5");
            assertThat(redis.expireat("s", 32503680000L)).isTrue();
            assertThat(redis.expiretime("s")).isEqualTo(32503680000L);
            assertThat(redis.mset(Map.of("a", "1", "b", "2"))).isEqualTo("OK");
            assertThat(redis.mget("a", "missing", "b")).extracting(kv -> kv.getValueOrElse(null))
                    .containsExactly("1", null, "2");
            assertThatThrownBy(() -> redis.lpush("s", "x")).isInstanceOf(RedisCommandExecutionException.class)
                    .hasMessageStartingWith("WRONGTYPE");
        }
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void shouldRoundTripBinaryValues(ProtocolVersion protocol) {
        client.setOptions(ClientOptions.builder().protocolVersion(protocol).build());
        try (var connection = client.connect(ByteArrayCodec.INSTANCE)) {
            byte[] key = {0, '\r', '\n', (byte) 0xff};
            byte[] value = CommandScript.blob(1024 * 1024);
            assertThat(connection.sync().set(key, value)).isEqualTo("OK");
            assertThat(connection.sync().get(key)).isEqualTo(value);
            assertThat(connection.sync().set(new byte[0], new byte[0])).isEqualTo("OK");
            assertThat(connection.sync().get(new byte[0])).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void shouldRoundTripHashesListsAndSets(ProtocolVersion protocol) {
        try (var connection = connect(protocol)) {
            RedisCommands<String, String> redis = connection.sync();
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("f1", "v1");
            fields.put("f2", "v2");
            assertThat(redis.hset("h", fields)).isEqualTo(2);
            assertThat(redis.hgetall("h")).isEqualTo(fields);
            assertThat(redis.hincrby("h", "n", 3)).isEqualTo(3);
            assertThat(redis.hmget("h", "f1", "nope")).extracting(kv -> kv.getValueOrElse(null)).containsExactly("v1", null);

            assertThat(redis.rpush("l", "a", "b", "c")).isEqualTo(3);
            assertThat(redis.lrange("l", 0, -1)).containsExactly("a", "b", "c");
            assertThat(redis.lpop("l")).isEqualTo("a");
            assertThat(redis.blpop(1, "l").getValue()).isEqualTo("b");

            assertThat(redis.sadd("s", "x", "y", "z")).isEqualTo(3);
            assertThat(redis.smembers("s")).isEqualTo(Set.of("x", "y", "z"));
            assertThat(redis.sismember("s", "y")).isTrue();
            assertThat(redis.scard("s")).isEqualTo(3);
        }
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void shouldRoundTripSortedSetsStreamsHllBitmapsAndGeo(ProtocolVersion protocol) {
        try (var connection = connect(protocol)) {
            RedisCommands<String, String> redis = connection.sync();
            assertThat(redis.zadd("z", ScoredValue.just(1, "a"), ScoredValue.just(2.5, "b"))).isEqualTo(2);
            assertThat(redis.zrangeWithScores("z", 0, -1))
                    .containsExactly(ScoredValue.just(1, "a"), ScoredValue.just(2.5, "b"));
            assertThat(redis.zrangebyscore("z", Range.create(2, 3))).containsExactly("b");
            assertThat(redis.zscore("z", "b")).isEqualTo(2.5);

            assertThat(redis.xadd("st", new XAddArgs().id("1-1"), Map.of("f", "v"))).isEqualTo("1-1");
            assertThat(redis.xadd("st", new XAddArgs().id("1-2"), Map.of("f", "w"))).isEqualTo("1-2");
            assertThat(redis.xrange("st", Range.create("-", "+"))).extracting(StreamMessage::getId)
                    .containsExactly("1-1", "1-2");
            assertThat(redis.xgroupCreate(XReadArgs.StreamOffset.from("st", "0"), "g")).isEqualTo("OK");
            List<StreamMessage<String, String>> read = redis.xreadgroup(Consumer.from("g", "alice"),
                    XReadArgs.StreamOffset.lastConsumed("st"));
            assertThat(read).extracting(StreamMessage::getBody).containsExactly(Map.of("f", "v"), Map.of("f", "w"));

            assertThat(redis.pfadd("hll", "a", "b", "c")).isEqualTo(1);
            assertThat(redis.pfcount("hll")).isEqualTo(3);
            assertThat(redis.setbit("bm", 3, 1)).isZero();
            assertThat(redis.bitcount("bm")).isEqualTo(1);
            assertThat(redis.bitpos("bm", true)).isEqualTo(3);

            assertThat(redis.geoadd("geo", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")).isEqualTo(2);
            assertThat(redis.geodist("geo", "Palermo", "Catania", GeoArgs.Unit.km)).isCloseTo(166.2742, within(0.001));
            assertThat(redis.geosearch("geo", GeoSearch.fromCoordinates(15, 37), GeoSearch.byRadius(200, GeoArgs.Unit.km)))
                    .containsExactlyInAnyOrder("Palermo", "Catania");
        }
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void shouldPipelineInOrder(ProtocolVersion protocol) throws Exception {
        try (var connection = connect(protocol)) {
            RedisAsyncCommands<String, String> async = connection.async();
            connection.setAutoFlushCommands(false);
            List<RedisFuture<String>> gets = new ArrayList<>();
            List<RedisFuture<Long>> incrs = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                async.set("p:" + i, "value-" + i);
                gets.add(async.get("p:" + i));
                incrs.add(async.incr("p:counter"));
            }
            connection.flushCommands();
            connection.setAutoFlushCommands(true);
            for (int i = 0; i < 2000; i++) {
                assertThat(gets.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("value-" + i);
                assertThat(incrs.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(i + 1);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void shouldRunTransactions(ProtocolVersion protocol) {
        try (var connection = connect(protocol); var other = connect(protocol)) {
            RedisCommands<String, String> redis = connection.sync();
            assertThat(redis.multi()).isEqualTo("OK");
            assertThat(redis.set("t", "1")).isNull(); // queued: the value comes with EXEC
            redis.incr("t");
            redis.get("t");
            TransactionResult result = redis.exec();
            assertThat(result.wasDiscarded()).isFalse();
            assertThat(result.<Object>get(0)).isEqualTo("OK");
            assertThat(result.<Object>get(1)).isEqualTo(2L);
            assertThat(result.<Object>get(2)).isEqualTo("2");

            assertThat(redis.watch("t")).isEqualTo("OK");
            other.sync().set("t", "changed");
            redis.multi();
            redis.set("t", "mine");
            assertThat(redis.exec().wasDiscarded()).isTrue();
            assertThat(redis.get("t")).isEqualTo("changed");
        }
    }
}
