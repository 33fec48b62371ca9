package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.proxy.replication.NodeRepair;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.routing.HashRing;
import io.cacheproxy.routing.KeyHash;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link NodeRepair} against three real {@code redis-server}s that form a sharded pool with
 * replication factor 2 over a {@link HashRing}: node 1 is repaired, nodes 2 and 3 are its sources.
 * The tests stand in for the proxy: they write each key to its replicas themselves, restart or
 * freeze the target, and play the {@link NodeRepair.WriteFence} (a fake that can report a write at
 * a chosen moment), then compare every key on the target with its source, type by type.
 *
 * <p>{@link #shouldRepairManyKeys} is the timing run: 20,000 keys by default, any number with
 * {@code -Drepair.keys=1000000} ({@code -Drepair.batch=N} sets the batch size, 1000 by default); it
 * prints {@code [RepairIT] repaired N keys in T ms (X keys/s)}.
 */
@Timeout(600)
class RepairIT {
    private static final String POOL = "main";
    private static final int FACTOR = 2;
    private static final int VNODES = 160;
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    /** How far a restored key's PTTL may be from its source's (ms): a round trip, plus the gap between the two reads. */
    private static final long TTL_TOLERANCE = 1000;

    @RegisterExtension
    static final RedisExtension node1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node3 = new RedisExtension();

    /** What the repairs connect with: as the proxy should configure it, no reconnect behind our back. */
    private static RedisClient repairClient;
    /** What the tests read and write the nodes with. */
    private static RedisClient testClient;

    private List<BackendNode> nodes;
    private BackendNode target;
    private HashRing ring;
    private final Map<String, StatefulRedisConnection<String, String>> connections = new HashMap<>();

    @BeforeAll
    static void createClients() {
        ClientOptions noReconnect = ClientOptions.builder().autoReconnect(false)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build();
        repairClient = RedisClient.create();
        repairClient.setOptions(noReconnect);
        testClient = RedisClient.create();
        testClient.setOptions(noReconnect);
    }

    @AfterAll
    static void shutdownClients() {
        repairClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        testClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    @BeforeEach
    void flushAndPlace() {
        nodes = List.of(new BackendNode(POOL, node1.host(), node1.port()),
                new BackendNode(POOL, node2.host(), node2.port()),
                new BackendNode(POOL, node3.host(), node3.port()));
        target = nodes.get(0);
        ring = new HashRing(nodes.stream().map(BackendNode::name).toList(), VNODES);
        for (BackendNode node : nodes) {
            redis(node).flushall();
        }
    }

    @AfterEach
    void closeConnections() {
        connections.values().forEach(StatefulRedisConnection::close);
        connections.clear();
    }

    // ---------------------------------------------------------------------------------------------
    // (a) a node restarted empty

    @Test
    void shouldCopyExactlyTheKeysARestartedNodeShouldHold() {
        List<String> keys = writeEveryType(60);
        restartTarget();
        assertThat(redis(target).dbsize()).isZero();

        NodeRepair.Result result = repair(noWrites()).run();

        List<String> held = keys.stream().filter(this::targetHolds).toList();
        assertThat(result.complete()).as("%s", result).isTrue();
        assertThat(result.copied()).isEqualTo(held.size());
        assertThat(result.deleted()).isZero();
        assertThat(result.retried()).isZero();
        assertThat(redis(target).dbsize()).as("keys on the target").isEqualTo(held.size());
        assertThat(held.stream().map(k -> redis(target).type(k)).collect(Collectors.toSet()))
                .as("types among the keys the target holds")
                .containsExactlyInAnyOrder("string", "hash", "list", "set", "zset");
        assertTargetMatchesSources(keys);
        for (String key : keys) {
            if (!targetHolds(key)) {
                assertThat(redis(target).exists(key)).as("%s is not the target's", key).isZero();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // (b) a node that was frozen while its keys were written and deleted elsewhere

    @Test
    void shouldCorrectStaleValuesAndDeleteWhatWasDeletedOnTheSource() {
        List<String> keys = new ArrayList<>(writeEveryType(40));
        String foreign = keyNotHeldBy(target, "foreign:");
        redis(target).set(foreign, "left alone");   // not the target's key: not the repair's business

        node1.fixture().pause();   // what the proxy keeps sending it is lost from here on
        List<String> deletedWhileAway = new ArrayList<>();
        int changed = 0;
        for (String key : keys) {
            if (!targetHolds(key)) {
                continue;
            }
            switch (changed++ % 6) {
                case 0 -> {
                    onSources(key, c -> c.del(key));
                    deletedWhileAway.add(key);
                }
                case 1 -> onSources(key, c -> {
                    c.del(key);
                    c.hset(key, Map.of("now", "a hash", "was", "something else"));
                });
                case 2 -> onSources(key, c -> c.pexpire(key, 45_000));
                case 3 -> onSources(key, c -> c.persist(key));
                case 4 -> onSources(key, c -> {
                    c.del(key);
                    c.rpush(key, "new", "list");
                });
                default -> { }   // unchanged
            }
        }
        for (int i = 0; i < 50; i++) {
            String key = "new:" + i;
            onSources(key, c -> c.set(key, "written while the target was away"));
            keys.add(key);
        }
        node1.fixture().resume();

        NodeRepair.Result result = repair(noWrites()).run();

        assertThat(result.complete()).as("%s", result).isTrue();
        assertThat(result.deleted()).isEqualTo(deletedWhileAway.size());
        assertThat(deletedWhileAway).isNotEmpty();
        for (String key : deletedWhileAway) {
            assertThat(redis(target).exists(key)).as("%s was deleted on its source", key).isZero();
        }
        assertTargetMatchesSources(keys);
        assertThat(redis(target).get(foreign)).isEqualTo("left alone");
    }

    // ---------------------------------------------------------------------------------------------
    // (c) the write fence

    @Test
    void shouldRedoACopyDuringWhichAWriteWentThrough() {
        writeEveryType(20);
        String both = keyHeldBy(target, "race:both:");
        String sourceOnly = keyHeldBy(target, "race:source-only:");
        onReplicas(both, c -> c.set(both, "v1"));
        onReplicas(sourceOnly, c -> c.set(sourceOnly, "v1"));
        restartTarget();
        Map<String, AtomicInteger> stamps = new ConcurrentHashMap<>();
        AtomicInteger raced = new AtomicInteger();
        NodeRepair.WriteFence fence = new NodeRepair.WriteFence() {
            @Override
            public long stamp(byte[] key) {
                stamps.computeIfAbsent(text(key), k -> new AtomicInteger()).incrementAndGet();
                return 0;
            }

            @Override
            public boolean quietSince(byte[] key, long stamp) {
                String k = text(key);
                if (stamps.get(k).get() > 1) {
                    return true;
                }
                if (k.equals(both)) {
                    // a client's SET went to both replicas while the key was being copied
                    onReplicas(k, c -> c.set(k, "v2"));
                    raced.incrementAndGet();
                    return false;
                }
                if (k.equals(sourceOnly)) {
                    // the same race, where the SET reached the target before the RESTORE of v1,
                    // which undid it: in the end only the source has v2
                    redis(sourceOf(k)).set(k, "v2");
                    raced.incrementAndGet();
                    return false;
                }
                return true;
            }
        };

        NodeRepair.Result result = repair(fence).run();

        assertThat(raced).hasValue(2);
        assertThat(result.complete()).as("%s", result).isTrue();
        assertThat(result.retried()).isEqualTo(2);
        assertThat(stamps.get(both)).hasValue(2);
        assertThat(stamps.get(sourceOnly)).hasValue(2);
        assertThat(redis(target).get(both)).isEqualTo("v2");
        assertThat(redis(target).get(sourceOnly)).isEqualTo("v2");
        assertThat(redis(sourceOf(sourceOnly)).get(sourceOnly)).isEqualTo("v2");
    }

    @Test
    void shouldFailAKeyThatIsWrittenDuringEveryCopy() {
        List<String> keys = writeEveryType(10);
        String hot = keyHeldBy(target, "hot:");
        onReplicas(hot, c -> c.set(hot, "v0"));
        restartTarget();
        AtomicInteger hotStamps = new AtomicInteger();
        NodeRepair.WriteFence fence = new NodeRepair.WriteFence() {
            @Override
            public long stamp(byte[] key) {
                if (text(key).equals(hot)) {
                    hotStamps.incrementAndGet();
                }
                return 7;
            }

            @Override
            public boolean quietSince(byte[] key, long stamp) {
                assertThat(stamp).isEqualTo(7);
                return !text(key).equals(hot);
            }
        };

        NodeRepair.Result result = repair(fence).run();

        assertThat(result.failed()).isEqualTo(1);
        assertThat(result.complete()).isFalse();
        assertThat(result.retried()).isEqualTo(NodeRepair.MAX_REDOS);
        assertThat(hotStamps).hasValue(NodeRepair.MAX_REDOS + 1);   // the first copy and MAX_REDOS more
        assertTargetMatchesSources(keys);
    }

    // ---------------------------------------------------------------------------------------------
    // (d) keys clients touched go first

    @Test
    void shouldRepairKeysAskedForBeforeTheScan() {
        writeEveryType(200);
        List<String> touched = List.of(keyHeldBy(target, "touched:a:"), keyHeldBy(target, "touched:b:"),
                keyHeldBy(target, "touched:c:"));
        touched.forEach(k -> onReplicas(k, c -> c.set(k, "fresh " + k)));
        String deleted = keyHeldBy(target, "touched:deleted:");
        String foreign = keyNotHeldBy(target, "touched:foreign:");
        onReplicas(foreign, c -> c.set(foreign, "not the target's"));
        restartTarget();
        redis(target).set(deleted, "stale");   // its sources have no such key
        List<String> order = new CopyOnWriteArrayList<>();
        NodeRepair[] repair = new NodeRepair[1];
        NodeRepair.WriteFence fence = new NodeRepair.WriteFence() {
            @Override
            public long stamp(byte[] key) {
                order.add(text(key));
                repair[0].cancel();   // so only the first round runs
                return 0;
            }

            @Override
            public boolean quietSince(byte[] key, long stamp) {
                return true;
            }
        };
        repair[0] = repair(fence, 10);
        touched.forEach(k -> repair[0].repairSoon(bytes(k)));
        repair[0].repairSoon(bytes(deleted));
        repair[0].repairSoon(bytes(foreign));
        repair[0].repairSoon(bytes(touched.get(0)));   // asked twice, done once

        NodeRepair.Result result = repair[0].run();

        assertThat(result.cancelled()).isTrue();
        assertThat(result.complete()).isFalse();
        assertThat(order).as("keys copied, in order").containsExactly(touched.get(0), touched.get(1),
                touched.get(2), deleted);
        assertThat(result.copied()).isEqualTo(3);
        assertThat(result.deleted()).isEqualTo(1);
        for (String key : touched) {
            assertThat(redis(target).get(key)).isEqualTo("fresh " + key);
        }
        assertThat(redis(target).exists(deleted)).isZero();
        assertThat(redis(target).dbsize()).as("nothing but the keys asked for").isEqualTo(3);
    }

    @Test
    void shouldRepairAKeyAskedForDuringTheScanBeforeTheNextBatch() {
        List<String> keys = writeEveryType(150);
        int batch = 20;
        // its source is the node scanned last, so the scan alone would come to it late
        String late = keyHeldByTargetAnd(nodes.get(2), "late:");
        onReplicas(late, c -> c.set(late, "asked for"));
        keys.add(late);
        restartTarget();
        List<String> order = new CopyOnWriteArrayList<>();
        AtomicInteger askedAt = new AtomicInteger(-1);
        NodeRepair[] repair = new NodeRepair[1];
        NodeRepair.WriteFence fence = new NodeRepair.WriteFence() {
            @Override
            public long stamp(byte[] key) {
                order.add(text(key));
                if (order.size() == 3 && !text(key).equals(late)) {
                    askedAt.set(order.size());
                    // from another thread, as a client's event loop would
                    Thread asker = Thread.ofPlatform().start(() -> repair[0].repairSoon(bytes(late)));
                    try {
                        asker.join();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
                return 0;
            }

            @Override
            public boolean quietSince(byte[] key, long stamp) {
                return true;
            }
        };
        repair[0] = repair(fence, batch);

        NodeRepair.Result result = repair[0].run();

        assertThat(result.complete()).as("%s", result).isTrue();
        assertThat(askedAt.get()).isPositive();
        int first = order.indexOf(late);
        assertThat(first).as("stamps before the key asked for").isLessThan(askedAt.get() + batch);
        assertThat(order.size()).as("keys copied in all").isGreaterThan(first + 4 * batch);
        assertTargetMatchesSources(keys);
    }

    /** {@link NodeRepair#repairKeys}: keys written on one replica alone (a transaction) are copied, nothing else. */
    @Test
    void shouldRepairJustTheKeysGiven() {
        writeEveryType(30);
        String written = keyHeldBy(target, "multi:written:");
        String removed = keyHeldBy(target, "multi:removed:");
        String foreign = keyNotHeldBy(target, "multi:foreign:");
        onReplicas(removed, c -> c.set(removed, "old"));
        onSources(written, c -> c.rpush(written, "only", "on", "the", "source"));
        onSources(removed, c -> c.del(removed));
        onReplicas(foreign, c -> c.set(foreign, "elsewhere"));
        long before = redis(target).dbsize();

        NodeRepair.Result result = repair(noWrites()).repairKeys(List.of(bytes(written), bytes(removed), bytes(foreign)));

        assertThat(result.complete()).as("%s", result).isTrue();
        assertThat(result.scanned()).isEqualTo(3);
        assertThat(result.copied()).isEqualTo(1);
        assertThat(result.deleted()).isEqualTo(1);
        assertThat(redis(target).lrange(written, 0, -1)).containsExactly("only", "on", "the", "source");
        assertThat(redis(target).exists(removed, foreign)).isZero();
        assertThat(redis(target).dbsize()).isEqualTo(before);   // one key more, one less
    }

    // ---------------------------------------------------------------------------------------------
    // (e) nodes that do not answer

    @Test
    void shouldCountFailuresAndNotThrowWhenASourceIsDown() {
        List<String> keys = writeEveryType(60);
        restartTarget();
        closeConnection(nodes.get(2));
        node3.fixture().kill();   // the proxy has not noticed yet: still a trusted source

        long start = System.nanoTime();
        NodeRepair.Result result = repair(noWrites()).run();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(result.failed()).as("%s", result).isPositive();
        assertThat(result.complete()).isFalse();
        assertThat(millis).isLessThan(10_000);
        List<String> fromNode2 = keys.stream().filter(this::targetHolds)
                .filter(k -> sourceOf(k) == nodes.get(1)).toList();
        assertThat(result.copied()).isEqualTo(fromNode2.size());
        assertTargetMatchesSources(fromNode2);
    }

    @Test
    void shouldGiveUpOnAFrozenSourceWithinTheTimeout() {
        List<String> keys = writeEveryType(30);
        restartTarget();
        node3.fixture().pause();
        try {
            long start = System.nanoTime();
            NodeRepair.Result result = new NodeRepair(POOL, target, nodes, this::replicasOf, n -> n != target,
                    noWrites(), repairClient, Duration.ofMillis(500), 100).run();
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(result.failed()).as("%s", result).isPositive();
            assertThat(millis).isLessThan(5_000);
            List<String> fromNode2 = keys.stream().filter(this::targetHolds)
                    .filter(k -> sourceOf(k) == nodes.get(1)).toList();
            assertThat(result.copied()).isEqualTo(fromNode2.size());
        } finally {
            node3.fixture().resume();
        }
    }

    /** With a Lettuce client on its default options (auto-reconnect on), as the proxy may pass. */
    @Test
    void shouldStopUsingASourceThatDiesDuringTheRun() {
        List<String> keys = writeEveryType(60);
        restartTarget();
        BackendNode dying = nodes.get(2);
        closeConnection(dying);
        AtomicInteger killed = new AtomicInteger();
        NodeRepair.WriteFence fence = new NodeRepair.WriteFence() {
            @Override
            public long stamp(byte[] key) {
                if (sourceOf(text(key)) == dying && killed.getAndIncrement() == 0) {
                    node3.fixture().kill();   // its SCAN was answered; the read about to go is not
                }
                return 0;
            }

            @Override
            public boolean quietSince(byte[] key, long stamp) {
                return true;
            }
        };
        RedisClient defaults = RedisClient.create();
        try {
            long start = System.nanoTime();
            NodeRepair.Result result = new NodeRepair(POOL, target, nodes, this::replicasOf, n -> n != target,
                    fence, defaults, Duration.ofSeconds(1), 50).run();
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(killed.get()).isPositive();
            assertThat(result.failed()).as("%s", result).isPositive();
            assertThat(millis).isLessThan(10_000);
            List<String> fromNode2 = keys.stream().filter(this::targetHolds)
                    .filter(k -> sourceOf(k) == nodes.get(1)).toList();
            assertThat(result.copied()).isEqualTo(fromNode2.size());
            assertTargetMatchesSources(fromNode2);
        } finally {
            defaults.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    @Test
    void shouldFailWithoutThrowingWhenTheTargetIsDown() {
        writeEveryType(5);
        node1.fixture().kill();

        NodeRepair.Result result = repair(noWrites()).run();

        assertThat(result.failed()).isPositive();
        assertThat(result.copied()).isZero();
    }

    // ---------------------------------------------------------------------------------------------
    // timing

    /**
     * The test JVMs run Netty's leak detector in paranoid mode (the parent pom's
     * {@code test.jvm.args}), which records a stack trace at every buffer access of every Lettuce
     * command and so measures itself, slowing the repair about fortyfold. The proxy runs without it,
     * so it is off while this test loads and measures, and set back afterwards (the test classes of
     * a run go one after the other).
     */
    @Test
    void shouldRepairManyKeys() {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            repairManyKeys(Integer.getInteger("repair.keys", 20_000));
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private void repairManyKeys(int count) {
        byte[] value = "v".repeat(32).getBytes(StandardCharsets.UTF_8);
        long loadStart = System.nanoTime();
        long expected = load(count, value);
        System.out.printf("[RepairIT] loaded %d keys (%d for the target) in %d ms%n", count, expected,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStart));
        assertThat(redis(target).dbsize()).isZero();

        NodeRepair.Result result = new NodeRepair(POOL, target, nodes, this::replicasOf, n -> n != target,
                noWrites(), repairClient, Duration.ofSeconds(10), Integer.getInteger("repair.batch", 1000)).run();

        long repaired = result.copied() + result.deleted();
        long millis = Math.max(1, result.took().toMillis());
        System.out.printf("[RepairIT] repaired %d keys in %d ms (%d keys/s)%n", repaired, millis,
                repaired * 1000 / millis);
        System.out.printf("[RepairIT] %s%n", result);
        assertThat(result.complete()).as("%s", result).isTrue();
        assertThat(result.copied()).isEqualTo(expected);
        assertThat(redis(target).dbsize()).isEqualTo(expected);
        for (int i = 0; i < count; i += Math.max(1, count / 200)) {
            String key = "key:" + i;
            assertThat(redis(target).get(key)).as(key).isEqualTo(targetHolds(key) ? "v".repeat(32) : null);
        }
    }

    /**
     * Writes {@code key:0..count-1} to their replicas other than the target (which stays empty),
     * pipelined; returns how many of them the target should hold.
     */
    private long load(int count, byte[] value) {
        List<StatefulRedisConnection<byte[], byte[]>> loaders = new ArrayList<>();
        try {
            Map<String, RedisAsyncCommands<byte[], byte[]>> byNode = new LinkedHashMap<>();
            for (BackendNode node : nodes) {
                StatefulRedisConnection<byte[], byte[]> c = testClient.connect(ByteArrayCodec.INSTANCE,
                        uri(node, Duration.ofSeconds(30)));
                c.setAutoFlushCommands(false);
                loaders.add(c);
                byNode.put(node.name(), c.async());
            }
            long forTarget = 0;
            List<RedisFuture<?>> pending = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] key = bytes("key:" + i);
                for (BackendNode replica : replicasOf(key)) {
                    if (replica == target) {
                        forTarget++;
                    } else {
                        pending.add(byNode.get(replica.name()).set(key, value));
                    }
                }
                if (pending.size() >= 20_000 || i == count - 1) {
                    loaders.forEach(StatefulRedisConnection::flushCommands);
                    assertThat(LettuceFutures.awaitAll(Duration.ofSeconds(30), pending.toArray(RedisFuture[]::new)))
                            .isTrue();
                    pending.clear();
                }
            }
            return forTarget;
        } finally {
            loaders.forEach(StatefulRedisConnection::close);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // the pool the tests stand in for

    private NodeRepair repair(NodeRepair.WriteFence fence) {
        return repair(fence, 50);
    }

    private NodeRepair repair(NodeRepair.WriteFence fence, int batchSize) {
        Predicate<BackendNode> trusted = n -> n != target;
        return new NodeRepair(POOL, target, nodes, this::replicasOf, trusted, fence, repairClient, TIMEOUT, batchSize);
    }

    private static NodeRepair.WriteFence noWrites() {
        AtomicLong stamps = new AtomicLong();
        return new NodeRepair.WriteFence() {
            @Override
            public long stamp(byte[] key) {
                return stamps.incrementAndGet();
            }

            @Override
            public boolean quietSince(byte[] key, long stamp) {
                return true;
            }
        };
    }

    private List<BackendNode> replicasOf(byte[] key) {
        int[] indexes = ring.nodesFor(KeyHash.hash(key), FACTOR);
        List<BackendNode> replicas = new ArrayList<>(indexes.length);
        for (int index : indexes) {
            replicas.add(nodes.get(index));
        }
        return replicas;
    }

    private List<BackendNode> replicasOf(String key) {
        return replicasOf(bytes(key));
    }

    private boolean targetHolds(String key) {
        return replicasOf(key).contains(target);
    }

    /** The replica a repair of the target reads {@code key} from. */
    private BackendNode sourceOf(String key) {
        return replicasOf(key).stream().filter(n -> n != target).findFirst().orElseThrow();
    }

    private String keyHeldBy(BackendNode node, String prefix) {
        return findKey(prefix, k -> replicasOf(k).contains(node));
    }

    private String keyNotHeldBy(BackendNode node, String prefix) {
        return findKey(prefix, k -> !replicasOf(k).contains(node));
    }

    private String keyHeldByTargetAnd(BackendNode other, String prefix) {
        return findKey(prefix, k -> replicasOf(k).containsAll(List.of(target, other)));
    }

    private static String findKey(String prefix, Predicate<String> wanted) {
        for (int i = 0; i < 10_000; i++) {
            if (wanted.test(prefix + i)) {
                return prefix + i;
            }
        }
        throw new AssertionError("no key " + prefix + "N is placed as wanted");
    }

    /** Writes the key to every replica, as the proxy does. */
    private void onReplicas(String key, Consumer<RedisCommands<String, String>> write) {
        for (BackendNode replica : replicasOf(key)) {
            write.accept(redis(replica));
        }
    }

    /** Writes the key to its replicas other than the target, as the proxy does while the target is away. */
    private void onSources(String key, Consumer<RedisCommands<String, String>> write) {
        for (BackendNode replica : replicasOf(key)) {
            if (replica != target) {
                write.accept(redis(replica));
            }
        }
    }

    /**
     * {@code perType} keys of each kind, on their replicas: strings without and with a TTL, hashes,
     * lists, sets and sorted sets (some with a TTL too). Returns their names.
     */
    private List<String> writeEveryType(int perType) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < perType; i++) {
            String plain = "string:" + i;
            String expiring = "string:ttl:" + i;
            String hash = "hash:" + i;
            String list = "list:" + i;
            String set = "set:" + i;
            String zset = "zset:" + i;
            int n = i;
            onReplicas(plain, c -> c.set(plain, "value " + n));
            onReplicas(expiring, c -> c.set(expiring, "expiring " + n, SetArgs.Builder.px(60_000 + n * 1000L)));
            onReplicas(hash, c -> c.hset(hash, Map.of("field", "f" + n, "other", "o" + n)));
            onReplicas(list, c -> c.rpush(list, "a" + n, "b", "c", "a" + n));
            onReplicas(set, c -> c.sadd(set, "x" + n, "y", "z"));
            onReplicas(zset, c -> {
                c.zadd(zset, 1.5, "one");
                c.zadd(zset, n, "n" + n);
                if (n % 2 == 0) {
                    c.pexpire(zset, 120_000);
                }
            });
            keys.addAll(List.of(plain, expiring, hash, list, set, zset));
        }
        return keys;
    }

    /** Every key the target should hold has its source's type, content and (within tolerance) TTL. */
    private void assertTargetMatchesSources(List<String> keys) {
        int compared = 0;
        for (String key : keys) {
            if (!targetHolds(key)) {
                continue;
            }
            RedisCommands<String, String> source = redis(sourceOf(key));
            RedisCommands<String, String> onTarget = redis(target);
            assertThat(snapshot(onTarget, key)).as("%s on the target", key).isEqualTo(snapshot(source, key));
            long sourceTtl = source.pttl(key);
            long targetTtl = onTarget.pttl(key);
            if (sourceTtl < 0) {
                assertThat(targetTtl).as("PTTL of %s", key).isEqualTo(sourceTtl);
            } else {
                assertThat(targetTtl).as("PTTL of %s (source: %d)", key, sourceTtl)
                        .isBetween(sourceTtl - TTL_TOLERANCE, sourceTtl + TTL_TOLERANCE);
            }
            compared++;
        }
        assertThat(compared).as("keys compared").isPositive();
    }

    private static String snapshot(RedisCommands<String, String> c, String key) {
        String type = c.type(key);
        return type + ":" + switch (type) {
            case "none" -> "";
            case "string" -> c.get(key);
            case "hash" -> new TreeMap<>(c.hgetall(key)).toString();
            case "list" -> c.lrange(key, 0, -1).toString();
            case "set" -> new TreeSet<>(c.smembers(key)).toString();
            case "zset" -> c.zrangeWithScores(key, 0, -1).stream()
                    .map(v -> v.getValue() + "=" + v.getScore()).toList().toString();
            default -> "(not compared)";
        };
    }

    private RedisCommands<String, String> redis(BackendNode node) {
        return connections.computeIfAbsent(node.name(), n -> testClient.connect(uri(node, TIMEOUT))).sync();
    }

    /** Restarts the target empty, as after a crash; the test's connection to it is opened again. */
    private void restartTarget() {
        closeConnection(target);
        node1.fixture().restart();
    }

    private void closeConnection(BackendNode node) {
        StatefulRedisConnection<String, String> c = connections.remove(node.name());
        if (c != null) {
            c.close();
        }
    }

    private static RedisURI uri(BackendNode node, Duration timeout) {
        return RedisURI.Builder.redis(node.host(), node.port()).withTimeout(timeout).build();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
