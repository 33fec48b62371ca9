package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The main check (shared/STYLE.md §8): the same command script, run directly against Redis and
 * through the proxy, gets byte-identical replies, in RESP2 and in RESP3. The scripts are the
 * {@code src/test/resources/differential/*.redis} files; each runs on emptied servers and new
 * connections. A mismatch report lists every differing reply with both byte strings.
 *
 * <p>{@link #scriptIsDeterministicOnRedisItself} runs each script against two plain Redis servers:
 * if that fails, the script (not the proxy) is wrong.
 */
@Timeout(120)
class DifferentialIT {

    static final List<String> SCRIPTS = List.of(
            "strings.redis", "hashes.redis", "lists.redis", "sets.redis", "zsets.redis", "streams.redis",
            "hyperloglog.redis", "bitmaps.redis", "geo.redis", "expiry.redis", "errors.redis", "object.redis",
            "transactions.redis", "large.redis", "binary.redis", "inline.redis", "keyspace.redis");

    /**
     * The per-type scripts that mean the same through a 3-node pool: the others combine keys
     * without a shared {hash tag} (MSETNX, LCS, SINTER, ZUNIONSTORE, PFMERGE, BITOP, GEOSEARCHSTORE,
     * RENAME, WATCH of two keys …), which a sharded pool answers with -CROSSSLOT as Redis Cluster
     * does, depending on where the ring (whose points come from the nodes' random test ports) puts
     * them; sharded/*.redis covers those commands with hash tags.
     */
    static final List<String> SHARD_SAFE_SCRIPTS = List.of(
            "hashes.redis", "streams.redis", "expiry.redis", "errors.redis", "object.redis",
            "large.redis", "binary.redis", "inline.redis");

    static final List<String> SHARDED_SCRIPTS = List.of(
            "sharded/multikey.redis", "sharded/hashtags.redis", "sharded/transactions.redis");

    /** Answers as the reference: plain Redis. */
    @RegisterExtension
    static final RedisExtension reference = new RedisExtension();

    /** The one node of the proxy's pool. */
    @RegisterExtension
    static final RedisExtension backend = new RedisExtension();

    @RegisterExtension
    static final RedisExtension shard1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard3 = new RedisExtension();

    @RegisterExtension
    static final ProxyExtension proxy = ProxyExtension.singlePool(backend, "admin-commands: pass");

    @RegisterExtension
    static final ProxyExtension shardedProxy = new ProxyExtension(
            () -> new ProxyYaml().pool("main", "admin-commands: pass", shard1.fixture(), shard2.fixture(), shard3.fixture()),
            shard1, shard2, shard3);

    static Stream<Arguments> scripts() {
        return SCRIPTS.stream().flatMap(s -> Stream.of(Arguments.of(s, 2), Arguments.of(s, 3)));
    }

    static Stream<Arguments> shardSafeScripts() {
        return SHARD_SAFE_SCRIPTS.stream().flatMap(s -> Stream.of(Arguments.of(s, 2), Arguments.of(s, 3)));
    }

    static Stream<Arguments> shardedScripts() {
        return SHARDED_SCRIPTS.stream().flatMap(s -> Stream.of(Arguments.of(s, 2), Arguments.of(s, 3)));
    }

    @ParameterizedTest(name = "{0} RESP{1}")
    @MethodSource("scripts")
    void shouldReplyLikeRedisThroughOneNodePool(String script, int protocol) {
        assertSameReplies(CommandScript.load(script), protocol, "proxy", proxy::connect, reference, backend);
    }

    @ParameterizedTest(name = "{0} RESP{1}")
    @MethodSource("scripts")
    void scriptIsDeterministicOnRedisItself(String script, int protocol) {
        assertSameReplies(CommandScript.load(script), protocol, "redis#2", backend::connect, reference, backend);
    }

    @ParameterizedTest(name = "{0} RESP{1}")
    @MethodSource("shardedScripts")
    void shouldReplyLikeOneRedisThroughThreeNodePool(String script, int protocol) {
        assertSameReplies(CommandScript.load(script), protocol, "proxy", shardedProxy::connect,
                reference, shard1, shard2, shard3);
    }

    @ParameterizedTest(name = "{0} RESP{1}")
    @MethodSource("shardSafeScripts")
    void shouldReplyLikeOneRedisThroughThreeNodePoolForEveryDataType(String script, int protocol) {
        assertSameReplies(CommandScript.load(script), protocol, "proxy", shardedProxy::connect,
                reference, shard1, shard2, shard3);
    }

    /**
     * Malformed frames: the replies before the bad frame, then Redis's protocol error, then the
     * connection closes; compared as the whole byte stream up to the close.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "*1\\r\\n$abc\\r\\n",
            "*-5x\\r\\n",
            "*2\\r\\n$3\\r\\nGET\\r\\n:1\\r\\n",
            "*1\\r\\nxyz\\r\\n",
            "*1\\r\\n$-1\\r\\n",
            "*3000000000\\r\\n",
            "*1\\r\\n$600000000\\r\\n",
            "SET k \\\"unbalanced\\r\\n",
            "SET k \\\"a\\\"b\\r\\n"})
    void shouldAnswerMalformedInputLikeRedis(String escaped) {
        byte[] garbage = CommandScript.split("\"" + escaped + "\"").get(0);
        byte[] input = concat("PING\r\nSET before 1\r\n".getBytes(StandardCharsets.US_ASCII), garbage);
        byte[] fromRedis;
        try (RawRedisClient redis = reference.connect()) {
            redis.send(input);
            fromRedis = redis.readUntilClosed(Duration.ofSeconds(5));
        }
        byte[] fromProxy;
        try (RawRedisClient client = proxy.connect()) {
            client.send(input);
            fromProxy = client.readUntilClosed(Duration.ofSeconds(5));
        }
        assertThat(RawRedisClient.escape(fromProxy))
                .as("replies up to the close, for input %s", RawRedisClient.escape(input))
                .isEqualTo(RawRedisClient.escape(fromRedis));
    }

    @Test
    void shouldRefuseMultiKeyCommandsAcrossShardsWithCrossslot() {
        List<String> msetnx = new ArrayList<>(List.of("MSETNX"));
        List<String> sunion = new ArrayList<>(List.of("SUNIONSTORE", "dst"));
        for (int i = 0; i < 20; i++) {
            msetnx.add("key" + i);
            msetnx.add("v");
            sunion.add("set" + i);
        }
        try (RawRedisClient client = shardedProxy.connect()) {
            String crossSlot = "-CROSSSLOT Keys in request don't hash to the same slot\r\n";
            assertThat(client.callString(msetnx.toArray(String[]::new))).isEqualTo(crossSlot);
            assertThat(client.callString(sunion.toArray(String[]::new))).isEqualTo(crossSlot);
            assertThat(client.callString("RENAME", "key1", "key2", "key3")).startsWith("-ERR wrong number of arguments");
            assertThat(client.callString("PING")).as("the connection stays usable").isEqualTo("+PONG\r\n");
        }
    }

    private static void assertSameReplies(CommandScript script, int protocol, String actualName,
                                          Supplier<RawRedisClient> actualSide, RedisExtension expectedSide,
                                          RedisExtension... flush) {
        List<RedisExtension> servers = new ArrayList<>(List.of(flush));
        servers.add(expectedSide);
        for (RedisExtension server : servers) {
            try (RawRedisClient c = server.connect()) {
                assertThat(c.callString("FLUSHALL")).isEqualTo("+OK\r\n");
                c.callString("SCRIPT", "FLUSH");
            }
        }
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        try (RawRedisClient expected = expectedSide.connect(); RawRedisClient actual = actualSide.get()) {
            if (protocol == 3) {
                // HELLO's reply has server ids and versions: only check that both switched to RESP3
                assertThat(expected.callString("HELLO", "3")).startsWith("%");
                assertThat(actual.callString("HELLO", "3")).as("HELLO 3 through the proxy").startsWith("%");
            }
            for (CommandScript.Step step : script.steps()) {
                expected.send(step.bytes());
                List<byte[]> want = new ArrayList<>();
                for (int i = 0; i < step.replies(); i++) {
                    want.add(expected.readReply());
                }
                List<byte[]> got = new ArrayList<>();
                try {
                    actual.send(step.bytes());
                    for (int i = 0; i < step.replies(); i++) {
                        got.add(actual.readReply());
                    }
                } catch (UncheckedIOException e) {
                    mismatches.add(describe(script, step, want, got, actualName)
                            + "\n      then: " + e.getMessage() + " (" + e.getCause() + "); script stopped here");
                    break;
                }
                compared++;
                if (!sameBytes(want, got)) {
                    mismatches.add(describe(script, step, want, got, actualName));
                }
            }
        }
        if (!mismatches.isEmpty()) {
            fail(script.name() + " RESP" + protocol + ": " + mismatches.size() + " of " + script.steps().size()
                    + " steps differ (" + compared + " compared)\n" + String.join("\n", mismatches));
        }
    }

    private static boolean sameBytes(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static String describe(CommandScript script, CommandScript.Step step, List<byte[]> want, List<byte[]> got,
                                   String actualName) {
        String source = step.source().length() > 200 ? step.source().substring(0, 200) + "..." : step.source();
        return "  " + script.name() + ":" + step.line() + "  " + source
                + "\n      redis: " + join(want)
                + "\n      " + actualName + ": " + join(got);
    }

    private static String join(List<byte[]> replies) {
        return String.join(" | ", replies.stream().map(RawRedisClient::escape).toList());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
