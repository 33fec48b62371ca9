package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cacheproxy.it.StalenessChecker.Endpoint;
import io.cacheproxy.it.StalenessChecker.Result;
import io.cacheproxy.it.StalenessChecker.Session;
import io.cacheproxy.it.StalenessChecker.StaleRead;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.params.SetParams;

/**
 * The L1 near cache never serves a stale value: two proxies A and B with L1 on (every read may
 * enter it: {@code min-reads-per-second: 0}) over the same three backends, with writes through
 * the same proxy, through the other proxy and straight on the backends, expiry, FLUSHALL, and a
 * killed invalidation connection.
 *
 * <p>Reads through the proxy that made the write are held to the strict rule (never older than a
 * write acknowledged before the read began). Writes made elsewhere reach L1 asynchronously, after
 * the writer may already hold its acknowledgement, so for them the tests bound how long the old
 * value may still be served ({@link #CROSS_PROXY_GRACE}, 1 s for convergence) and print what they
 * measured.
 *
 * <p>Everything except {@link #shouldServeRepeatedReadsOfAHotKeyFromMemory} also passes with no L1
 * at all (every read then goes to Redis), so those tests prove nothing until L1 exists; once it
 * does, they fail on a stale read. Where a test can tell that L1 is there (its metrics appear on
 * {@code /metrics}), it also requires L1 to have served hits, so that a cache that never caches
 * does not pass by default.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NearCacheIT {
    private static final int TIMEOUT_MS = 5_000;
    private static final String L1 = """
            l1:
              enabled: true
              max-ttl: 30s
              hot-keys: {min-reads-per-second: 0}
            """;
    private static final String INVALIDATION = """
            invalidation:
              tracking: true
              broadcast: {enabled: true, channel: "__cacheproxy:invalidate"}
            """;
    private static final String INVALIDATION_CONNECTION = "cacheproxy-invalidation";

    @RegisterExtension
    static final RedisExtension shard1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension shard3 = new RedisExtension();
    @RegisterExtension
    static final ProxyExtension proxyA = new ProxyExtension(NearCacheIT::yaml, shard1, shard2, shard3);
    @RegisterExtension
    static final ProxyExtension proxyB = new ProxyExtension(NearCacheIT::yaml, shard1, shard2, shard3);

    private static Object yaml() {
        return new ProxyYaml().pool("main", "", shard1.fixture(), shard2.fixture(), shard3.fixture())
                .section(L1).section(INVALIDATION);
    }

    private static List<RedisExtension> shards() {
        return List.of(shard1, shard2, shard3);
    }

    // ---- (a), (b): the history checker ----

    @Test
    void shouldNeverServeAStaleValueThroughOneProxy() {
        List<String> keys = keys("a", 16);
        L1Hits hits = new L1Hits(proxyA);

        Result r = new StalenessChecker()
                .writer(through("A", proxyA), keys.subList(0, 8))
                .writer(through("A", proxyA), keys.subList(8, 16))
                .readers(through("A", proxyA), 6)
                .writePause(Duration.ofNanos(500_000))
                .duration(Duration.ofSeconds(3))
                .run();

        report("readers and writers through A: " + r + hits.summary());
        assertThat(r.errors()).as(r.toString()).isEmpty();
        assertThat(r.violations()).as(r.toString()).isZero();
        assertThat(r.reads()).as(r.toString()).isGreaterThan(1000);
        assertThat(r.writes()).as(r.toString()).isGreaterThan(100);
        hits.assertServedSome();
    }

    /**
     * How long after a write made elsewhere (through A, or on a backend) a read through another
     * proxy may still return the previous value. Redis sends the invalidation to the proxy at the
     * same time as the acknowledgement to the writer, so the proxy can learn of the write after the
     * writer does: a window of a few hundred microseconds to a few milliseconds here, never zero.
     * A lost invalidation or a fill race instead keeps the old value until the key's next write
     * (here ~0.4 s later, {@link #CROSS_KEYS_PER_WRITER} keys written in turn) or for good.
     */
    private static final Duration CROSS_PROXY_GRACE = Duration.ofMillis(100);
    private static final int CROSS_KEYS_PER_WRITER = 64;

    @Test
    void shouldBoundStalenessOfWritesMadeThroughTheOtherProxyOrOnTheBackend() {
        List<String> keys = keys("b", 2 * CROSS_KEYS_PER_WRITER);
        try (Jedis a = jedis(proxyA)) {
            for (String key : keys) {
                a.set(key, StalenessChecker.value(key, 0));
            }
        }
        Map<String, RedisExtension> owners = owners(keys);
        L1Hits hitsA = new L1Hits(proxyA);
        L1Hits hitsB = new L1Hits(proxyB);

        Result r = new StalenessChecker()
                .writer(through("A", proxyA), keys.subList(0, CROSS_KEYS_PER_WRITER))
                .writer(directly("backend", owners), keys.subList(CROSS_KEYS_PER_WRITER, keys.size()))
                .readers(through("B", proxyB), 4)
                .readers(through("A", proxyA), 2)
                .writePause(Duration.ofMillis(5))
                .duration(Duration.ofSeconds(3))
                .run();

        Map<String, List<StaleRead>> byPair = new TreeMap<>();
        for (StaleRead s : r.staleReads()) {
            byPair.computeIfAbsent(s.writerEndpoint() + "->" + s.readerEndpoint(), k -> new ArrayList<>()).add(s);
        }
        StringBuilder pairs = new StringBuilder();
        byPair.forEach((pair, list) -> pairs.append(String.format("%n  stale reads %s: %d, worst %s behind", pair,
                list.size(), micros(list.stream().mapToLong(StaleRead::lagNanos).max().orElse(0)))));
        report("writers through A and on the backends, readers through B and A: " + r + pairs + hitsA.summary()
                + hitsB.summary());
        assertThat(r.errors()).as(r.toString()).isEmpty();
        assertThat(r.malformed() + r.future()).as(r.toString()).isZero();
        assertThat(byPair.getOrDefault("A->A", List.of()))
                .as("read-your-writes: reads through A of values written through A are never stale\n%s", r).isEmpty();
        List<StaleRead> late = r.staleReads().stream().filter(s -> s.lagNanos() > CROSS_PROXY_GRACE.toNanos()).toList();
        assertThat(late.size()).as("stale reads more than %d ms behind a write made elsewhere, e.g. %s\n%s",
                CROSS_PROXY_GRACE.toMillis(), late.stream().limit(5).toList(), r).isZero();
        assertThat(r.reads()).as(r.toString()).isGreaterThan(1000);
        assertThat(r.writes()).as(r.toString()).isGreaterThan(100);
        hitsB.assertServedSome();
    }

    // ---- (c): how long a write made elsewhere takes to reach B's L1 ----

    private static final int TRIALS = 200;

    @Test
    void shouldInvalidateTheOtherProxyPromptlyAfterAWriteThroughA() {
        try (Jedis a = jedis(proxyA)) {
            measureInvalidationDelay("A->B", keys("c:proxy", 8), a::set);
        }
    }

    @Test
    void shouldInvalidateTheProxyPromptlyAfterAWriteOnTheBackend() {
        List<String> keys = keys("c:backend", 8);
        try (Jedis a = jedis(proxyA)) {
            keys.forEach(k -> a.set(k, "init"));
        }
        try (DirectSession direct = new DirectSession(owners(keys))) {
            measureInvalidationDelay("backend->B", keys, direct::set);
        }
    }

    /**
     * {@link #TRIALS} times: read a key through B until it is cached, write a new value with
     * {@code write}, then poll B until it returns it. Every trial must converge within 1 s (and
     * the value read before the write must be the current one); the delays are printed.
     */
    private static void measureInvalidationDelay(String label, List<String> keys, BiConsumer<String, String> write) {
        Map<String, String> current = new HashMap<>();
        for (String key : keys) {
            write.accept(key, "init");
            current.put(key, "init");
        }
        long[] delays = new long[TRIALS];
        int converged = 0;
        int staleFirstReads = 0;
        long slowest = -1;
        int slowestTrial = -1;
        List<String> failures = new ArrayList<>();
        try (Jedis b = jedis(proxyB)) {
            for (int i = 0; i < TRIALS && failures.size() < 3; i++) {
                String key = keys.get(i % keys.size());
                for (int j = 0; j < 3; j++) {
                    String seen = b.get(key);
                    if (!current.get(key).equals(seen)) {
                        failures.add("trial " + i + ": before the write, B returned " + seen + " for " + key
                                + " instead of " + current.get(key) + ", written and acknowledged in an earlier trial");
                    }
                }
                String next = "t" + i;
                write.accept(key, next);
                long ack = System.nanoTime();
                long deadline = ack + TimeUnit.SECONDS.toNanos(1);
                boolean first = true;
                while (true) {
                    String seen = b.get(key);
                    long end = System.nanoTime();
                    if (next.equals(seen)) {
                        delays[converged++] = end - ack;
                        if (end - ack > slowest) {
                            slowest = end - ack;
                            slowestTrial = i;
                        }
                        break;
                    }
                    if (first) {
                        staleFirstReads++;
                        first = false;
                    }
                    if (end > deadline) {
                        failures.add("trial " + i + ": B still returned " + seen + " for " + key + " 1 s after "
                                + next + " was acknowledged");
                        break;
                    }
                }
                current.put(key, next);
            }
        }
        long[] sorted = Arrays.copyOf(delays, converged);
        Arrays.sort(sorted);
        report(String.format("L1 invalidation delay %s p50=%s p99=%s max=%s (trial %d) (%d trials converged, %d with a"
                        + " stale first read after the acknowledgement; delay = acknowledgement to the end of the first"
                        + " read of the new value)",
                label, micros(percentile(sorted, 50)), micros(percentile(sorted, 99)), micros(Math.max(0, slowest)),
                slowestTrial, converged, staleFirstReads));
        assertThat(failures).as("every trial converges within 1 s (%s)", label).isEmpty();
        assertThat(converged).isEqualTo(TRIALS);
    }

    private static long percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    // ---- (d): an entry never outlives the key's TTL in Redis ----

    private static final long TTL_MS = 300;
    private static final long EXPIRY_GRACE_MS = 50;

    @Test
    void shouldNotServeAKeySetWithATtlOnTheBackendPastItsExpiry() {
        String key = "d:backend";
        RedisExtension owner = ownerAfterWriteThroughA(key);
        try (Jedis direct = jedis(owner)) {
            assertExpiresOnTime(key, () -> direct.set(key, "v", SetParams.setParams().px(TTL_MS)));
        }
    }

    @Test
    void shouldNotServeAKeySetWithATtlThroughTheProxyPastItsExpiry() {
        String key = "d:proxy";
        try (Jedis a = jedis(proxyA)) {
            assertExpiresOnTime(key, () -> a.set(key, "v", SetParams.setParams().px(TTL_MS)));
        }
    }

    @Test
    void shouldNotServeACachedKeyPastATtlAddedLaterOnTheBackend() {
        String key = "d:pexpire";
        RedisExtension owner = ownerAfterWriteThroughA(key);
        try (Jedis a = jedis(proxyA); Jedis b = jedis(proxyB); Jedis direct = jedis(owner)) {
            a.set(key, "v");
            for (int i = 0; i < 3; i++) {
                assertThat(a.get(key)).isEqualTo("v");
                assertThat(b.get(key)).isEqualTo("v");
            }
            assertExpiresOnTime(key, () -> assertThat(direct.pexpire(key, TTL_MS)).isEqualTo(1));
        }
    }

    /**
     * Runs {@code setTtl} (which gives {@code key} the value "v" and a TTL of {@link #TTL_MS}, or
     * that TTL only), then reads the key through A and B for 700 ms. Redis starts the TTL before it
     * acknowledges, so the key has expired by acknowledgement + TTL: no read that begins after that
     * plus {@link #EXPIRY_GRACE_MS} may return a value.
     */
    private static void assertExpiresOnTime(String key, Runnable setTtl) {
        record Read(String proxy, long startNanos, String value) {
        }
        List<Read> reads = new ArrayList<>();
        try (Jedis a = jedis(proxyA); Jedis b = jedis(proxyB)) {
            setTtl.run();
            long ack = System.nanoTime();
            long end = ack + TimeUnit.MILLISECONDS.toNanos(700);
            while (System.nanoTime() < end) {
                long start = System.nanoTime();
                reads.add(new Read("A", start, a.get(key)));
                start = System.nanoTime();
                reads.add(new Read("B", start, b.get(key)));
                sleepMillis(1);
            }
            long expired = ack + TimeUnit.MILLISECONDS.toNanos(TTL_MS + EXPIRY_GRACE_MS);
            List<String> late = reads.stream().filter(r -> r.startNanos() >= expired && r.value() != null)
                    .map(r -> r.proxy() + " returned \"" + r.value() + "\" " + millis(r.startNanos() - ack) + " after the TTL was set")
                    .toList();
            long lastValue = reads.stream().filter(r -> r.value() != null).mapToLong(Read::startNanos).max().orElse(ack);
            report(String.format("expiry of %s (TTL %d ms): last value read %s after the TTL was set, %d of %d reads after"
                    + " expiry + %d ms returned a value", key, TTL_MS, millis(lastValue - ack), late.size(),
                    reads.stream().filter(r -> r.startNanos() >= expired).count(), EXPIRY_GRACE_MS));
            assertThat(reads.get(0).value()).as("the key is readable right after the TTL is set").isEqualTo("v");
            assertThat(reads.get(1).value()).as("the key is readable right after the TTL is set").isEqualTo("v");
            assertThat(reads.stream().filter(r -> r.startNanos() >= expired)).as("reads after expiry").hasSizeGreaterThan(10);
            assertThat(late).as("reads that began after the key's expiry + %d ms", EXPIRY_GRACE_MS).isEmpty();
        }
    }

    // ---- (e): FLUSHALL on the backends ----

    @Test
    void shouldDropEveryCachedKeyWhenTheBackendsAreFlushed() {
        List<String> keys = keys("e", 16);
        try (Jedis a = jedis(proxyA); Jedis b = jedis(proxyB)) {
            for (String key : keys) {
                a.set(key, "v-" + key);
            }
            for (int i = 0; i < 3; i++) {
                for (String key : keys) {
                    assertThat(a.get(key)).isEqualTo("v-" + key);
                    assertThat(b.get(key)).isEqualTo("v-" + key);
                }
            }
            for (RedisExtension shard : shards()) {
                try (Jedis direct = jedis(shard)) {
                    assertThat(direct.flushAll()).isEqualTo("OK");
                }
            }
            long flushed = System.nanoTime();
            long deadline = flushed + TimeUnit.MILLISECONDS.toNanos(500);
            List<String> remaining;
            do {
                remaining = new ArrayList<>();
                for (String key : keys) {
                    String va = a.get(key);
                    String vb = b.get(key);
                    if (va != null) {
                        remaining.add("A " + key + "=" + va);
                    }
                    if (vb != null) {
                        remaining.add("B " + key + "=" + vb);
                    }
                }
            } while (!remaining.isEmpty() && System.nanoTime() < deadline);
            report("FLUSHALL on every backend: every key read as nil " + millis(System.nanoTime() - flushed)
                    + " after the last FLUSHALL was acknowledged" + (remaining.isEmpty() ? "" : " (NOT: " + remaining + ")"));
            assertThat(remaining).as("keys still served 500 ms after FLUSHALL on every backend").isEmpty();
        }
    }

    // ---- (f): the invalidation connection is lost ----

    private static final long KILL_CONVERGENCE_MS = 200;

    @Test
    void shouldNotServeStaleValuesAfterTheInvalidationConnectionIsKilled() throws InterruptedException {
        Map<String, RedisExtension> owners = keysOnEveryShard("f", 3);
        List<String> keys = List.copyOf(owners.keySet());
        try (Jedis a = jedis(proxyA); Jedis b = jedis(proxyB); DirectSession direct = new DirectSession(owners)) {
            for (String key : keys) {
                a.set(key, "old");
            }
            for (int i = 0; i < 3; i++) {
                for (String key : keys) {
                    assertThat(a.get(key)).isEqualTo("old");
                    assertThat(b.get(key)).isEqualTo("old");
                }
            }
            boolean l1 = L1Hits.exposed(proxyA);
            if (l1) {
                awaitInvalidationConnections(2);
            } else {
                report("no L1 metrics on /metrics: L1 is not there, so there may be no " + INVALIDATION_CONNECTION
                        + " connection to kill");
            }

            record Read(String proxy, String key, long startNanos, String value) {
            }
            Queue<Read> reads = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            Queue<Throwable> readerErrors = new ConcurrentLinkedQueue<>();
            List<Thread> readers = new ArrayList<>();
            for (ProxyExtension proxy : List.of(proxyA, proxyB)) {
                String name = proxy == proxyA ? "A" : "B";
                Thread t = new Thread(() -> {
                    try (Jedis reader = jedis(proxy)) {
                        for (int i = 0; !stop.get(); i++) {
                            String key = keys.get(i % keys.size());
                            long start = System.nanoTime();
                            reads.add(new Read(name, key, start, reader.get(key)));
                        }
                    } catch (Throwable e) {
                        readerErrors.add(e);
                    }
                }, "reader-" + name);
                t.setDaemon(true);
                readers.add(t);
                t.start();
            }
            Map<String, Long> acks = new HashMap<>();
            int killed;
            try {
                sleepMillis(50);
                killed = killInvalidationConnections();
                for (String key : keys) {
                    direct.set(key, "new");
                    acks.put(key, System.nanoTime());
                }
                sleepMillis(1_000);
            } finally {
                stop.set(true);
                for (Thread t : readers) {
                    t.join(TIMEOUT_MS * 2L);
                }
            }
            assertThat(readerErrors).isEmpty();

            long worst = -1;
            List<String> late = new ArrayList<>();
            Map<String, Read> last = new LinkedHashMap<>();
            for (Read r : reads) {
                last.put(r.proxy() + " " + r.key(), r);
                long ack = acks.get(r.key());
                if ("old".equals(r.value()) && r.startNanos() > ack) {
                    long lag = r.startNanos() - ack;
                    worst = Math.max(worst, lag);
                    if (lag > TimeUnit.MILLISECONDS.toNanos(KILL_CONVERGENCE_MS) && late.size() < 10) {
                        late.add(r.proxy() + " returned \"old\" for " + r.key() + " " + millis(lag) + " after \"new\" was acknowledged");
                    }
                }
            }
            report(String.format("killed %d %s connections, then wrote on the backends: %d reads, worst stale read began %s"
                            + " after the write was acknowledged", killed, INVALIDATION_CONNECTION, reads.size(),
                    worst < 0 ? "never" : millis(worst)));
            if (l1) {
                assertThat(killed).as("%s connections killed (one per proxy per backend)", INVALIDATION_CONNECTION)
                        .isGreaterThanOrEqualTo(2 * shards().size());
            }
            assertThat(reads).as("reads during the kill").hasSizeGreaterThan(100);
            assertThat(late).as("reads of the old value more than %d ms after the new one was acknowledged",
                    KILL_CONVERGENCE_MS).isEmpty();
            assertThat(last.values()).as("last read of each key through each proxy")
                    .allSatisfy(r -> assertThat(r.value()).as(r.proxy() + " " + r.key()).isEqualTo("new"));

            // Tracking must be back: entries cached since the kill are invalidated by the next direct write.
            for (int i = 0; i < 3; i++) {
                for (String key : keys) {
                    assertThat(a.get(key)).isEqualTo("new");
                    assertThat(b.get(key)).isEqualTo("new");
                }
            }
            for (String key : keys) {
                direct.set(key, "newer");
            }
            long written = System.nanoTime();
            List<String> stale = awaitValues(List.of(a, b), keys, "newer", Duration.ofSeconds(1));
            report("after the kill, a second write on the backends reached both proxies in " + millis(System.nanoTime() - written)
                    + (l1 ? "; " + INVALIDATION_CONNECTION + " connections now: " + invalidationConnectionCounts() : ""));
            assertThat(stale).as("stale values 1 s after a write on the backends, once the invalidation connections"
                    + " were killed and (presumably) reopened").isEmpty();
        }
    }

    /** Waits up to 2 s until every backend lists at least {@code perShard} invalidation connections. */
    private static void awaitInvalidationConnections(int perShard) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (true) {
            Map<String, Integer> counts = invalidationConnectionCounts();
            if (counts.values().stream().allMatch(n -> n >= perShard)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected at least " + perShard + " connections named " + INVALIDATION_CONNECTION
                        + " on every backend (one per proxy) once keys are cached, found " + counts);
            }
            sleepMillis(20);
        }
    }

    private static Map<String, Integer> invalidationConnectionCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (RedisExtension shard : shards()) {
            counts.put(shard.address(), invalidationConnectionIds(shard).size());
        }
        return counts;
    }

    private static List<String> invalidationConnectionIds(RedisExtension shard) {
        try (Jedis direct = jedis(shard)) {
            return direct.clientList().lines().filter(l -> l.contains(" name=" + INVALIDATION_CONNECTION + " "))
                    .map(l -> field(l, "id")).toList();
        }
    }

    /** {@code CLIENT KILL ID} for every invalidation connection on every backend; returns how many were killed. */
    private static int killInvalidationConnections() {
        int killed = 0;
        for (RedisExtension shard : shards()) {
            for (String id : invalidationConnectionIds(shard)) {
                String reply = shard.fixture().call("CLIENT", "KILL", "ID", id);
                if (reply.equals(":1\r\n")) {
                    killed++;
                }
            }
        }
        return killed;
    }

    /** The value of {@code name=} in a CLIENT LIST line. */
    private static String field(String clientListLine, String name) {
        Matcher m = Pattern.compile("(?:^| )" + name + "=(\\S*)").matcher(clientListLine);
        if (!m.find()) {
            throw new IllegalArgumentException("no " + name + "= in " + clientListLine);
        }
        return m.group(1);
    }

    // ---- (g): hits are served from memory ----

    @Test
    void shouldServeRepeatedReadsOfAHotKeyFromMemory() {
        String key = "g:hot";
        int reads = 1_000;
        RedisExtension owner = ownerAfterWriteThroughA(key);
        try (Jedis a = jedis(proxyA)) {
            a.set(key, "hot");
            assertThat(a.get(key)).isEqualTo("hot"); // fills L1
            assertThat(a.get(key)).isEqualTo("hot");
            OptionalDouble hitsBefore = metric(proxyA, "cacheproxy_l1_hits_total");
            long getsBefore = owner.fixture().commandCalls("get");
            for (int i = 0; i < reads; i++) {
                assertThat(a.get(key)).isEqualTo("hot");
            }
            OptionalDouble hitsAfter = metric(proxyA, "cacheproxy_l1_hits_total");
            long backendGets = owner.fixture().commandCalls("get") - getsBefore;
            report(String.format("%d GETs of one key through A: %s L1 hits, %d GETs reached the backend", reads,
                    hitsAfter.isPresent() && hitsBefore.isPresent()
                            ? Long.toString(Math.round(hitsAfter.getAsDouble() - hitsBefore.getAsDouble())) : "no",
                    backendGets));

            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(hitsAfter.isPresent()).as("cacheproxy_l1_hits_total on A's /metrics").isTrue();
            if (hitsAfter.isPresent() && hitsBefore.isPresent()) {
                soft.assertThat(hitsAfter.getAsDouble() - hitsBefore.getAsDouble()).as("L1 hits for %d GETs", reads)
                        .isBetween(reads - 5.0, reads + 5.0);
            }
            soft.assertThat(backendGets).as("GETs that reached the backend for %d GETs of a cached key", reads)
                    .isLessThanOrEqualTo(5);
            soft.assertAll();
        }
    }

    /** Refresh-ahead: a hot key changed on the backend is read again in the background, so it stays a hit. */
    @Test
    void shouldRefreshAHotKeyChangedElsewhereSoThatItStaysAHit() {
        String key = "h:refreshed";
        RedisExtension owner = ownerAfterWriteThroughA(key);
        try (Jedis a = jedis(proxyA); Jedis direct = jedis(owner)) {
            a.set(key, "v1");
            for (int i = 0; i < 50; i++) {
                assertThat(a.get(key)).isEqualTo("v1");
            }
            double refreshesBefore = metric(proxyA, "cacheproxy_l1_refreshes_total").orElseThrow();
            direct.set(key, "v2");
            await().atMost(Duration.ofSeconds(2)).until(() ->
                    metric(proxyA, "cacheproxy_l1_refreshes_total").orElseThrow() > refreshesBefore);
            long getsBefore = owner.fixture().commandCalls("get");
            double hitsBefore = metric(proxyA, "cacheproxy_l1_hits_total").orElseThrow();
            await().atMost(Duration.ofSeconds(2)).until(() -> "v2".equals(a.get(key)));
            assertThat(metric(proxyA, "cacheproxy_l1_hits_total").orElseThrow())
                    .as("the new value was served from L1").isGreaterThan(hitsBefore);
            assertThat(owner.fixture().commandCalls("get")).as("GETs that reached the backend after the refresh")
                    .isEqualTo(getsBefore);
        }
    }

    /** MGET: keys L1 holds are answered from memory, the others read; the reply is MGET's, in key order. */
    @Test
    void shouldAnswerMgetFromL1ForTheKeysItHoldsAndReadTheRest() {
        List<String> strings = keys("m", 6);
        try (Jedis a = jedis(proxyA)) {
            for (String key : strings) {
                a.set(key, "v-" + key);
            }
            a.hset("m:hash", "f", "1");
            for (int i = 0; i < 2; i++) {       // hold three of them in L1
                a.get(strings.get(0));
                a.get(strings.get(2));
                a.get(strings.get(4));
            }
            double hitsBefore = metric(proxyA, "cacheproxy_l1_hits_total").orElseThrow();
            String[] asked = {strings.get(0), strings.get(1), strings.get(2), "m:hash", strings.get(3),
                    "m:missing", strings.get(4), strings.get(5)};
            assertThat(a.mget(asked)).containsExactly("v-m:0", "v-m:1", "v-m:2", null, "v-m:3", null, "v-m:4",
                    "v-m:5");
            assertThat(metric(proxyA, "cacheproxy_l1_hits_total").orElseThrow() - hitsBefore)
                    .as("keys answered from L1").isEqualTo(3.0);
            // read once more (each was written once: a key is kept out of L1 until read more often than
            // written), the hot keys it read were filled: now all six strings are held
            a.mget(strings.toArray(String[]::new));
            double hitsBeforeSecond = metric(proxyA, "cacheproxy_l1_hits_total").orElseThrow();
            assertThat(a.mget(strings.toArray(String[]::new)))
                    .containsExactly("v-m:0", "v-m:1", "v-m:2", "v-m:3", "v-m:4", "v-m:5");
            assertThat(metric(proxyA, "cacheproxy_l1_hits_total").orElseThrow() - hitsBeforeSecond)
                    .as("keys answered from L1 the second time").isEqualTo(6.0);
            // and a write drops what MGET reads
            a.set(strings.get(2), "new");
            assertThat(a.mget(strings.get(2), strings.get(0))).containsExactly("new", "v-m:0");
        }
    }

    // ---- helpers ----

    private static List<String> keys(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> prefix + ":" + i).toList();
    }

    /** RESP2, as Jedis speaks it, without the HELLO probe (which only logs a warning). */
    private static final JedisClientConfig CLIENT = DefaultJedisClientConfig.builder()
            .timeoutMillis(TIMEOUT_MS).autoNegotiateProtocol(false).build();

    private static Jedis jedis(ProxyExtension proxy) {
        return new Jedis(proxy.host(), proxy.port(), CLIENT);
    }

    private static Jedis jedis(RedisExtension shard) {
        return new Jedis(shard.host(), shard.port(), CLIENT);
    }

    /** The shard that holds each of {@code keys}, which must exist on exactly one. */
    private static Map<String, RedisExtension> owners(Collection<String> keys) {
        Map<String, RedisExtension> owners = new LinkedHashMap<>();
        for (RedisExtension shard : shards()) {
            try (Jedis direct = jedis(shard)) {
                for (String key : keys) {
                    if (direct.exists(key)) {
                        RedisExtension other = owners.put(key, shard);
                        assertThat(other).as("%s on two shards", key).isNull();
                    }
                }
            }
        }
        assertThat(owners.keySet()).as("every key is on one shard").containsExactlyInAnyOrderElementsOf(keys);
        return owners;
    }

    private static RedisExtension ownerAfterWriteThroughA(String key) {
        try (Jedis a = jedis(proxyA)) {
            a.set(key, "probe");
        }
        return owners(List.of(key)).get(key);
    }

    /** Keys {@code prefix:0..}, written through A, until every shard holds at least {@code perShard} of them. */
    private static Map<String, RedisExtension> keysOnEveryShard(String prefix, int perShard) {
        List<String> keys = new ArrayList<>();
        try (Jedis a = jedis(proxyA)) {
            for (int i = 0; i < 200; i++) {
                String key = prefix + ":" + i;
                a.set(key, "probe");
                keys.add(key);
                Map<String, RedisExtension> owners = owners(keys);
                if (shards().stream().allMatch(s -> owners.values().stream().filter(s::equals).count() >= perShard)) {
                    return owners;
                }
            }
        }
        throw new AssertionError("200 keys did not cover every shard " + perShard + " times");
    }

    /** Polls until every client reads {@code expected} for every key, or {@code within} passes; returns what differed last. */
    private static List<String> awaitValues(List<Jedis> clients, List<String> keys, String expected, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        List<String> differing;
        do {
            differing = new ArrayList<>();
            for (int c = 0; c < clients.size(); c++) {
                for (String key : keys) {
                    String v = clients.get(c).get(key);
                    if (!expected.equals(v)) {
                        differing.add("client " + c + " " + key + "=" + v);
                    }
                }
            }
        } while (!differing.isEmpty() && System.nanoTime() < deadline);
        return differing;
    }

    private static Endpoint through(String name, ProxyExtension proxy) {
        return new Endpoint(name, () -> new JedisSession(jedis(proxy)));
    }

    private static Endpoint directly(String name, Map<String, RedisExtension> owners) {
        return new Endpoint(name, () -> new DirectSession(owners));
    }

    private record JedisSession(Jedis jedis) implements Session {
        @Override
        public void set(String key, String value) {
            assertOk(jedis.set(key, value));
        }

        @Override
        public String get(String key) {
            return jedis.get(key);
        }

        @Override
        public void close() {
            jedis.close();
        }
    }

    /** Writes and reads each key on the shard that owns it, bypassing the proxies. */
    private static final class DirectSession implements Session {
        private final Map<String, RedisExtension> owners;
        private final Map<RedisExtension, Jedis> connections = new HashMap<>();

        DirectSession(Map<String, RedisExtension> owners) {
            this.owners = Map.copyOf(owners);
        }

        private Jedis connection(String key) {
            RedisExtension owner = owners.get(key);
            if (owner == null) {
                throw new IllegalArgumentException("key: " + key + " (expected: one of " + owners.keySet() + ")");
            }
            return connections.computeIfAbsent(owner, NearCacheIT::jedis);
        }

        @Override
        public void set(String key, String value) {
            assertOk(connection(key).set(key, value));
        }

        @Override
        public String get(String key) {
            return connection(key).get(key);
        }

        @Override
        public void close() {
            connections.values().forEach(Jedis::close);
        }
    }

    private static void assertOk(String reply) {
        if (!"OK".equals(reply)) {
            throw new IllegalStateException("SET replied " + reply);
        }
    }

    /** L1 hits of one proxy from the start of a test, if its /metrics has them. */
    private static final class L1Hits {
        private final ProxyExtension proxy;
        private final OptionalDouble before;

        L1Hits(ProxyExtension proxy) {
            this.proxy = proxy;
            this.before = metric(proxy, "cacheproxy_l1_hits_total");
        }

        static boolean exposed(ProxyExtension proxy) {
            return metric(proxy, "cacheproxy_l1_hits_total").isPresent();
        }

        OptionalDouble delta() {
            OptionalDouble after = metric(proxy, "cacheproxy_l1_hits_total");
            return before.isPresent() && after.isPresent()
                    ? OptionalDouble.of(after.getAsDouble() - before.getAsDouble()) : OptionalDouble.empty();
        }

        String summary() {
            OptionalDouble d = delta();
            return "\n  L1 hits on " + (proxy == proxyA ? "A" : "B") + ": "
                    + (d.isPresent() ? Long.toString(Math.round(d.getAsDouble())) : "no L1 metrics");
        }

        /** With L1 there (its metrics are), the run must have been served partly from it. */
        void assertServedSome() {
            OptionalDouble d = delta();
            if (d.isPresent()) {
                assertThat(d.getAsDouble()).as("L1 hits on %s during the run: L1 is on, so some reads must have"
                        + " been served from it", proxy == proxyA ? "A" : "B").isPositive();
            }
        }
    }

    /** The sum of every sample of {@code name} (any labels) on the proxy's /metrics, or empty when there is none. */
    private static OptionalDouble metric(ProxyExtension proxy, String name) {
        String body = proxy.proxy().admin("/metrics").body();
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*})?\\s+(\\S+)$", Pattern.MULTILINE).matcher(body);
        boolean found = false;
        double sum = 0;
        while (m.find()) {
            found = true;
            sum += Double.parseDouble(m.group(2));
        }
        return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
    }

    private static void report(String line) {
        System.out.println("[NearCacheIT] " + line);
    }

    private static String micros(long nanos) {
        return String.format("%.0f µs", nanos / 1e3);
    }

    private static String millis(long nanos) {
        return String.format("%.1f ms", nanos / 1e6);
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
