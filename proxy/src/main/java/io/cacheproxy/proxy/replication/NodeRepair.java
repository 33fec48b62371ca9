package io.cacheproxy.proxy.replication;

import io.cacheproxy.proxy.upstream.BackendNode;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.RestoreArgs;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repairs one node of a replicated sharded pool that came back (restarted empty, or frozen and so
 * missed writes): when {@link #run()} returns {@linkplain Result#complete() complete}, the node
 * holds, for every key whose replicas include it, what the key's source replica held when the key
 * was copied, with the same remaining TTL, and none of the keys that were deleted meanwhile.
 *
 * <h2>What is copied from where</h2>
 * A key's <em>source</em> is the first of its replicas, in rank order, that is not the target and
 * that {@code trustedSource} accepts; a key with no source cannot be repaired and counts as failed.
 * The run has two phases, each a {@code SCAN} (with {@code COUNT batchSize}) of one node:
 * <ol>
 *   <li>the target's own keys, each of which it should hold is reconciled from its source, so that
 *       keys deleted (or expired) elsewhere while the node was away are deleted on it too;
 *   <li>every other node {@code P} that {@code trustedSource} accepts: each key of {@code P} whose
 *       replicas include the target and whose source is {@code P}.
 * </ol>
 * Between scan batches, keys queued by {@link #repairSoon} (clients touched them) go first. Keys
 * the target holds but should not (after a topology change) are left alone. A frozen node's keys
 * are read twice (once in each phase): keeping a set of the keys phase 1 saw would cost memory in
 * proportion to the keyspace.
 *
 * <p>{@link #repairKeys} repairs a given list of keys the same way, with no scan (keys written on
 * one replica alone).
 *
 * <h2>Reconciling one key</h2>
 * {@code stamp = fence.stamp(key)}; then one {@code EVALSHA} of {@link #READ_SCRIPT} reads the
 * key's {@code DUMP} payload and {@code PTTL} from the source atomically (an empty array when the
 * key is missing); then the target gets {@code RESTORE key ttl payload REPLACE}, or {@code DEL key}
 * when the source has no such key. Once the target has acknowledged, a copy is kept only if
 * {@link WriteFence#quietSince} says no write to the key went through this proxy in between (such
 * a write, applied to the source after the read and to the target before the {@code RESTORE}, would
 * be undone on the target); otherwise the key is done again in the next round, up to
 * {@value #MAX_REDOS} times (each counted in {@link Result#retried}), and then counts as failed.
 * The fence sees only this proxy's writes: see the caveat below.
 *
 * <h2>Pipelining</h2>
 * One connection per node, opened on first use (the target's first), with auto-flush off: a round
 * sends every source read of a batch, flushes, awaits them (at most {@code commandTimeout} for the
 * round), then sends every target write, flushes and awaits them. So a round costs two round trips
 * whatever its size, plus one for the {@code SCAN}.
 *
 * <h2>Failures</h2>
 * {@link #run()} never throws for a Redis error: an error reply to one key's read or write fails
 * that key; a node that cannot be connected to, drops the connection or does not answer within
 * {@code commandTimeout} is not sent anything more during the run, every key that needs it counts
 * as failed, and a scan that could not finish counts as one more failure. When the target is such a
 * node the run stops at once. The caller runs the repair again later; a repair is idempotent.
 *
 * <h2>Caveats</h2>
 * <ul>
 *   <li>Writes through <em>another</em> proxy are invisible to the fence. One that reaches the
 *       target between the source read and the {@code RESTORE} is overwritten on the target by the
 *       older value (the source keeps the new one); a non-idempotent one ({@code INCR},
 *       {@code LPUSH}) that the source applied before the read and the target after the
 *       {@code RESTORE} is applied twice on the target. Both leave the target diverged until a
 *       write replaces the whole value or the node is repaired again.
 *   <li>Only database 0 is repaired. TTLs are copied as relative times, so a key restored on the
 *       target lives up to one round trip longer than on the source.
 *   <li>{@code RESTORE} needs a target whose Redis version reads the source's {@code DUMP} format
 *       (same or newer); a key that the target refuses counts as failed.
 *   <li>A command that timed out may still be carried out later (a frozen node wakes up and reads
 *       it): such a late {@code RESTORE} can put an old value on the target. The run has then
 *       failed, so the node stays untrusted and the next run corrects it.
 *   <li>A round holds its batch's payloads in memory: a batch of very large values (big hashes,
 *       long lists) costs as much heap.
 * </ul>
 *
 * <p>{@link #run()} is meant for one thread at a time (a second concurrent call fails fast);
 * {@link #repairSoon} and {@link #cancel} are safe from any thread.
 */
public final class NodeRepair {
    private static final Logger log = LoggerFactory.getLogger(NodeRepair.class);

    /** How many times a key is done again after the fence saw a write during its copy. */
    public static final int MAX_REDOS = 10;
    /** At most this many {@link #repairSoon} keys wait; more are dropped (the scan gets to them). */
    static final int MAX_QUEUED = 100_000;
    /** How often a running repair logs its progress. */
    static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(5);
    /** How often a run may reload its read script on one node (after a {@code NOSCRIPT}). */
    private static final int MAX_SCRIPT_LOADS = 3;
    /** How long the last rounds, with nothing but keys to redo, wait for the writes in their way. */
    private static final Duration REDO_PAUSE = Duration.ofMillis(10);
    /** Per-key errors logged at WARN per run; the rest only at DEBUG. */
    private static final int MAX_KEY_WARNINGS = 5;

    /**
     * Reads a key's value and remaining TTL in one step, so that neither can change in between: an
     * empty array for a missing key, else {@code [DUMP payload, PTTL]}.
     */
    static final String READ_SCRIPT = """
            local payload = redis.call('DUMP', KEYS[1])
            if not payload then
              return {}
            end
            return {payload, redis.call('PTTL', KEYS[1])}
            """;

    /** A key's replicas, ranked (owner first); each a BackendNode (host(), port(), name()). */
    public interface Placement {
        List<BackendNode> replicasOf(byte[] key);
    }

    /** Tells the engine whether a write to a key went through this proxy while the key was being copied. */
    public interface WriteFence {
        /** A stamp to take before reading a key's value from its source. */
        long stamp(byte[] key);

        /** Whether no write to the key was in flight at stamp time or has started since (then a copy made in between is current). */
        boolean quietSince(byte[] key, long stamp);
    }

    /**
     * What a run did. {@code scanned} counts the keys the scans returned and the {@link #repairSoon}
     * keys looked at; {@code copied} the keys restored on the target, {@code deleted} those removed
     * from it, both only once the fence accepted the copy; {@code retried} the redos the fence asked
     * for; {@code failed} the keys that could not be repaired plus one per scan that could not
     * finish. A cancelled run has {@code cancelled} set and is never complete.
     */
    public record Result(long scanned, long copied, long deleted, long retried, long failed, Duration took,
                         boolean cancelled) {
        public Result(long scanned, long copied, long deleted, long retried, long failed, Duration took) {
            this(scanned, copied, deleted, retried, failed, took, false);
        }

        public Result {
            Objects.requireNonNull(took, "took");
        }

        public boolean complete() {
            return failed == 0 && !cancelled;
        }
    }

    private final String pool;
    private final BackendNode target;
    /** Every node that may be a source, in the order given, without the target. */
    private final List<BackendNode> others;
    private final Placement placement;
    /** During a topology change: where keys lived before it (their sources); null otherwise. */
    private volatile Placement previous;
    private final Predicate<BackendNode> trustedSource;
    private final WriteFence fence;
    private final RedisClient client;
    private final Function<BackendNode, RedisURI> uris;
    private final Duration commandTimeout;
    private final int batchSize;

    /** Keys from {@link #repairSoon}, oldest first, each once. Guarded by itself. */
    private final LinkedHashSet<ByteBuffer> soon = new LinkedHashSet<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile boolean cancelled;

    /**
     * @param pool           the pool's name, for the log
     * @param target         the node to repair
     * @param nodes          the pool's nodes (the target among them or not): the possible sources
     * @param placement      where each key lives
     * @param trustedSource  whether a node may be read from; asked for every key, so it may change
     *                       during a run
     * @param fence          the writes this proxy has in flight
     * @param client         the Lettuce client to connect with; not closed by the repair. Best
     *                       with {@code autoReconnect(false)}: with it on, commands that were
     *                       queued on a connection that dropped are sent again after the reconnect,
     *                       possibly after the run gave up on them
     * @param commandTimeout for connecting, and for each round of pipelined commands
     * @param batchSize      keys per {@code SCAN} (its {@code COUNT}) and so per round
     */
    public NodeRepair(String pool, BackendNode target, List<BackendNode> nodes, Placement placement,
                      Predicate<BackendNode> trustedSource, WriteFence fence, RedisClient client,
                      Duration commandTimeout, int batchSize) {
        this(pool, target, nodes, placement, trustedSource, fence, client, commandTimeout, batchSize,
                node -> RedisURI.Builder.redis(node.host(), node.port()).withTimeout(commandTimeout).build());
    }

    /**
     * As the other constructor, with the address of each node given by {@code uris} (for a
     * password, a client name or TLS); its timeout should be {@code commandTimeout}.
     */
    public NodeRepair(String pool, BackendNode target, List<BackendNode> nodes, Placement placement,
                      Predicate<BackendNode> trustedSource, WriteFence fence, RedisClient client,
                      Duration commandTimeout, int batchSize, Function<BackendNode, RedisURI> uris) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.target = Objects.requireNonNull(target, "target");
        this.placement = Objects.requireNonNull(placement, "placement");
        this.trustedSource = Objects.requireNonNull(trustedSource, "trustedSource");
        this.fence = Objects.requireNonNull(fence, "fence");
        this.client = Objects.requireNonNull(client, "client");
        this.uris = Objects.requireNonNull(uris, "uris");
        this.commandTimeout = Objects.requireNonNull(commandTimeout, "commandTimeout");
        if (commandTimeout.isNegative() || commandTimeout.isZero()) {
            throw new IllegalArgumentException("commandTimeout: " + commandTimeout + " (expected: > 0)");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: " + batchSize + " (expected: > 0)");
        }
        this.batchSize = batchSize;
        List<BackendNode> list = new ArrayList<>();
        for (BackendNode node : Objects.requireNonNull(nodes, "nodes")) {
            if (!same(node, target) && list.stream().noneMatch(n -> same(n, node))) {
                list.add(node);
            }
        }
        this.others = List.copyOf(list);
    }

    /**
     * Makes this a migration for a topology change: the target gets only the keys it holds under
     * {@code placement} and did not hold under {@code previous}, each from its source under
     * {@code previous}. Call before {@link #run()}; returns this.
     */
    public NodeRepair migratingFrom(Placement previous) {
        this.previous = Objects.requireNonNull(previous, "previous");
        return this;
    }

    /**
     * Asks for {@code key} to be repaired soon, ahead of the scan (a client touched it): it is
     * copied before the next scan batch of a running repair, or first thing by the next run. A key
     * already waiting is not queued twice; beyond {@value #MAX_QUEUED} waiting keys new ones are
     * dropped, since the scans reach them anyway. Copies {@code key}. Safe from any thread.
     */
    public void repairSoon(byte[] key) {
        if (cancelled) {
            return;
        }
        ByteBuffer copy = ByteBuffer.wrap(key.clone());
        synchronized (soon) {
            if (soon.size() < MAX_QUEUED) {
                soon.add(copy);
            }
        }
    }

    /**
     * Stops a run in progress after its current round (a few command timeouts at most): it
     * returns a {@link Result} with {@code cancelled} set. Final: a later {@link #run()} returns at
     * once, cancelled. Safe from any thread.
     */
    public void cancel() {
        cancelled = true;
    }

    /**
     * Runs the whole repair on the calling thread and returns what it did; blocking. Never throws
     * for a Redis error (see the class comment); it does propagate what the {@link Placement}, the
     * {@link WriteFence} or {@code trustedSource} throw.
     *
     * @throws IllegalStateException when a run of this repair is already in progress
     */
    public Result run() {
        if (!running.compareAndSet(false, true)) {
            throw new IllegalStateException("pool " + pool + ", node " + target.name() + ": repair already running");
        }
        try (Run run = new Run()) {
            return run.execute();
        } finally {
            running.set(false);
        }
    }

    /**
     * Repairs just {@code keys} (those of them whose replicas include the target), on the calling
     * thread, the way {@link #run()} repairs each key, without scanning anything and without the
     * {@link #repairSoon} queue: for keys that were written on one replica alone. Blocking; never
     * throws for a Redis error. Logs its summary at DEBUG, or at WARN when it is not complete.
     *
     * @throws IllegalStateException when a run of this repair is already in progress
     */
    public Result repairKeys(Collection<byte[]> keys) {
        List<byte[]> list = List.copyOf(keys);
        if (!running.compareAndSet(false, true)) {
            throw new IllegalStateException("pool " + pool + ", node " + target.name() + ": repair already running");
        }
        try (Run run = new Run()) {
            return run.executeKeys(list);
        } finally {
            running.set(false);
        }
    }

    private static boolean same(BackendNode a, BackendNode b) {
        return a == b || a.name().equals(b.name());
    }

    /**
     * Whether the target should get {@code key}: its replicas include the target, and, during a
     * topology change, its replicas before the change did not (the target has it already).
     */
    private boolean wants(byte[] key) {
        return holdsKey(placement.replicasOf(key)) && (previous == null || !holdsKey(previous.replicasOf(key)));
    }

    /** Where {@code key} is copied from: its source among its replicas (before the change, during one). */
    private BackendNode sourceFor(byte[] key) {
        return sourceOf((previous != null ? previous : placement).replicasOf(key));
    }

    /** Whether {@code replicas} include the target. */
    private boolean holdsKey(List<BackendNode> replicas) {
        for (BackendNode replica : replicas) {
            if (same(replica, target)) {
                return true;
            }
        }
        return false;
    }

    /** The key's source: its first replica that is not the target and may be read from; or null. */
    private BackendNode sourceOf(List<BackendNode> replicas) {
        for (BackendNode replica : replicas) {
            if (!same(replica, target) && trustedSource.test(replica)) {
                return replica;
            }
        }
        return null;
    }

    /** One connection, to the target or to a source, for the length of a run. */
    private final class Link {
        final BackendNode node;
        StatefulRedisConnection<byte[], byte[]> connection;
        RedisAsyncCommands<byte[], byte[]> commands;
        /** The read script's digest on this node; null until loaded (again). */
        String scriptSha;
        int scriptLoads;
        /** Why nothing more is sent to the node during this run; null while it is usable. */
        String broken;

        Link(BackendNode node) {
            this.node = node;
        }

        boolean usable() {
            return broken == null;
        }

        /** Opens the connection unless it is open; false (and broken) when that fails. */
        boolean open() {
            if (connection != null || broken != null) {
                return broken == null;
            }
            try {
                connection = client.connect(ByteArrayCodec.INSTANCE, uris.apply(node));
                connection.setAutoFlushCommands(false);
                commands = connection.async();
                return true;
            } catch (RuntimeException e) {
                breakLink("cannot connect: " + describe(e));
                return false;
            }
        }

        /** Loads the read script unless it is loaded; false (and maybe broken) when that fails. */
        boolean loadScript() {
            if (broken != null) {
                return false;
            }
            if (scriptSha != null) {
                return true;
            }
            if (!open()) {
                return false;
            }
            if (++scriptLoads > MAX_SCRIPT_LOADS) {
                breakLink("keeps losing the read script (NOSCRIPT)");
                return false;
            }
            CompletableFuture<String> load = commands.scriptLoad(READ_SCRIPT).toCompletableFuture();
            connection.flushCommands();
            Outcome outcome = await(List.of(load)).get(0);
            if (outcome.error() != null) {
                breakLink("cannot load the read script: " + outcome.error());
                return false;
            }
            scriptSha = (String) outcome.value();
            return true;
        }

        void breakLink(String why) {
            if (broken == null) {
                broken = why;
                log.warn("pool {}, node {}: repair stops using node {}: {}", pool, target.name(), node.name(), why);
            }
        }

        void flush() {
            connection.flushCommands();
        }

        void close(List<CompletableFuture<?>> closing) {
            if (connection != null) {
                try {
                    closing.add(connection.closeAsync());
                } catch (RuntimeException e) {
                    log.debug("pool {}, node {}: closing the repair connection to {}: {}", pool, target.name(),
                            node.name(), e.toString());
                }
            }
        }
    }

    /** What a command ended with: a value, or an error (reply text or failure), and whether the node failed. */
    private record Outcome(Object value, String error, boolean nodeFailed) {
    }

    /** A key on its way: the source it is read from this time, and how many times it was redone. */
    private static final class Item {
        final byte[] key;
        final int redos;
        Link source;
        long stamp;
        CompletableFuture<List<Object>> read;
        /** The source's answer: payload and TTL (ms, 0 for none), or payload null when missing. */
        byte[] payload;
        long ttl;
        CompletableFuture<?> write;

        Item(byte[] key, int redos) {
            this.key = key;
            this.redos = redos;
        }
    }

    /** The state of one {@link #run()}: connections, counters, keys to redo. */
    private final class Run implements AutoCloseable {
        private final long started = System.nanoTime();
        private final Map<String, Link> links = new LinkedHashMap<>();
        private final Link targetLink = new Link(target);
        /** Keys the fence asked to redo, done in the next round. */
        private List<Item> redo = new ArrayList<>();
        private long scanned;
        private long copied;
        private long deleted;
        private long retried;
        private long failed;
        private int keyWarnings;
        private long nextProgress = started + PROGRESS_INTERVAL.toNanos();

        Result execute() {
            log.info("pool {}, node {}: repair started", pool, target.name());
            if (!cancelled && targetLink.open()) {
                phase("own keys", targetLink, null);
                for (BackendNode node : others) {
                    if (!targetLink.usable() || cancelled) {
                        break;
                    }
                    if (trustedSource.test(node)) {
                        Link link = link(node);
                        if (link.open()) {
                            phase("keys from " + node.name(), link, node);
                        } else {
                            failed++;   // its scan cannot run: keys only it sources are unknown
                        }
                    }
                }
                // keys queued or redone after the last batch
                urgentRounds(true);
            }
            return finish(false);
        }

        /** {@link #repairKeys}: rounds of the given keys, then of the keys to redo. */
        Result executeKeys(List<byte[]> keys) {
            if (!cancelled && targetLink.open()) {
                Iterator<byte[]> next = keys.iterator();
                rounds(max -> {
                    List<byte[]> chunk = new ArrayList<>();
                    while (chunk.size() < max && next.hasNext()) {
                        chunk.add(next.next());
                    }
                    return chunk;
                }, true);
            }
            return finish(true);
        }

        /** The result, and its summary in the log (at DEBUG when {@code quiet} and complete). */
        private Result finish(boolean quiet) {
            if (!targetLink.usable()) {
                failed++;   // the run stopped early
            }
            failed += redo.size();   // left unchecked by a cancel or a lost target
            redo.clear();
            Result result = new Result(scanned, copied, deleted, retried, failed,
                    Duration.ofNanos(System.nanoTime() - started), cancelled);
            String summary = "pool {}, node {}: repair scanned {} keys, copied {}, deleted {}, retried {}, failed {} in {} ms{}";
            Object[] args = {pool, target.name(), result.scanned(), result.copied(), result.deleted(),
                    result.retried(), result.failed(), result.took().toMillis(), cancelled ? " (cancelled)" : ""};
            if (!result.complete()) {
                log.warn(summary, args);
            } else if (quiet) {
                log.debug(summary, args);
            } else {
                log.info(summary, args);
            }
            return result;
        }

        /**
         * Scans {@code scanned}'s keys; repairs each one the target should hold and whose source is
         * {@code onlyFrom} (any source when null, for the target's own keys).
         */
        private void phase(String name, Link scannedLink, BackendNode onlyFrom) {
            ScanCursor cursor = ScanCursor.INITIAL;
            ScanArgs args = ScanArgs.Builder.limit(batchSize);
            while (targetLink.usable() && scannedLink.usable() && !cancelled) {
                urgentRounds(false);
                if (!targetLink.usable() || cancelled) {
                    return;
                }
                CompletableFuture<KeyScanCursor<byte[]>> page =
                        scannedLink.commands.scan(cursor, args).toCompletableFuture();
                scannedLink.flush();
                Outcome outcome = await(List.of(page)).get(0);
                if (outcome.error() != null) {
                    failed++;   // the rest of this scan is unknown
                    if (outcome.nodeFailed()) {
                        scannedLink.breakLink("SCAN failed: " + outcome.error());
                    } else {
                        log.warn("pool {}, node {}: repair cannot scan {}: {}", pool, target.name(),
                                scannedLink.node.name(), outcome.error());
                    }
                    return;
                }
                @SuppressWarnings("unchecked")
                KeyScanCursor<byte[]> keys = (KeyScanCursor<byte[]>) outcome.value();
                List<Item> batch = takeRedo();
                for (byte[] key : keys.getKeys()) {
                    scanned++;
                    if (!wants(key)) {
                        continue;
                    }
                    BackendNode source = sourceFor(key);
                    if (onlyFrom == null) {
                        if (source == null) {
                            failed++;
                            continue;
                        }
                    } else if (source == null || !same(source, onlyFrom)) {
                        continue;   // another phase (or none) repairs it
                    }
                    batch.add(item(key, 0, source));
                }
                reconcile(batch);
                progress(name);
                if (keys.isFinished()) {
                    return;
                }
                cursor = keys;
            }
            if (!scannedLink.usable() && scannedLink != targetLink) {
                failed++;   // the scan of a source stopped part way
            }
        }

        /**
         * Rounds of the {@link #repairSoon} keys waiting, each with the keys to redo so far; with
         * {@code untilNoRedo}, also rounds of keys to redo alone until none is left (after the last
         * scan batch). Otherwise keys to redo go with the next scan batch, which gives the writes
         * that made them necessary time to end.
         */
        private void urgentRounds(boolean untilNoRedo) {
            rounds(this::takeSoon, untilNoRedo);
        }

        /** Rounds of the keys {@code next} gives (at most its argument at a time), as {@link #urgentRounds}. */
        private void rounds(IntFunction<List<byte[]>> next, boolean untilNoRedo) {
            while (targetLink.usable() && !cancelled) {
                List<byte[]> keys = next.apply(batchSize);
                if (keys.isEmpty()) {
                    if (!untilNoRedo || redo.isEmpty()) {
                        return;
                    }
                    pause(REDO_PAUSE);
                }
                List<Item> batch = takeRedo();
                for (byte[] key : keys) {
                    scanned++;
                    if (wants(key)) {
                        batch.add(item(key, 0, sourceFor(key)));
                    }
                }
                reconcile(batch);
                progress("keys asked for");
            }
        }

        private Item item(byte[] key, int redos, BackendNode source) {
            Item item = new Item(key, redos);
            item.source = source == null ? null : link(source);
            return item;
        }

        /** The keys to redo, each with its source chosen again (trust may have changed). */
        private List<Item> takeRedo() {
            List<Item> taken = new ArrayList<>(redo.size());
            for (Item old : redo) {
                taken.add(item(old.key, old.redos, sourceFor(old.key)));
            }
            redo = new ArrayList<>();
            return taken;
        }

        /**
         * One round: stamps and reads every key from its source, writes every answer to the target,
         * then asks the fence which copies stand.
         */
        private void reconcile(List<Item> batch) {
            if (batch.isEmpty()) {
                return;
            }
            // 1. reads, pipelined per source
            List<Item> reading = new ArrayList<>(batch.size());
            List<Link> touched = new ArrayList<>();
            for (Item item : batch) {
                Link source = item.source;
                if (source == null || !source.loadScript()) {
                    failed++;   // no source, or one we cannot read from
                    continue;
                }
                item.stamp = fence.stamp(item.key);
                item.read = source.commands.<List<Object>>evalsha(source.scriptSha, ScriptOutputType.MULTI,
                        new byte[][] {item.key}).toCompletableFuture();
                reading.add(item);
                if (!touched.contains(source)) {
                    touched.add(source);
                }
            }
            touched.forEach(Link::flush);
            List<Outcome> reads = await(reading.stream().<CompletableFuture<?>>map(i -> i.read).toList());
            // 2. writes to the target, pipelined
            List<Item> writing = new ArrayList<>(reading.size());
            for (int i = 0; i < reading.size(); i++) {
                Item item = reading.get(i);
                Outcome read = reads.get(i);
                if (read.error() != null) {
                    if (read.error().startsWith("NOSCRIPT")) {
                        item.source.scriptSha = null;   // the node lost its scripts (restarted?): load again
                        redo.add(new Item(item.key, item.redos));   // not a fence redo: not counted
                    } else {
                        readFailed(item, read);
                    }
                    continue;
                }
                if (!decode(item, read.value())) {
                    failed++;
                    continue;
                }
                if (!targetLink.usable()) {
                    failed++;
                    continue;
                }
                item.write = item.payload == null
                        ? targetLink.commands.del(item.key).toCompletableFuture()
                        : targetLink.commands.restore(item.key, item.payload,
                                new RestoreArgs().ttl(item.ttl).replace()).toCompletableFuture();
                writing.add(item);
            }
            if (writing.isEmpty()) {
                return;
            }
            targetLink.flush();
            List<Outcome> writes = await(writing.stream().<CompletableFuture<?>>map(i -> i.write).toList());
            // 3. keep the copies the fence accepts
            for (int i = 0; i < writing.size(); i++) {
                Item item = writing.get(i);
                Outcome write = writes.get(i);
                if (write.error() != null) {
                    failed++;
                    if (write.nodeFailed()) {
                        targetLink.breakLink(write.error());
                    } else {
                        warnKey("cannot write a key to the target", write.error());
                    }
                    continue;
                }
                if (fence.quietSince(item.key, item.stamp)) {
                    if (item.payload != null) {
                        copied++;
                    } else if (write.value() instanceof Long removed && removed > 0) {
                        deleted++;
                    }
                } else if (item.redos < MAX_REDOS) {
                    retried++;
                    redo.add(new Item(item.key, item.redos + 1));
                } else {
                    failed++;   // written to all the time: a later run tries again
                }
            }
        }

        private void readFailed(Item item, Outcome read) {
            failed++;
            if (read.nodeFailed()) {
                item.source.breakLink(read.error());
            } else {
                warnKey("cannot read a key from " + item.source.node.name(), read.error());
            }
        }

        /** Takes the script's answer apart; false when it is not what the script returns. */
        private boolean decode(Item item, Object value) {
            if (!(value instanceof List<?> answer)) {
                warnKey("unexpected answer from " + item.source.node.name(),
                        value == null ? "null" : value.getClass().getSimpleName());    // never the value itself
                return false;
            }
            if (answer.isEmpty()) {
                item.payload = null;
                return true;
            }
            if (answer.size() != 2 || !(answer.get(0) instanceof byte[] payload)
                    || !(answer.get(1) instanceof Long pttl)) {
                warnKey("unexpected answer from " + item.source.node.name(), "array of " + answer.size());
                return false;
            }
            if (pttl == -2) {
                item.payload = null;   // cannot happen within the script; treated as missing
            } else {
                item.payload = payload;
                // -1: no TTL (RESTORE's 0); 0: expiring this very millisecond, and RESTORE's 0 would make it persistent
                item.ttl = pttl == -1 ? 0 : Math.max(pttl, 1);
            }
            return true;
        }

        private void warnKey(String what, String error) {
            if (keyWarnings++ < MAX_KEY_WARNINGS) {
                log.warn("pool {}, node {}: repair {}: {}", pool, target.name(), what, error);
            } else {
                log.debug("pool {}, node {}: repair {}: {}", pool, target.name(), what, error);
            }
        }

        private Link link(BackendNode node) {
            return links.computeIfAbsent(node.name(), n -> new Link(node));
        }

        private List<byte[]> takeSoon(int max) {
            List<byte[]> keys = new ArrayList<>();
            synchronized (soon) {
                var it = soon.iterator();
                while (keys.size() < max && it.hasNext()) {
                    keys.add(it.next().array());
                    it.remove();
                }
            }
            return keys;
        }

        private void progress(String phase) {
            long now = System.nanoTime();
            if (now - nextProgress >= 0) {
                nextProgress = now + PROGRESS_INTERVAL.toNanos();
                log.info("pool {}, node {}: repair at {}: scanned {} keys, copied {}, deleted {}, retried {}, failed {} "
                        + "in {} ms", pool, target.name(), phase, scanned, copied, deleted, retried, failed,
                        TimeUnit.NANOSECONDS.toMillis(now - started));
            }
        }

        /** Closes every connection the run opened, waiting for that at most one command timeout. */
        @Override
        public void close() {
            List<CompletableFuture<?>> closing = new ArrayList<>();
            targetLink.close(closing);
            links.values().forEach(link -> link.close(closing));
            await(closing);
        }
    }

    /**
     * Waits, at most {@code commandTimeout} in all, for {@code futures} and tells how each ended. A
     * future still pending at the deadline is cancelled and reported as a node failure.
     */
    private List<Outcome> await(List<? extends CompletableFuture<?>> futures) {
        if (!futures.isEmpty()) {
            try {
                CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                        .get(commandTimeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // each future is looked at below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancel();
            }
        }
        List<Outcome> outcomes = new ArrayList<>(futures.size());
        for (CompletableFuture<?> future : futures) {
            if (!future.isDone()) {
                future.cancel(false);
                outcomes.add(new Outcome(null, "no reply within " + commandTimeout.toMillis() + " ms", true));
                continue;
            }
            try {
                outcomes.add(new Outcome(future.join(), null, false));
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                // an error reply is about the key; anything else (connection lost, closed) about the node
                boolean nodeFailed = !(cause instanceof RedisCommandExecutionException);
                outcomes.add(new Outcome(null, describe(cause), nodeFailed));
            }
        }
        return outcomes;
    }

    private void pause(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
        }
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        if (e instanceof RedisCommandExecutionException && message != null) {
            return message;
        }
        return message == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + message;
    }
}
