package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.args.GeoUnit;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.GeoSearchParam;
import redis.clients.jedis.params.GetExParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.params.ZRangeParams;
import redis.clients.jedis.resps.GeoRadiusResponse;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.Tuple;

/** Jedis, in RESP2 and RESP3, through the proxy: every data type, pipelining and transactions. */
class JedisIT {

    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    @RegisterExtension
    static final ProxyExtension proxy = ProxyExtension.singlePool(redis, "admin-commands: pass");

    @BeforeEach
    void flush() {
        try (RawRedisClient direct = redis.connect()) {
            assertThat(direct.callString("FLUSHALL")).isEqualTo("+OK\r\n");
        }
    }

    private static Jedis connect(RedisProtocol protocol) {
        Jedis jedis = new Jedis(new HostAndPort(proxy.host(), proxy.port()), DefaultJedisClientConfig.builder()
                .protocol(protocol).socketTimeoutMillis(5000).connectionTimeoutMillis(2000).build());
        assertThat(jedis.ping()).isEqualTo("PONG");
        assertThat(jedis.getConnection().getRedisProtocol()).isEqualTo(protocol);
        return jedis;
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripStrings(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            assertThat(jedis.set("s", "hello")).isEqualTo("OK");
            assertThat(jedis.get("s")).isEqualTo("hello");
            assertThat(jedis.get("missing")).isNull();
            assertThat(jedis.append("s", " world")).isEqualTo(11);
            assertThat(jedis.setrange("s", 0, "J")).isEqualTo(11);
            assertThat(jedis.getEx("s", GetExParams.getExParams().ex(100))).isEqualTo("Jello world");
            assertThat(jedis.ttl("s")).isBetween(99L, 100L);
            assertThat(jedis.incr("n")).isEqualTo(1);
            assertThat(jedis.incrBy("n", 41)).isEqualTo(42);
            assertThat(jedis.incrByFloat("f", 1.5)).isEqualTo(1.5);
            assertThat(jedis.mset("a", "1", "b", "2")).isEqualTo("OK");
            assertThat(jedis.mget("a", "missing", "b")).containsExactly("1", null, "2");
            assertThat(jedis.getDel("a")).isEqualTo("1");
            assertThat(jedis.exists("a")).isFalse();
            assertThat(jedis.set("empty", "")).isEqualTo("OK");
            assertThat(jedis.get("empty")).isEmpty();
            assertThatThrownBy(() -> jedis.incr("s")).isInstanceOf(JedisDataException.class)
                    .hasMessage("ERR value is not an integer or out of range");
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripBinaryValues(RedisProtocol protocol) {
        byte[] key = {0, '\r', '\n', (byte) 0xff};
        byte[] value = CommandScript.blob(1024 * 1024);
        try (Jedis jedis = connect(protocol)) {
            assertThat(jedis.set(key, value)).isEqualTo("OK");
            assertThat(jedis.get(key)).isEqualTo(value);
            assertThat(jedis.strlen(key)).isEqualTo(value.length);
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripHashes(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("f1", "v1");
            fields.put("f2", "v2");
            assertThat(jedis.hset("h", fields)).isEqualTo(2);
            assertThat(jedis.hget("h", "f1")).isEqualTo("v1");
            assertThat(jedis.hgetAll("h")).isEqualTo(fields);
            assertThat(jedis.hincrBy("h", "n", 5)).isEqualTo(5);
            assertThat(jedis.hkeys("h")).containsExactlyInAnyOrder("f1", "f2", "n");
            assertThat(jedis.hdel("h", "f1", "nope")).isEqualTo(1);
            assertThat(jedis.hlen("h")).isEqualTo(2);
            assertThat(jedis.hgetAll("missing")).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripLists(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            assertThat(jedis.rpush("l", "a", "b", "c")).isEqualTo(3);
            assertThat(jedis.lpush("l", "z")).isEqualTo(4);
            assertThat(jedis.lrange("l", 0, -1)).containsExactly("z", "a", "b", "c");
            assertThat(jedis.lpop("l")).isEqualTo("z");
            assertThat(jedis.rpop("l", 2)).containsExactly("c", "b");
            assertThat(jedis.llen("l")).isEqualTo(1);
            assertThat(jedis.blpop(1, "l")).containsExactly("l", "a");
            assertThat(jedis.lpop("l")).isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripSets(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            assertThat(jedis.sadd("s", "a", "b", "c", "a")).isEqualTo(3);
            assertThat(jedis.smembers("s")).isEqualTo(Set.of("a", "b", "c"));
            assertThat(jedis.sismember("s", "b")).isTrue();
            assertThat(jedis.smismember("s", "a", "x")).containsExactly(true, false);
            jedis.sadd("t", "b", "c", "d");
            assertThat(jedis.sinter("s", "t")).isEqualTo(Set.of("b", "c"));
            assertThat(jedis.srem("s", "a")).isEqualTo(1);
            assertThat(jedis.scard("s")).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripSortedSets(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            assertThat(jedis.zadd("z", Map.of("a", 1.0, "b", 2.5, "c", 3.0))).isEqualTo(3);
            assertThat(jedis.zrange("z", 0, -1)).containsExactly("a", "b", "c");
            assertThat(jedis.zrangeWithScores("z", 0, -1))
                    .containsExactly(new Tuple("a", 1.0), new Tuple("b", 2.5), new Tuple("c", 3.0));
            assertThat(jedis.zrange("z", ZRangeParams.zrangeByScoreParams(2, 3))).containsExactly("b", "c");
            assertThat(jedis.zscore("z", "b")).isEqualTo(2.5);
            assertThat(jedis.zincrby("z", 10, "a")).isEqualTo(11.0);
            assertThat(jedis.zrank("z", "a")).isEqualTo(2);
            assertThat(jedis.zpopmin("z")).isEqualTo(new Tuple("b", 2.5));
            assertThat(jedis.zcard("z")).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripStreams(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            assertThat(jedis.xadd("st", new StreamEntryID(1, 1), Map.of("f", "v1"))).isEqualTo(new StreamEntryID(1, 1));
            assertThat(jedis.xadd("st", new StreamEntryID(1, 2), Map.of("f", "v2"))).isEqualTo(new StreamEntryID(1, 2));
            List<StreamEntry> entries = jedis.xrange("st", "-", "+");
            assertThat(entries).extracting(StreamEntry::getID).containsExactly(new StreamEntryID(1, 1), new StreamEntryID(1, 2));
            assertThat(entries.get(1).getFields()).isEqualTo(Map.of("f", "v2"));
            assertThat(jedis.xgroupCreate("st", "g", new StreamEntryID(0, 0), false)).isEqualTo("OK");
            var read = jedis.xreadGroup("g", "alice", XReadGroupParams.xReadGroupParams().count(10),
                    Map.of("st", StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
            assertThat(read).hasSize(1);
            assertThat(read.get(0).getKey()).isEqualTo("st");
            assertThat(read.get(0).getValue()).hasSize(2);
            assertThat(jedis.xack("st", "g", new StreamEntryID(1, 1))).isEqualTo(1);
            assertThat(jedis.xinfoStream("st").getLength()).isEqualTo(2);
            assertThat(jedis.xlen("st")).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripHyperLogLogBitmapsAndGeo(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            assertThat(jedis.pfadd("hll", "a", "b", "c")).isEqualTo(1);
            assertThat(jedis.pfcount("hll")).isEqualTo(3);

            assertThat(jedis.setbit("bm", 7, true)).isFalse();
            assertThat(jedis.getbit("bm", 7)).isTrue();
            assertThat(jedis.bitcount("bm")).isEqualTo(1);
            assertThat(jedis.bitfield("bf", "SET", "u8", "0", "200", "GET", "u8", "0")).containsExactly(0L, 200L);

            assertThat(jedis.geoadd("geo", 13.361389, 38.115556, "Palermo")).isEqualTo(1);
            assertThat(jedis.geoadd("geo", 15.087269, 37.502669, "Catania")).isEqualTo(1);
            assertThat(jedis.geodist("geo", "Palermo", "Catania", GeoUnit.KM)).isCloseTo(166.2742, within(0.001));
            List<GeoRadiusResponse> near = jedis.geosearch("geo",
                    GeoSearchParam.geoSearchParam().fromLonLat(15, 37).byRadius(200, GeoUnit.KM).asc().withDist());
            assertThat(near).extracting(GeoRadiusResponse::getMemberByString).containsExactly("Catania", "Palermo");
            assertThat(near.get(0).getDistance()).isCloseTo(56.4413, within(0.001));
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRoundTripExpiry(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            jedis.set("k", "v");
            assertThat(jedis.ttl("k")).isEqualTo(-1);
            assertThat(jedis.expire("k", 100)).isEqualTo(1);
            assertThat(jedis.ttl("k")).isBetween(99L, 100L);
            assertThat(jedis.pttl("k")).isBetween(98_000L, 100_000L);
            assertThat(jedis.expireAt("k", 32503680000L)).isEqualTo(1);
            assertThat(jedis.expireTime("k")).isEqualTo(32503680000L);
            assertThat(jedis.persist("k")).isEqualTo(1);
            assertThat(jedis.ttl("k")).isEqualTo(-1);
            assertThat(jedis.ttl("missing")).isEqualTo(-2);
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldPipelineInOrder(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            Pipeline pipeline = jedis.pipelined();
            List<Response<String>> sets = new ArrayList<>();
            List<Response<String>> gets = new ArrayList<>();
            List<Response<Long>> incrs = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                sets.add(pipeline.set("p:" + i, "value-" + i));
                gets.add(pipeline.get("p:" + i));
                incrs.add(pipeline.incr("p:counter"));
            }
            pipeline.sync();
            for (int i = 0; i < 2000; i++) {
                assertThat(sets.get(i).get()).isEqualTo("OK");
                assertThat(gets.get(i).get()).isEqualTo("value-" + i);
                assertThat(incrs.get(i).get()).isEqualTo(i + 1);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = RedisProtocol.class, names = {"RESP2", "RESP3"})
    void shouldRunTransactions(RedisProtocol protocol) {
        try (Jedis jedis = connect(protocol)) {
            Transaction tx = jedis.multi();
            Response<String> set = tx.set("t", "1");
            Response<Long> incr = tx.incr("t");
            Response<String> get = tx.get("t");
            List<Object> results = tx.exec();
            assertThat(results).hasSize(3);
            assertThat(set.get()).isEqualTo("OK");
            assertThat(incr.get()).isEqualTo(2);
            assertThat(get.get()).isEqualTo("2");

            // WATCH: a change by another client aborts the transaction
            assertThat(jedis.watch("t")).isEqualTo("OK");
            try (Jedis other = connect(protocol)) {
                other.set("t", "changed");
            }
            Transaction aborted = jedis.multi();
            aborted.set("t", "mine");
            assertThat(aborted.exec()).isNull();
            assertThat(jedis.get("t")).isEqualTo("changed");

            Transaction discarded = jedis.multi();
            discarded.set("t", "discarded");
            assertThat(discarded.discard()).isEqualTo("OK");
            assertThat(jedis.get("t")).isEqualTo("changed");
        }
    }
}
