package io.cacheproxy.it;

import static io.cacheproxy.it.RawRedisClient.escape;
import static io.cacheproxy.it.RawRedisClient.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.support.caching.CacheAccessor;
import io.lettuce.core.support.caching.CacheFrontend;
import io.lettuce.core.support.caching.ClientSideCaching;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.csc.CacheEntry;
import redis.clients.jedis.csc.CacheKey;
import redis.clients.jedis.csc.DefaultCache;

/**
 * Client-side caching through the proxy: a client that sends {@code CLIENT TRACKING on} to the
 * proxy gets the invalidation messages Redis would send it, for keys on any of the proxy's shards,
 * whoever changed them: a client of the same proxy, a client of another proxy, a client writing
 * straight on a backend, or a FLUSHALL.
 *
 * <p>Three backends, two proxies A and B over them with the default L1 configuration. Tracking
 * clients talk to A over raw sockets ({@link Conn}), so the tests see every byte and its order;
 * where the exact bytes matter they are compared with what a real {@code redis-server} sends for
 * the same commands (the differential check of STYLE §8). What is checked:
 * <ul>
 *   <li>the modes: default (one message per read), REDIRECT (RESP2 pub/sub and RESP3 targets),
 *       BCAST with prefixes, OPTIN, OPTOUT, NOLOOP, and FLUSHALL's null invalidation;</li>
 *   <li>that one change is announced once, as Redis does: a second message for a change the
 *       client was already told of ends the tracking of the client's next read;</li>
 *   <li>replies and error texts of CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, and a
 *       broken redirect, against Redis's;</li>
 *   <li>the client-side caches of Lettuce (with a control run straight on Redis) and Jedis;</li>
 *   <li>ordering: a message for a change made after a read never reaches the client before the
 *       read's reply (else the client caches a value it was told is stale), with the backend
 *       frozen to make the race likely, and with writes racing pipelined reads.</li>
 * </ul>
 *
 * <p>Absence is checked by waiting {@link #QUIET} (invalidations arrive within a millisecond or two
 * here), so a test that expects no message would also pass a proxy that sends them very late; every
 * such test also requires messages that must come, so a proxy that sends none fails.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClientTrackingIT {
    /** How long a message that must come may take. */
    private static final Duration PUSH_WAIT = Duration.ofSeconds(3);
    /** How long the tests wait to be sure a message does not come. */
    private static final Duration QUIET = Duration.ofMillis(250);
    private static final String CHANNEL = "__redis__:invalidate";
    private static final String FLUSH = "(flush)";

    @RegisterExtension
    static final RedisExtension shard1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard3 = new RedisExtension();
    @RegisterExtension
    static final ProxyExtension proxyA = new ProxyExtension(ClientTrackingIT::yaml, shard1, shard2, shard3);
    @RegisterExtension
    static final ProxyExtension proxyB = new ProxyExtension(ClientTrackingIT::yaml, shard1, shard2, shard3);

    private static Object yaml() {
        return new ProxyYaml().pool("main", "", shard1.fixture(), shard2.fixture(), shard3.fixture());
    }

    private static List<RedisExtension> shards() {
        return List.of(shard1, shard2, shard3);
    }

    /** Where each key of this test lives (found by {@link #keysPerShard}). */
    private final Map<String, RedisExtension> owners = new ConcurrentHashMap<>();

    /** The three ways a key changes: through A (another client), through B, straight on its backend. */
    enum Via { PROXY_A, PROXY_B, BACKEND }

    // ---- 1. default mode, RESP3 ----

    @Test
    void shouldPushOneInvalidationPerReadWhoeverChangesTheKey() {
        List<List<String>> keys = keysPerShard("t1", 4);
        Map<String, Via> read = new LinkedHashMap<>();
        List<String> unread = new ArrayList<>();
        for (List<String> onShard : keys) {
            read.put(onShard.get(0), Via.PROXY_A);
            read.put(onShard.get(1), Via.PROXY_B);
            read.put(onShard.get(2), Via.BACKEND);
            unread.add(onShard.get(3));
        }
        List<byte[]> firstPushes;
        try (Conn c = Conn.resp3("C", proxyA); Writers w = new Writers()) {
            c.ok("CLIENT", "TRACKING", "on");
            for (String key : read.keySet()) {
                assertThat(c.callString("GET", key)).as("GET %s", key).isEqualTo("$5\r\nprobe\r\n");
            }

            writeAll(w, read, unread, "v1");
            firstPushes = c.await(read.size(), PUSH_WAIT);
            firstPushes.addAll(c.settle());
            assertThat(keysOf(firstPushes))
                    .as("one invalidation per key read, for writes through A, through B and on the backend "
                            + "(read: %s; written but never read: %s); received %s", read, unread, describe(firstPushes))
                    .containsExactlyInAnyOrderElementsOf(read.keySet());

            writeAll(w, read, unread, "v2");
            List<byte[]> second = c.settle();
            assertThat(describe(second)).as("a second write of each key, with no read since the first one's message")
                    .isEqualTo("[]");

            for (String key : read.keySet()) {
                assertThat(c.callString("GET", key)).as("GET %s", key).isEqualTo("$2\r\nv2\r\n");
            }
            writeAll(w, read, List.of(), "v3");
            List<byte[]> third = c.await(read.size(), PUSH_WAIT);
            third.addAll(c.settle());
            assertThat(keysOf(third)).as("after reading the keys again, each write is announced again: %s", describe(third))
                    .containsExactlyInAnyOrderElementsOf(read.keySet());
        }
        // The same read and write straight on Redis: the proxy's message must be the same bytes.
        for (byte[] push : firstPushes) {
            String key = keysOf(List.of(push)).get(0);
            assertThat(text(push)).as("the proxy's invalidation of %s, against Redis's", key)
                    .isEqualTo(text(redisDefaultModeMessage(owner(key), key, true)));
        }
    }

    // ---- 2. REDIRECT, RESP2 (and RESP3) target ----

    @Test
    void shouldSendInvalidationsToTheRedirectTarget() {
        List<String> keys = oneKeyPerShard("t2");
        List<byte[]> messages;
        try (Conn d = Conn.resp2("D", proxyA); Conn c = Conn.resp2("C", proxyA); Writers w = new Writers()) {
            long target = d.id();
            assertThat(d.callString("SUBSCRIBE", CHANNEL))
                    .isEqualTo("*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n");
            c.ok("CLIENT", "TRACKING", "on", "REDIRECT", Long.toString(target));
            assertThat(c.callString("CLIENT", "GETREDIR")).isEqualTo(":" + target + "\r\n");
            for (String key : keys) {
                assertThat(c.callString("GET", key)).isEqualTo("$5\r\nprobe\r\n");
            }
            w.set(Via.PROXY_B, keys.get(0), "v1");
            w.set(Via.BACKEND, keys.get(1), "v1");
            w.set(Via.PROXY_A, keys.get(2), "v1");

            messages = d.await(keys.size(), PUSH_WAIT);
            messages.addAll(d.settle());
            assertThat(keysOf(messages)).as("messages on the redirect target D: %s", describe(messages))
                    .containsExactlyInAnyOrderElementsOf(keys);
            assertThat(c.callString("PING")).as("C itself (RESP2, not subscribed) gets nothing").isEqualTo("+PONG\r\n");
            assertThat(describe(c.take())).isEqualTo("[]");
        }
        // A RESP3 target needs no subscription: it gets pushes.
        try (Conn d3 = Conn.resp3("D3", proxyA); Conn c2 = Conn.resp2("C2", proxyA); Writers w = new Writers()) {
            c2.ok("CLIENT", "TRACKING", "on", "REDIRECT", Long.toString(d3.id()));
            assertThat(c2.callString("GET", keys.get(0))).isEqualTo("$2\r\nv1\r\n");
            w.set(Via.PROXY_B, keys.get(0), "v2");
            List<byte[]> pushes = d3.await(1, PUSH_WAIT);
            pushes.addAll(d3.settle());
            assertThat(describe(pushes)).as("pushes on the RESP3 redirect target")
                    .isEqualTo(describe(List.of(push(keys.get(0)))));
        }
        // The same straight on Redis (last: it writes the keys): the proxy's messages must be the same bytes.
        for (byte[] message : messages) {
            String key = keysOf(List.of(message)).get(0);
            assertThat(text(message)).as("the proxy's message for %s, against Redis's", key)
                    .isEqualTo(text(redisRedirectMessage(owner(key), key)));
        }
    }

    // ---- 3. BCAST with PREFIX ----

    @Test
    void shouldAnnounceEveryChangeOfMatchingKeysInBroadcastMode() {
        List<String> matching = new ArrayList<>(oneKeyPerShard("t3a"));
        matching.addAll(oneKeyPerShard("t3b"));
        List<String> other = new ArrayList<>(oneKeyPerShard("t3c"));
        other.addAll(oneKeyPerShard("t3"));
        try (Conn c = Conn.resp3("C", proxyA); Writers w = new Writers()) {
            c.ok("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "t3a:", "PREFIX", "t3b:");
            assertThat(c.callString("GET", other.get(0))).as("a read, which BCAST does not track").isEqualTo("$5\r\nprobe\r\n");
            Map<Via, Map<String, Integer>> told = new LinkedHashMap<>();
            Map<String, Integer> once = new TreeMap<>();
            matching.forEach(k -> once.put(k, 1));
            for (Via via : Via.values()) {
                for (String key : matching) {
                    w.set(via, key, "v-" + via);
                }
                for (String key : other) {
                    w.set(via, key, "v-" + via);
                }
                List<byte[]> pushes = c.await(matching.size(), PUSH_WAIT);
                pushes.addAll(c.settle());
                Map<String, Integer> counts = new TreeMap<>();
                keysOf(pushes).forEach(k -> counts.merge(k, 1, Integer::sum));
                told.put(via, counts);
            }
            report("BCAST: one write of each of " + matching + " (and of " + other + ") via each way; keys announced: " + told);
            for (Via via : Via.values()) {
                assertThat(told.get(via).keySet()).as("keys announced (never read) for writes via %s; prefixes t3a: and "
                        + "t3b:", via).containsExactlyInAnyOrderElementsOf(matching);
            }
            assertThat(told).as("one message per write, as Redis sends").isEqualTo(Map.of(
                    Via.PROXY_A, once, Via.PROXY_B, once, Via.BACKEND, once));
        }
    }

    // ---- 4. OPTIN and OPTOUT ----

    @Test
    void shouldTrackOnlyTheReadRightAfterCachingYesInOptinMode() {
        List<String> keys = oneKeyPerShard("t4in");
        try (Conn c = Conn.resp3("C", proxyA); Writers w = new Writers()) {
            c.ok("CLIENT", "TRACKING", "on", "OPTIN");
            assertThat(c.callString("GET", keys.get(0))).isEqualTo("$5\r\nprobe\r\n");
            c.ok("CLIENT", "CACHING", "yes");
            assertThat(c.callString("GET", keys.get(1))).isEqualTo("$5\r\nprobe\r\n");
            assertThat(c.callString("GET", keys.get(2))).isEqualTo("$5\r\nprobe\r\n");
            for (String key : keys) {
                w.set(Via.PROXY_B, key, "v1");
            }
            List<byte[]> pushes = c.await(1, PUSH_WAIT);
            pushes.addAll(c.settle());
            assertThat(keysOf(pushes)).as("OPTIN: only %s was read right after CLIENT CACHING yes; %s", keys.get(1),
                    describe(pushes)).containsExactly(keys.get(1));
        }
    }

    @Test
    void shouldNotTrackTheReadRightAfterCachingNoInOptoutMode() {
        List<String> keys = oneKeyPerShard("t4out");
        try (Conn c = Conn.resp3("C", proxyA); Writers w = new Writers()) {
            c.ok("CLIENT", "TRACKING", "on", "OPTOUT");
            assertThat(c.callString("GET", keys.get(0))).isEqualTo("$5\r\nprobe\r\n");
            c.ok("CLIENT", "CACHING", "no");
            assertThat(c.callString("GET", keys.get(1))).isEqualTo("$5\r\nprobe\r\n");
            assertThat(c.callString("GET", keys.get(2))).isEqualTo("$5\r\nprobe\r\n");
            for (String key : keys) {
                w.set(Via.BACKEND, key, "v1");
            }
            List<byte[]> pushes = c.await(2, PUSH_WAIT);
            pushes.addAll(c.settle());
            assertThat(keysOf(pushes)).as("OPTOUT: every read but the one right after CLIENT CACHING no (%s); %s",
                    keys.get(1), describe(pushes)).containsExactlyInAnyOrder(keys.get(0), keys.get(2));
        }
    }

    // ---- 5. NOLOOP ----

    @Test
    void shouldNotAnnounceAClientsOwnWritesWithNoloop() {
        List<String> keys = oneKeyPerShard("t5");
        try (Conn c = Conn.resp3("C", proxyA); Writers w = new Writers()) {
            c.ok("CLIENT", "TRACKING", "on", "NOLOOP");
            for (String key : keys) {
                assertThat(c.callString("GET", key)).isEqualTo("$5\r\nprobe\r\n");
            }
            c.ok("SET", keys.get(0), "mine");
            w.set(Via.PROXY_A, keys.get(1), "theirs");
            w.set(Via.PROXY_B, keys.get(2), "theirs");
            List<byte[]> pushes = c.await(2, PUSH_WAIT);
            pushes.addAll(c.settle());
            assertThat(keysOf(pushes)).as("NOLOOP: C's own write of %s is not announced, others' writes are; %s",
                    keys.get(0), describe(pushes)).containsExactlyInAnyOrder(keys.get(1), keys.get(2));
        }
    }

    /**
     * NOLOOP with a write and a read of the same key in one pipeline (write-through caching): Redis
     * runs the SET (telling no one: C is the writer), then the GET (C tracks the key again), and
     * sends nothing; another client's later write is announced. (A proxy that hears of C's own write
     * from the backend after the GET was remembered tells C of its own write.)
     */
    @Test
    void shouldNotAnnounceAnOwnWritePipelinedWithAReadOfTheSameKeyWithNoloop() {
        String key = oneKeyPerShard("t5p").get(1);
        for (int round = 0; round < 2; round++) {
            boolean proxy = round == 1;
            RedisExtension owner = owner(key);
            try (Conn c = proxy ? Conn.resp3("C", proxyA) : Conn.resp3("C", owner)) {
                c.ok("CLIENT", "TRACKING", "on", "NOLOOP");
                List<byte[]> stream = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    c.send("SET", key, "mine" + i);
                    c.send("GET", key);
                    stream.addAll(c.readReplies(2));
                }
                stream.addAll(c.settle());
                List<String> replies = stream.stream().filter(m -> m[0] != '>').map(RawRedisClient::text).toList();
                assertThat(replies).as(proxy ? "proxy" : "redis").containsExactly("+OK\r\n", "$5\r\nmine0\r\n",
                        "+OK\r\n", "$5\r\nmine1\r\n", "+OK\r\n", "$5\r\nmine2\r\n", "+OK\r\n", "$5\r\nmine3\r\n",
                        "+OK\r\n", "$5\r\nmine4\r\n");
                assertThat(stream.stream().filter(m -> m[0] == '>').toList()).as("%s: invalidations in the stream of "
                        + "5 pipelined SET+GET of %s by a NOLOOP client (Redis sends none): %s",
                        proxy ? "through the proxy" : "straight on Redis", key, describe(stream)).isEmpty();
                // The last GET tracks the key: another client's write is announced.
                if (proxy) {
                    try (RawRedisClient b = proxyB.connect()) {
                        assertThat(b.callString("SET", key, "theirs")).isEqualTo("+OK\r\n");
                    }
                } else {
                    assertThat(owner.fixture().call("SET", key, "theirs")).isEqualTo("+OK\r\n");
                }
                List<byte[]> told = c.await(1, PUSH_WAIT);
                told.addAll(c.settle());
                assertThat(describe(told)).as("%s: another client's write after the pipeline",
                        proxy ? "through the proxy" : "straight on Redis").isEqualTo(describe(List.of(push(key))));
            }
        }
    }

    /**
     * Redis tells a client of a change once; once told, the client reads the key again and is told
     * of the next change only. A second message for the same change, arriving after that new read
     * (from a second source of the same news), makes the client drop a value that is current, and
     * ends the tracking of its new read: a client library that caches the new read's reply after
     * that message was processed (Lettuce does, see its issue #3481) is then never told of the
     * next change.
     */
    @Test
    void shouldNotAnnounceAChangeAgainAfterTheClientReadTheKeyAgain() {
        int rounds = 20;
        List<String> keys = oneKeyPerShard("t5r");
        Map<Via, Integer> repeated = new LinkedHashMap<>();
        List<String> examples = new ArrayList<>();
        try (Conn c = Conn.resp3("C", proxyA); Writers w = new Writers()) {
            c.ok("CLIENT", "TRACKING", "on");
            Via previous = null;
            for (Via via : Via.values()) {
                repeated.put(via, 0);
                for (int i = 0; i < rounds; i++) {
                    String key = keys.get(i % keys.size());
                    c.call("GET", key);
                    List<byte[]> late = c.take();
                    if (!late.isEmpty() && previous != null) {  // a repeat of the previous round's, later than 30 ms
                        repeated.merge(previous, 1, Integer::sum);
                        if (examples.size() < 3) {
                            examples.add(previous + " (late): " + describe(late));
                        }
                    }
                    previous = via;
                    w.set(via, key, via + "-" + i);
                    List<byte[]> first = c.await(1, PUSH_WAIT);
                    assertThat(keysOf(first)).as("the write's message").containsExactly(key);
                    assertThat(text(c.call("GET", key))).as("the read right after the message")
                            .isEqualTo(text(bulk(via + "-" + i)));
                    List<byte[]> again = c.await(Integer.MAX_VALUE, Duration.ofMillis(30));
                    if (!again.isEmpty()) {
                        repeated.merge(via, 1, Integer::sum);
                        if (examples.size() < 3) {
                            examples.add(via + ": " + describe(again));
                        }
                    }
                }
            }
        }
        report("rounds (of " + rounds + ") with a second message for one write, after the client read the key again: "
                + repeated + (examples.isEmpty() ? "" : ", e.g. " + examples));
        assertThat(repeated).as("rounds with a repeated message, by way of writing (Redis sends one message per "
                + "change); e.g. %s", examples).isEqualTo(Map.of(Via.PROXY_A, 0, Via.PROXY_B, 0, Via.BACKEND, 0));
    }

    // ---- 6. FLUSHALL ----

    @Test
    void shouldSendANullInvalidationOnFlushall() {
        List<String> keys = oneKeyPerShard("t6");
        byte[] nullPush = ">2\r\n$10\r\ninvalidate\r\n_\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] nullMessage = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n".getBytes(StandardCharsets.US_ASCII);
        // What Redis itself sends on FLUSHALL, for each form (checked here, so a change of Redis shows).
        assertRedisFlushMessages(shard3, nullPush, nullMessage);

        try (Conn c = Conn.resp3("C", proxyA); Conn bcast = Conn.resp3("BCAST", proxyA);
             Conn d = Conn.resp2("D", proxyA); Conn c2 = Conn.resp2("C2", proxyA);
             RawRedisClient other = proxyA.connect()) {
            c.ok("CLIENT", "TRACKING", "on");
            bcast.ok("CLIENT", "TRACKING", "on", "BCAST");
            long target = d.id();
            assertThat(d.callString("SUBSCRIBE", CHANNEL)).startsWith("*3\r\n$9\r\nsubscribe\r\n");
            c2.ok("CLIENT", "TRACKING", "on", "REDIRECT", Long.toString(target));
            assertThat(c.callString("GET", keys.get(0))).isEqualTo("$5\r\nprobe\r\n");
            assertThat(c2.callString("GET", keys.get(1))).isEqualTo("$5\r\nprobe\r\n");

            SoftAssertions soft = new SoftAssertions();
            assertThat(other.callString("FLUSHALL")).isEqualTo("+OK\r\n");
            assertFlushMessages(soft, "FLUSHALL through the proxy", c, bcast, d, nullPush, nullMessage);

            assertThat(c.callString("GET", keys.get(0))).isEqualTo("_\r\n");
            assertThat(c2.callString("GET", keys.get(1))).isEqualTo("$-1\r\n");
            assertThat(shard2.fixture().call("FLUSHALL")).isEqualTo("+OK\r\n");
            assertFlushMessages(soft, "FLUSHALL on one backend (" + shard2.address() + ")", c, bcast, d, nullPush,
                    nullMessage);
            soft.assertAll();
        }
    }

    private static void assertFlushMessages(SoftAssertions soft, String what, Conn c, Conn bcast, Conn d, byte[] nullPush,
                                            byte[] nullMessage) {
        List<byte[]> toC = c.await(1, PUSH_WAIT);
        List<byte[]> toBcast = bcast.await(1, PUSH_WAIT);
        List<byte[]> toD = d.await(1, PUSH_WAIT);
        sleepMillis(QUIET.toMillis());
        toC.addAll(c.await(Integer.MAX_VALUE, Duration.ofMillis(5)));
        toBcast.addAll(bcast.await(Integer.MAX_VALUE, Duration.ofMillis(5)));
        toD.addAll(d.await(Integer.MAX_VALUE, Duration.ofMillis(5)));
        report(what + ": default-mode client got " + describe(toC) + "; BCAST client got " + describe(toBcast)
                + "; RESP2 redirect target got " + describe(toD));
        soft.assertThat(describe(toC)).as("%s: the default-mode client that read a key (Redis sends one null "
                + "invalidation)", what).isEqualTo(describe(List.of(nullPush)));
        soft.assertThat(describe(toD)).as("%s: the RESP2 redirect target of a client that read a key (Redis's bytes)",
                what).isEqualTo(describe(List.of(nullMessage)));
        soft.assertThat(describe(toBcast)).as("%s: the BCAST client (Redis sends one null invalidation)", what)
                .isEqualTo(describe(List.of(nullPush)));
    }

    /** Checks that Redis itself sends {@code nullPush} and {@code nullMessage} on FLUSHALL. */
    private static void assertRedisFlushMessages(RedisExtension shard, byte[] nullPush, byte[] nullMessage) {
        try (Conn c = Conn.resp3("redis C", shard); Conn d = Conn.resp2("redis D", shard);
             Conn c2 = Conn.resp2("redis C2", shard)) {
            c.ok("CLIENT", "TRACKING", "on");
            long target = d.id();
            assertThat(d.callString("SUBSCRIBE", CHANNEL)).startsWith("*3\r\n$9\r\nsubscribe\r\n");
            c2.ok("CLIENT", "TRACKING", "on", "REDIRECT", Long.toString(target));
            c.callString("GET", "t6:redis");
            c2.callString("GET", "t6:redis");
            assertThat(shard.fixture().call("FLUSHALL")).isEqualTo("+OK\r\n");
            assertThat(describe(c.await(1, PUSH_WAIT))).isEqualTo(describe(List.of(nullPush)));
            assertThat(describe(d.await(1, PUSH_WAIT))).isEqualTo(describe(List.of(nullMessage)));
        }
    }

    // ---- 7. replies compared with Redis's ----

    /** Each script runs on a fresh connection; {@code $self} is its CLIENT ID, {@code $other} another client's. */
    private static final Map<String, List<String>> SCRIPTS = scripts(
            "tracking off", List.of(
                    "CLIENT TRACKINGINFO", "CLIENT GETREDIR", "CLIENT CACHING yes", "CLIENT CACHING no",
                    "CLIENT TRACKING off", "CLIENT TRACKINGINFO"),
            "bad options", List.of(
                    "CLIENT TRACKING on PREFIX a", "CLIENT TRACKING on OPTIN OPTOUT", "CLIENT TRACKING on BCAST OPTIN",
                    "CLIENT TRACKING on BCAST OPTOUT", "CLIENT TRACKING on BCAST OPTIN OPTOUT",
                    "CLIENT TRACKING on OPTIN OPTOUT PREFIX a", "CLIENT TRACKING on REDIRECT", "CLIENT TRACKING on PREFIX",
                    "CLIENT TRACKING on FOO", "CLIENT TRACKING maybe", "CLIENT TRACKING", "CLIENT TRACKING off FOO",
                    "CLIENT TRACKING on REDIRECT abc", "CLIENT TRACKING on REDIRECT 999999999",
                    "CLIENT TRACKING on REDIRECT -1", "CLIENT TRACKING on REDIRECT $self REDIRECT $self",
                    "CLIENT TRACKINGINFO"),
            "redirect 0", List.of("CLIENT TRACKING on REDIRECT 0", "CLIENT TRACKINGINFO", "CLIENT GETREDIR"),
            "default mode", List.of(
                    "CLIENT TRACKING on", "CLIENT TRACKINGINFO", "CLIENT GETREDIR", "CLIENT CACHING yes",
                    "CLIENT CACHING no", "CLIENT CACHING maybe", "CLIENT TRACKING on BCAST", "CLIENT TRACKING on OPTIN",
                    "CLIENT TRACKINGINFO", "CLIENT TRACKING on OPTOUT", "CLIENT TRACKING on NOLOOP", "CLIENT TRACKINGINFO",
                    "CLIENT TRACKING off", "CLIENT TRACKINGINFO", "CLIENT GETREDIR"),
            "optin", List.of(
                    "CLIENT TRACKING on OPTIN", "CLIENT CACHING yes", "CLIENT TRACKINGINFO", "CLIENT CACHING no",
                    "CLIENT TRACKINGINFO", "GET t7:x", "CLIENT TRACKINGINFO", "CLIENT CACHING yes", "CLIENT ID",
                    "CLIENT TRACKINGINFO", "CLIENT TRACKING off", "CLIENT TRACKINGINFO"),
            "optout noloop", List.of(
                    "CLIENT TRACKING on OPTOUT NOLOOP", "CLIENT CACHING no", "CLIENT TRACKINGINFO", "PING",
                    "CLIENT TRACKINGINFO", "CLIENT CACHING yes"),
            "bcast", List.of(
                    "CLIENT TRACKING on BCAST", "CLIENT TRACKINGINFO", "CLIENT TRACKING on BCAST PREFIX x",
                    "CLIENT TRACKING off", "CLIENT TRACKING on BCAST PREFIX b PREFIX a NOLOOP", "CLIENT TRACKINGINFO",
                    "CLIENT TRACKING on BCAST PREFIX ab", "CLIENT TRACKING on BCAST PREFIX c", "CLIENT TRACKINGINFO",
                    "CLIENT TRACKING on", "CLIENT CACHING yes", "CLIENT TRACKING off",
                    "CLIENT TRACKING on BCAST PREFIX a PREFIX ab", "CLIENT TRACKINGINFO"),
            "redirect", List.of(
                    "CLIENT TRACKING on REDIRECT $self", "CLIENT GETREDIR", "CLIENT TRACKINGINFO",
                    "CLIENT TRACKING on REDIRECT $other", "CLIENT GETREDIR", "CLIENT TRACKINGINFO",
                    "CLIENT TRACKING on REDIRECT $other BCAST", "CLIENT TRACKING off", "CLIENT GETREDIR",
                    "CLIENT TRACKINGINFO"));

    @Test
    void shouldAnswerTrackingCommandsAsRedisDoes() {
        List<String> differences = new ArrayList<>();
        int steps = 0;
        for (boolean resp3 : new boolean[] {false, true}) {
            for (Map.Entry<String, List<String>> script : SCRIPTS.entrySet()) {
                List<String> redis = runScript(shard1.host(), shard1.port(), resp3, script.getValue());
                List<String> proxy = runScript(proxyA.host(), proxyA.port(), resp3, script.getValue());
                for (int i = 0; i < script.getValue().size(); i++) {
                    steps++;
                    if (!redis.get(i).equals(proxy.get(i))) {
                        differences.add(String.format("[%s, RESP%d] step %d `%s`%n    redis: %s%n    proxy: %s",
                                script.getKey(), resp3 ? 3 : 2, i + 1, script.getValue().get(i), redis.get(i), proxy.get(i)));
                    }
                }
            }
        }
        report(steps + " steps compared, " + differences.size() + " differ" + (differences.isEmpty() ? ""
                : ":\n  " + String.join("\n  ", differences)));
        assertThat(differences).as("replies that differ from Redis's").isEmpty();
    }

    /**
     * A redirect to a client that has gone: Redis marks it {@code broken_redirect} when it next has
     * a message to send, and tells a RESP3 client so with a {@code tracking-redir-broken} push.
     */
    @Test
    void shouldReportABrokenRedirectAsRedisDoes() {
        List<String> redis = brokenRedirect(shard1.host(), shard1.port(), shard1.connect(), "t7:broken:redis");
        List<String> proxy = brokenRedirect(proxyA.host(), proxyA.port(), proxyB.connect(), "t7:broken:proxy");
        report("broken redirect:\n    redis: " + String.join("\n           ", redis) + "\n    proxy: "
                + String.join("\n           ", proxy));
        assertThat(proxy).as("TRACKINGINFO after the target left, GET, then TRACKINGINFO and what C received after a "
                + "write of the key (redis: %s)", redis).isEqualTo(redis);
    }

    private static List<String> brokenRedirect(String host, int port, RawRedisClient writer, String key) {
        List<String> seen = new ArrayList<>();
        try (writer; Conn c = Conn.open("C", host, port, true)) {
            long target;
            try (Conn d = Conn.open("D", host, port, true)) {
                target = d.id();
                c.ok("CLIENT", "TRACKING", "on", "REDIRECT", Long.toString(target));
                assertThat(d.callString("PING")).isEqualTo("+PONG\r\n");
            }
            sleepMillis(100);      // the server notices the close
            Map<String, String> ids = Map.of("$target", Long.toString(target));
            seen.add("TRACKINGINFO: " + printable(normalize(c.callString("CLIENT", "TRACKINGINFO"), ids)));
            seen.add("GET: " + printable(normalize(c.callString("GET", key), ids)));
            assertThat(writer.callString("SET", key, "v")).isEqualTo("+OK\r\n");
            sleepMillis(QUIET.toMillis());
            seen.add("TRACKINGINFO after a write: " + printable(normalize(c.callString("CLIENT", "TRACKINGINFO"), ids)));
            seen.add("pushes: " + printable(normalize(String.join("", c.take().stream().map(RawRedisClient::text).toList()),
                    ids)));
        }
        return seen;
    }

    private static List<String> runScript(String host, int port, boolean resp3, List<String> lines) {
        try (Conn c = Conn.open("script", host, port, resp3); Conn other = Conn.open("other", host, port, resp3)) {
            Map<String, String> ids = new LinkedHashMap<>();
            ids.put("$self", Long.toString(c.id()));
            ids.put("$other", Long.toString(other.id()));
            List<String> replies = new ArrayList<>();
            for (String line : lines) {
                String[] args = line.split(" ");
                for (int i = 0; i < args.length; i++) {
                    args[i] = ids.getOrDefault(args[i], args[i]);
                }
                String reply = text(c.call(args));
                replies.add(line.equals("CLIENT ID") ? "(id)" : printable(normalize(reply, ids)));
            }
            return replies;
        }
    }

    /** Replaces the integers that are client ids with their names, as ids differ between Redis and the proxy. */
    private static String normalize(String reply, Map<String, String> ids) {
        String out = reply;
        for (Map.Entry<String, String> e : ids.entrySet()) {
            out = out.replace(":" + e.getValue() + "\r\n", ":" + e.getKey() + "\r\n");
        }
        return out;
    }

    private static String printable(String reply) {
        return escape(reply.getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, List<String>> scripts(Object... nameAndLines) {
        Map<String, List<String>> scripts = new LinkedHashMap<>();
        for (int i = 0; i < nameAndLines.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<String> lines = (List<String>) nameAndLines[i + 1];
            scripts.put((String) nameAndLines[i], lines);
        }
        return scripts;
    }

    // ---- 8. client libraries' client-side caches ----

    /** Writes through A, through B and on the backend, in turn, 10 times. */
    private static final List<Via> EVERY_WAY_10_TIMES = Collections.nCopies(10, List.of(Via.values())).stream()
            .flatMap(List::stream).toList();

    /** First straight on one backend (the control: Lettuce with Redis itself), then through A. */
    @Test
    void shouldKeepLettucesClientSideCacheCoherentThroughTheProxy() {
        List<String> onShard1 = keysPerShard("t8r", 3).get(0);
        lettuceCache("Lettuce on Redis", shard1.host(), shard1.port(), onShard1, Collections.nCopies(30, Via.BACKEND));
        lettuceCache("Lettuce through A", proxyA.host(), proxyA.port(), oneKeyPerShard("t8l"), EVERY_WAY_10_TIMES);
    }

    private void lettuceCache(String label, String host, int port, List<String> keys, List<Via> ways) {
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(RedisURI.builder()
                .withHost(host).withPort(port).withTimeout(Duration.ofSeconds(5)).build());
        client.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP3)
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(5))).build());
        try (StatefulRedisConnection<String, String> connection = client.connect(); Writers w = new Writers()) {
            Map<String, String> local = new ConcurrentHashMap<>();
            CacheFrontend<String, String> frontend = ClientSideCaching.enable(CacheAccessor.forMap(local), connection,
                    TrackingArgs.Builder.enabled());
            assertClientCacheConverges(label, keys, ways, w, frontend::get, local::containsKey);
        } finally {
            client.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }

    /**
     * Jedis refuses client-side caching unless the server reports Redis 7.4 or later (the proxy
     * reports its backends' version, 7.0 here) or the cache is in compatibility mode, which skips
     * only that check.
     */
    @Test
    void shouldKeepJedissClientSideCacheCoherentThroughTheProxy() {
        List<String> keys = oneKeyPerShard("t8j");
        CompatibleCache cache = new CompatibleCache();
        try (redis.clients.jedis.RedisClient jedis = redis.clients.jedis.RedisClient.builder()
                .hostAndPort(proxyA.host(), proxyA.port())
                .clientConfig(DefaultJedisClientConfig.builder().protocol(RedisProtocol.RESP3).timeoutMillis(5_000).build())
                .cache(cache).build();
             Writers w = new Writers()) {
            assertClientCacheConverges("Jedis through A", keys, EVERY_WAY_10_TIMES, w, jedis::get,
                    key -> cache.getCacheEntries().stream().anyMatch(e -> cachesKey(e, key)));
        }
    }

    private static boolean cachesKey(CacheEntry<?> entry, String key) {
        CacheKey<?> cacheKey = entry.getCacheKey();
        for (Object k : cacheKey.getRedisKeys()) {
            if (key.equals(k instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : k)) {
                return true;
            }
        }
        return false;
    }

    /** A Jedis cache that skips the server version check only. */
    private static final class CompatibleCache extends DefaultCache {
        CompatibleCache() {
            super(1_000);
        }

        @Override
        public boolean compatibilityMode() {
            return true;
        }
    }

    /**
     * For each key and each way of changing it: read it through the library's cache (it must then
     * be cached), change it, and poll the cache until it returns the new value (within 2 s), after
     * which it must never return the old one again (for 10 ms).
     */
    private void assertClientCacheConverges(String library, List<String> keys, List<Via> ways, Writers w,
                                            Function<String, String> get, Predicate<String> cached) {
        List<Long> delays = new ArrayList<>();
        int version = 0;
        for (String key : keys) {
            String current = get.apply(key);
            assertThat(current).as("%s: first read of %s", library, key).isEqualTo("probe");
            Via previous = null;
            for (Via via : ways) {
                assertThat(get.apply(key)).isEqualTo(current);
                assertThat(cached.test(key)).as("%s caches %s after reading it", library, key).isTrue();
                String next = library + "-" + (++version);
                w.set(via, key, next);
                long nanos = awaitConvergence(() -> get.apply(key), next, library + ": " + key + " changed via " + via
                        + (previous == null ? "" : " (the write before via " + previous + ")"));
                previous = via;
                delays.add(nanos);
                current = next;
            }
        }
        long[] sorted = delays.stream().mapToLong(Long::longValue).sorted().toArray();
        report(String.format("%s: the client-side cache converged after each of %d writes, median %d µs, max %d µs",
                library, sorted.length, sorted[sorted.length / 2] / 1000, sorted[sorted.length - 1] / 1000));
    }

    private static long awaitConvergence(Supplier<String> read, String expected, String what) {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(2);
        String seen;
        while (!Objects.equals(seen = read.get(), expected)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": the cache still returns " + seen + " 2 s after " + expected
                        + " was written");
            }
            sleepMillis(1);
        }
        long converged = System.nanoTime() - start;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            assertThat(read.get()).as("%s: after returning the new value once", what).isEqualTo(expected);
        }
        return converged;
    }

    // ---- 9. ordering: a message never precedes the reply of the read it concerns ----

    /**
     * The race of Lettuce issue #3481, made likely: the backend is frozen (SIGSTOP) while C's
     * {@code GET k} through A and a direct {@code SET k new} wait in its sockets; thawed, Redis runs
     * both in one loop iteration (the GET first, as its socket became readable first) and writes
     * the invalidation to the proxy's link before (or with) the GET's reply. Whatever order the
     * proxy hears them in, C must not end up caching {@code old} (a client caches a read's reply
     * when it arrives and drops the key when told).
     */
    @Test
    void shouldNeverAnnounceAWriteBeforeTheReplyOfAReadItFollows() {
        int rounds = 20;
        List<String> keys = keysPerShard("t9p", rounds).get(0);
        RedisExtension shard = owner(keys.get(0));
        int readOld = 0;
        int pushedFirst = 0;
        List<String> violations = new ArrayList<>();
        try (Conn c = Conn.resp3("C", proxyA); RawRedisClient w = shard.connect()) {
            c.ok("CLIENT", "TRACKING", "on");
            for (String key : keys) {
                assertThat(w.callString("SET", key, "old")).isEqualTo("+OK\r\n");
                shard.fixture().pause();
                try {
                    c.send("GET", key);
                    sleepMillis(20);
                    w.send(RawRedisClient.encode("SET", key, "new"));
                    sleepMillis(5);
                } finally {
                    shard.fixture().resume();
                }
                assertThat(text(w.readReply())).isEqualTo("+OK\r\n");
                List<byte[]> events = c.readUntilReplyAndInvalidationOf(key, PUSH_WAIT);
                SimulatedCache sim = new SimulatedCache();
                sim.apply(key, events);
                byte[] reply = events.stream().filter(e -> e[0] != '>').findFirst().orElseThrow();
                if (text(reply).equals("$3\r\nold\r\n")) {
                    readOld++;
                }
                if (events.get(0)[0] == '>') {
                    pushedFirst++;
                }
                if (sim.holdsOtherThan(key, "new")) {
                    violations.add(key + ": C caches " + sim.values.get(key) + " after " + describe(events));
                }
            }
            assertThat(describe(c.settle())).as("nothing more").isEqualTo("[]");
        }
        report(String.format("read/write race with a frozen backend: %d rounds, the GET read the old value in %d, "
                + "a message came before the GET's reply in %d", rounds, readOld, pushedFirst));
        assertThat(violations).as("C cached a value it had been told was stale").isEmpty();
        assertThat(readOld).as("rounds where the write landed after the GET ran (else the race was not exercised)")
                .isPositive();
    }

    /**
     * Many episodes: C pipelines 32 {@code GET k} through A, and right after them a write of k
     * (through A, through B or on the backend, in turn) is sent, racing them; then C waits for the
     * messages. Simulating a client cache over C's byte stream (cache on reply, drop on message), at
     * the end of each episode C must hold nothing for k or k's last value. (Here the write lands
     * before all the GETs or after all of them, never amid them in the runs so far; in the episodes
     * where it lands after, its message must follow the GETs' replies.)
     */
    @Test
    void shouldNeverLeaveAStaleValueCachedWhenWritesRacePipelinedReads() {
        int episodes = 150;
        int depth = 32;
        List<String> keys = oneKeyPerShard("t9s");
        Map<String, String> current = new HashMap<>();
        keys.forEach(k -> current.put(k, "probe"));
        SimulatedCache sim = new SimulatedCache();
        int raced = 0;
        int allOld = 0;
        int messages = 0;
        List<String> violations = new ArrayList<>();
        try (Conn c = Conn.resp3("C", proxyA); Writers w = new Writers()) {
            c.ok("CLIENT", "TRACKING", "on");
            for (int e = 0; e < episodes && violations.size() < 3; e++) {
                String key = keys.get(e % keys.size());
                Via via = Via.values()[(e / keys.size()) % Via.values().length];
                String old = current.get(key);
                String next = "e" + e;
                byte[] get = RawRedisClient.encode("GET", key);
                byte[] pipeline = new byte[get.length * depth];
                for (int i = 0; i < depth; i++) {
                    System.arraycopy(get, 0, pipeline, i * get.length, get.length);
                }
                RawRedisClient writer = w.client(via, key);
                c.raw.send(pipeline);
                writer.send(RawRedisClient.encode("SET", key, next));
                assertThat(writer.readString()).isEqualTo("+OK\r\n");
                current.put(key, next);
                List<byte[]> events = c.readReplies(depth);
                sim.apply(key, events);
                List<String> values = events.stream().filter(ev -> ev[0] != '>').map(ClientTrackingIT::value).toList();
                if (values.contains(old) && values.contains(next)) {
                    raced++;
                } else if (values.contains(old)) {
                    allOld++;
                }
                // Wait for the write's message: until the simulated cache is coherent, or 1 s.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                while (sim.holdsOtherThan(key, next) && System.nanoTime() < deadline) {
                    sleepMillis(2);
                    List<byte[]> more = c.await(Integer.MAX_VALUE, Duration.ofMillis(1));
                    sim.apply(key, more);
                    events.addAll(more);
                }
                messages += (int) events.stream().filter(ev -> ev[0] == '>').count();
                if (sim.holdsOtherThan(key, next)) {
                    violations.add(String.format("episode %d (%s written via %s, was %s): C caches %s 1 s later; stream %s",
                            e, key, via, old, sim.values.get(key), describe(events)));
                }
            }
        }
        report(String.format("%d episodes of %d pipelined GETs racing a write: the write landed inside the pipeline "
                + "in %d, after it in %d, before it in the others; %d invalidations received", episodes, depth, raced,
                allOld, episodes - raced - allOld, messages));
        assertThat(violations).as("a stale value stayed cached").isEmpty();
        assertThat(raced + allOld).as("episodes where the write landed after some GET ran (where the order of its "
                + "message and the GETs' replies matters)").isPositive();
    }

    /** A client cache as a library keeps one: a read's reply is cached when it arrives, a message drops keys. */
    private static final class SimulatedCache {
        final Map<String, String> values = new HashMap<>();

        /** Applies {@code events}: replies to reads of {@code readKey} (the only reads in flight), and messages. */
        void apply(String readKey, List<byte[]> events) {
            for (byte[] event : events) {
                if (event[0] != '>') {
                    values.put(readKey, value(event));
                    continue;
                }
                List<String> told = invalidated(event);
                if (told == null) {
                    values.clear();
                } else {
                    told.forEach(values::remove);
                }
            }
        }

        boolean holdsOtherThan(String key, String expected) {
            return values.containsKey(key) && !Objects.equals(values.get(key), expected);
        }
    }

    // ---- helpers ----

    private void writeAll(Writers w, Map<String, Via> read, List<String> unread, String value) {
        read.forEach((key, via) -> w.set(via, key, value));
        for (String key : unread) {
            for (Via via : Via.values()) {
                w.set(via, key, value);
            }
        }
    }

    /** One key per shard, in shard order. */
    private List<String> oneKeyPerShard(String prefix) {
        return keysPerShard(prefix, 1).stream().map(l -> l.get(0)).toList();
    }

    /**
     * {@code n} keys {@code prefix:i} for each shard (index = shard), each written through A with the
     * value {@code probe}, so it exists on its owner (found with EXISTS) and nowhere else.
     */
    private List<List<String>> keysPerShard(String prefix, int n) {
        List<List<String>> perShard = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        try (RawRedisClient a = proxyA.connect()) {
            for (int i = 0; i < 100 * n + 100; i++) {
                String key = prefix + ":" + i;
                assertThat(a.callString("SET", key, "probe")).isEqualTo("+OK\r\n");
                int shard = -1;
                for (int s = 0; s < 3; s++) {
                    if (shards().get(s).fixture().call("EXISTS", key).equals(":1\r\n")) {
                        assertThat(shard).as("%s on two shards", key).isEqualTo(-1);
                        shard = s;
                    }
                }
                assertThat(shard).as("%s on no shard", key).isNotEqualTo(-1);
                owners.put(key, shards().get(shard));
                if (perShard.get(shard).size() < n) {
                    perShard.get(shard).add(key);
                }
                if (perShard.stream().allMatch(l -> l.size() == n)) {
                    return perShard;
                }
            }
        }
        throw new AssertionError("keys " + prefix + ":* did not cover every shard " + n + " times");
    }

    private RedisExtension owner(String key) {
        RedisExtension owner = owners.get(key);
        if (owner == null) {
            throw new IllegalArgumentException("key: " + key + " (expected: one placed by keysPerShard)");
        }
        return owner;
    }

    /** Connections that change keys: a second client of A, a client of B, and one per backend. */
    private final class Writers implements AutoCloseable {
        private final RawRedisClient viaA = proxyA.connect();
        private final RawRedisClient viaB = proxyB.connect();
        private final Map<RedisExtension, RawRedisClient> direct = new HashMap<>();

        void set(Via via, String key, String value) {
            assertThat(client(via, key).callString("SET", key, value)).as("SET %s via %s", key, via)
                    .isEqualTo("+OK\r\n");
        }

        /** The connection that writes {@code key} via {@code via}. */
        RawRedisClient client(Via via, String key) {
            return switch (via) {
                case PROXY_A -> viaA;
                case PROXY_B -> viaB;
                case BACKEND -> direct.computeIfAbsent(owner(key), RedisExtension::connect);
            };
        }

        @Override
        public void close() {
            viaA.close();
            viaB.close();
            direct.values().forEach(RawRedisClient::close);
        }
    }

    /** Redis's own message for {@code key} to a default-mode client that read it, the key written by another. */
    private static byte[] redisDefaultModeMessage(RedisExtension shard, String key, boolean resp3) {
        try (Conn c = Conn.open("redis C", shard.host(), shard.port(), resp3); RawRedisClient w = shard.connect()) {
            c.ok("CLIENT", "TRACKING", "on");
            c.call("GET", key);
            assertThat(w.callString("SET", key, "reference")).isEqualTo("+OK\r\n");
            List<byte[]> pushes = c.await(1, PUSH_WAIT);
            assertThat(pushes).as("Redis's invalidation of %s", key).hasSize(1);
            return pushes.get(0);
        }
    }

    /** Redis's own RESP2 message for {@code key} to a subscribed redirect target. */
    private static byte[] redisRedirectMessage(RedisExtension shard, String key) {
        try (Conn d = Conn.resp2("redis D", shard); Conn c = Conn.resp2("redis C", shard); RawRedisClient w = shard.connect()) {
            long target = d.id();
            d.callString("SUBSCRIBE", CHANNEL);
            c.ok("CLIENT", "TRACKING", "on", "REDIRECT", Long.toString(target));
            c.call("GET", key);
            assertThat(w.callString("SET", key, "reference")).isEqualTo("+OK\r\n");
            List<byte[]> messages = d.await(1, PUSH_WAIT);
            assertThat(messages).as("Redis's message for %s", key).hasSize(1);
            return messages.get(0);
        }
    }

    private static byte[] bulk(String value) {
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        return ("$" + v.length + "\r\n" + value + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The RESP3 invalidation push for one key, as Redis sends it. */
    private static byte[] push(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return (">2\r\n$10\r\ninvalidate\r\n*1\r\n$" + k.length + "\r\n" + key + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The keys an invalidation message names (a RESP3 push or a RESP2 message on
     * {@code __redis__:invalidate}); null for a null invalidation (everything).
     */
    private static List<String> invalidated(byte[] message) {
        Object parsed = Resp.parse(message);
        Object payload = null;
        if (parsed instanceof List<?> l) {
            if (message[0] == '>' && l.size() == 2 && "invalidate".equals(l.get(0))) {
                payload = l.get(1);
            } else if (message[0] == '*' && l.size() == 3 && "message".equals(l.get(0)) && CHANNEL.equals(l.get(1))) {
                payload = l.get(2);
            }
        }
        if (payload == Resp.NIL) {
            return null;
        }
        if (payload instanceof List<?> keys && keys.stream().allMatch(String.class::isInstance)) {
            return keys.stream().map(String.class::cast).toList();
        }
        throw new AssertionError("not an invalidation message: " + escape(message));
    }

    /** Every key the messages name, in order; a null invalidation counts as {@link #FLUSH}. */
    private static List<String> keysOf(List<byte[]> messages) {
        List<String> keys = new ArrayList<>();
        for (byte[] m : messages) {
            List<String> told = invalidated(m);
            if (told == null) {
                keys.add(FLUSH);
            } else {
                keys.addAll(told);
            }
        }
        return keys;
    }

    /** A GET reply's value; null for nil. */
    private static String value(byte[] reply) {
        Object v = Resp.parse(reply);
        if (v == Resp.NIL) {
            return null;
        }
        if (v instanceof String s && reply[0] == '$') {
            return s;
        }
        throw new AssertionError("not a GET reply: " + escape(reply));
    }

    private static String describe(List<byte[]> messages) {
        return messages.stream().map(m -> "\"" + escape(m) + "\"").collect(Collectors.joining(", ", "[", "]"));
    }

    private static void report(String line) {
        System.out.println("[ClientTrackingIT] " + line);
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * One client connection that keeps apart the replies to its commands and what arrives
     * unasked: RESP3 pushes, or the messages of a subscribed RESP2 connection.
     */
    private static final class Conn implements AutoCloseable {
        final RawRedisClient raw;
        private final String label;
        private final boolean resp3;
        private final List<byte[]> unsolicited = new ArrayList<>();

        private Conn(RawRedisClient raw, String label, boolean resp3) {
            this.raw = raw;
            this.label = label;
            this.resp3 = resp3;
        }

        static Conn open(String label, String host, int port, boolean resp3) {
            Conn c = new Conn(RawRedisClient.connect(host, port), label, resp3);
            if (resp3) {
                byte[] hello = c.call("HELLO", "3");
                if (hello[0] != '%') {
                    c.close();
                    throw new AssertionError(label + ": HELLO 3 replied " + escape(hello));
                }
            }
            return c;
        }

        static Conn resp3(String label, ProxyExtension proxy) {
            return open(label, proxy.host(), proxy.port(), true);
        }

        static Conn resp3(String label, RedisExtension redis) {
            return open(label, redis.host(), redis.port(), true);
        }

        static Conn resp2(String label, ProxyExtension proxy) {
            return open(label, proxy.host(), proxy.port(), false);
        }

        static Conn resp2(String label, RedisExtension redis) {
            return open(label, redis.host(), redis.port(), false);
        }

        void send(String... args) {
            raw.send(RawRedisClient.encode(args));
        }

        /** Sends a command and returns its reply; pushes that arrive first are kept for {@link #take}. */
        byte[] call(String... args) {
            send(args);
            return reply();
        }

        String callString(String... args) {
            return text(call(args));
        }

        void ok(String... args) {
            assertThat(callString(args)).as("%s: %s", label, String.join(" ", args)).isEqualTo("+OK\r\n");
        }

        long id() {
            String reply = callString("CLIENT", "ID");
            assertThat(reply).as("%s: CLIENT ID", label).startsWith(":");
            return Long.parseLong(reply.substring(1, reply.length() - 2));
        }

        /** The next reply; pushes before it are kept for {@link #take}. */
        byte[] reply() {
            while (true) {
                byte[] r = raw.readReply();
                if (r[0] == '>') {
                    unsolicited.add(r);
                } else {
                    return r;
                }
            }
        }

        /** The next {@code n} replies with the pushes among them, in stream order. */
        List<byte[]> readReplies(int n) {
            List<byte[]> events = take();
            int replies = 0;
            while (replies < n) {
                byte[] r = raw.readReply();
                events.add(r);
                if (r[0] != '>') {
                    replies++;
                }
            }
            return events;
        }

        /** Everything read until one reply and a message naming {@code key} (or a flush) have arrived, in order. */
        List<byte[]> readUntilReplyAndInvalidationOf(String key, Duration within) {
            List<byte[]> events = take();
            boolean replied = false;
            boolean told = false;
            long deadline = System.nanoTime() + within.toNanos();
            while (!replied || !told) {
                byte[] r = next(deadline);
                if (r == null) {
                    throw new AssertionError(label + ": no " + (replied ? "invalidation of " + key : "reply") + " within "
                            + within + "; received " + describe(events));
                }
                events.add(r);
                if (r[0] == '>') {
                    List<String> keys = invalidated(r);
                    told |= keys == null || keys.contains(key);
                } else {
                    replied = true;
                }
            }
            return events;
        }

        /**
         * Reads what arrives unasked until there are {@code n} such values or {@code within} has
         * passed; returns them all (with those kept earlier) and forgets them.
         */
        List<byte[]> await(int n, Duration within) {
            long deadline = System.nanoTime() + within.toNanos();
            while (unsolicited.size() < n) {
                byte[] r = next(deadline);
                if (r == null) {
                    break;
                }
                if (resp3 && r[0] != '>') {
                    throw new AssertionError(label + ": a reply no command asked for: " + escape(r));
                }
                unsolicited.add(r);
            }
            return take();
        }

        /** Waits {@link #QUIET} for anything more to arrive unasked; returns it all. */
        List<byte[]> settle() {
            return await(Integer.MAX_VALUE, QUIET);
        }

        /** The values kept so far; forgets them. */
        List<byte[]> take() {
            List<byte[]> out = new ArrayList<>(unsolicited);
            unsolicited.clear();
            return out;
        }

        /** The next value, or null if none began before {@code deadline}. */
        private byte[] next(long deadline) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            raw.timeout(Duration.ofMillis(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))));
            try {
                return raw.readReply();
            } catch (UncheckedIOException e) {
                if (e.getCause() instanceof SocketTimeoutException && e.getMessage().contains("after 0 bytes")) {
                    return null;
                }
                throw e;
            } finally {
                raw.timeout(Duration.ofSeconds(5));
            }
        }

        @Override
        public void close() {
            raw.close();
        }
    }

    /** A small reader of the RESP2/RESP3 values these tests inspect (maps and sets come out as lists). */
    private static final class Resp {
        static final Object NIL = new Object() {
            @Override
            public String toString() {
                return "nil";
            }
        };

        private final byte[] bytes;
        private int pos;

        private Resp(byte[] bytes) {
            this.bytes = bytes;
        }

        static Object parse(byte[] bytes) {
            Resp r = new Resp(bytes);
            Object v = r.value();
            if (r.pos != bytes.length) {
                throw new IllegalArgumentException("trailing bytes after a value: " + escape(bytes));
            }
            return v;
        }

        private Object value() {
            char type = (char) bytes[pos++];
            String line = line();
            return switch (type) {
                case '+', '-' -> line;
                case ':' -> Long.parseLong(line);
                case '_' -> NIL;
                case '$' -> {
                    int n = Integer.parseInt(line);
                    if (n < 0) {
                        yield NIL;
                    }
                    String s = new String(bytes, pos, n, StandardCharsets.UTF_8);
                    pos += n + 2;
                    yield s;
                }
                case '*', '>', '~', '%' -> {
                    int n = Integer.parseInt(line);
                    if (n < 0) {
                        yield NIL;
                    }
                    List<Object> items = new ArrayList<>();
                    for (int i = 0; i < (type == '%' ? 2 * n : n); i++) {
                        items.add(value());
                    }
                    yield items;
                }
                default -> throw new IllegalArgumentException("type " + type + " in " + escape(bytes));
            };
        }

        private String line() {
            int start = pos;
            while (bytes[pos] != '\r') {
                pos++;
            }
            String s = new String(bytes, start, pos - start, StandardCharsets.UTF_8);
            pos += 2;
            return s;
        }
    }
}
