package io.cacheproxy.proxy.l1;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.cacheproxy.config.InvalidationConfig;
import io.cacheproxy.config.L1Config;
import io.cacheproxy.proxy.Transport;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.UpstreamSettings;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespVersion;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * L1: the replies of hot keys' reads, held in memory and served without a round trip, and the rules
 * that keep them from ever being served stale (shared/DESIGN.md, "L1 and invalidation").
 *
 * <p><b>Storage.</b> A Caffeine cache (W-TinyLFU eviction) of {@link Entry}s by Redis key, bounded
 * by bytes ({@code l1.max-memory}; the weigher counts the reply bytes held); each entry expires at
 * its reads' latest expiry, which is the earlier of {@code l1.max-ttl} and the
 * key's TTL in Redis, read with the value. Replies are copied out of socket buffers into exact-size
 * arrays.
 *
 * <p><b>Admission.</b> Only keys the {@link HotKeySketch} calls hot are filled.
 *
 * <p><b>No fill race.</b> Every invalidation of a key bumps the key's generation (one of
 * {@value #STRIPES} striped counters, so a key shares its counter with others: a false share only
 * costs a fill) before removing the entry. A fill takes a {@link FillTicket} (the generation, the
 * flush epoch and the node's epoch) before its read is sent, and its reply is cached only if none of
 * them moved; the check and the insert are one atomic {@code compute} on the key, which the
 * invalidation's removal of the key serialises with. So a reply that may predate a write is never
 * cached, whichever arrives first.
 *
 * <p><b>Writes through this proxy</b> invalidate their keys twice: before they are forwarded (read
 * your writes) and when their reply arrives, before the client sees it. A fill sent between the two
 * may have read the old value; the second invalidation either drops what it cached or, by moving the
 * generation, keeps it from being cached.
 *
 * <p><b>Writes from elsewhere</b> arrive as invalidations from each node's {@link InvalidationLink}
 * (Redis client tracking, and the broadcast channel between proxies). A lost link drops the node's
 * entries ({@link #dropNode}) and no fill from that node is cached until it is back.
 *
 * <p>Thread-safe: shared by every event loop.
 */
public final class NearCache {
    /** Why entries were dropped: the {@code source} label of {@code cacheproxy_l1_invalidations_total}. */
    public enum Source { WRITE, TRACKING, BROADCAST, TTL, FLUSH }

    private static final int STRIPES = 1 << 16;
    /** The arguments after the key of a read that has none (GET key): {@link #argsAfterKey}'s empty result. */
    public static final byte[] NO_ARGS = new byte[0];

    private final boolean enabled;
    private final long maxTtlNanos;
    private final Cache<CacheKey, Entry> cache;
    private final AtomicLongArray generations = new AtomicLongArray(STRIPES);
    private final AtomicLong flushEpoch = new AtomicLong();
    /** The fill in flight per key (at most one). */
    private final java.util.concurrent.ConcurrentHashMap<CacheKey, FillTicket> fillsInFlight =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final HotKeySketch sketch;
    private final Map<BackendNode, TrackedNode> nodes = new IdentityHashMap<>();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder[] invalidations = new LongAdder[Source.values().length];
    private volatile Timer staleness;
    private volatile Refresher refresher;
    static final int HOT_KEYS_KEPT = 256;
    private final java.util.concurrent.ConcurrentHashMap<CacheKey, Boolean> hotCandidates =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** The read estimate a key needs to become a hot-key candidate. */
    private final int minHotReads;
    private volatile int hotFloor;
    private volatile ChangeListener changeListener = NO_LISTENER;
    private final LongAdder refreshes = new LongAdder();

    /**
     * Refresh-ahead: re-reads, in the background, a hot key's read that L1 just lost to an
     * invalidation, so that hot keys that change stay hits. Called on the thread that invalidated.
     */
    public interface Refresher {
        /** Re-reads {@code commandId key args} in {@code protocol} from {@code node} as a fill; may decline. */
        boolean refresh(CacheKey key, TrackedNode node, int commandId, RespVersion protocol, byte[] args);
    }

    /**
     * @param nodes the nodes whose keys L1 may hold (the nodes of sharded and sentinel pools); keys of
     *              other nodes are never cached
     */
    public NearCache(L1Config config, Collection<BackendNode> nodes) {
        this.enabled = config.enabled() && !nodes.isEmpty();
        this.maxTtlNanos = config.maxTtl().toNanos();
        for (int i = 0; i < invalidations.length; i++) {
            invalidations[i] = new LongAdder();
        }
        for (BackendNode node : nodes) {
            this.nodes.put(node, new TrackedNode(node));
        }
        this.sketch = new HotKeySketch(config.hotKeys().minReadsPerSecond(), System.nanoTime());
        this.minHotReads = Math.max(2, config.hotKeys().minReadsPerSecond());
        this.hotFloor = minHotReads;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(config.maxMemory())
                .weigher((CacheKey key, Entry entry) -> entry.weight)
                // A fixed lifetime: entries go at l1.max-ttl; a variant whose key expires sooner in
                // Redis is refused on read (its own deadline) and its bytes wait for the entry to go.
                // Caffeine's variable expiry (a timer wheel touched on every read and write) measured
                // as a large share of the lookup cost on a million entries.
                .expireAfterWrite(config.maxTtl())
                .executor(Runnable::run)
                .removalListener((CacheKey key, Entry entry, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
                    if (cause == com.github.benmanes.caffeine.cache.RemovalCause.SIZE) {
                        evictions.increment();
                    }
                })
                .build();
    }

    public boolean enabled() {
        return enabled;
    }

    /** The node as L1 tracks it; null when its keys are never cached. */
    public TrackedNode tracked(BackendNode node) {
        return enabled ? nodes.get(node) : null;
    }

    public Collection<TrackedNode> trackedNodes() {
        return nodes.values();
    }

    /**
     * The cached reply to {@code commandId key args} in {@code protocol}, or null. Counts a hit or a
     * miss.
     */
    public byte[] get(CacheKey key, int commandId, RespVersion protocol, byte[] args, long nowNanos) {
        Entry entry = cache.getIfPresent(key);
        Entry v = entry == null ? null : entry.find(commandId, protocol, args);
        if (v == null || !valid(v, nowNanos)) {
            misses.increment();
            return null;
        }
        hits.increment();
        return v.reply;
    }

    private boolean valid(Entry v, long nowNanos) {
        if (nowNanos - v.expiresAt >= 0) {
            invalidations[Source.TTL.ordinal()].increment();
            return false;
        }
        return v.flushEpoch == flushEpoch.get() && v.nodeEpoch == v.node.epoch();
    }

    /** Counts a read of {@code key}; returns its estimated reads (see {@link #admits}). */
    public int recordRead(CacheKey key, long nowNanos) {
        int estimate = sketch.recordRead(key.hashCode(), nowNanos);
        noteIfHot(key, estimate, nowNanos);
        return estimate;
    }

    /**
     * Counts a read of the key whose {@link CacheKey#hashOf} is {@code hash}, before its key is
     * copied; returns its estimated reads. Below {@link #lookupFloor()} the read need not look in
     * L1 at all: the key is not hot enough to have been filled lately (an entry filled while it was
     * hotter is simply not used, which is only a miss).
     */
    public int recordRead(int hash, long nowNanos) {
        return sketch.recordRead(hash, nowNanos);
    }

    /** The read estimate under which reads go straight to Redis (see {@link #recordRead(int, long)}). */
    public int lookupFloor() {
        return sketch.minReads();
    }

    /** A cacheable read that did not look in L1 (its key is cold): a miss. */
    public void countMiss() {
        misses.increment();
    }

    /** Samples a read of {@code key} as a hot-key candidate when it is hot enough to be listed. */
    public void noteIfHot(CacheKey key, int estimate, long nowNanos) {
        if (estimate >= hotFloor && ((key.hashCode() ^ (int) nowNanos) & 15) == 0) {
            noteHot(key);
        }
    }

    /** A sampled read of a key at least as hot as the coolest listed: a candidate for {@link #hottest}. */
    private void noteHot(CacheKey key) {
        if (hotCandidates.putIfAbsent(key, Boolean.TRUE) == null && hotCandidates.size() > 2 * HOT_KEYS_KEPT) {
            pruneHotKeys();
        }
    }

    /** Keeps the {@value #HOT_KEYS_KEPT} hottest candidates and raises the floor to the coolest kept. */
    private synchronized List<HotKey> pruneHotKeys() {
        List<HotKey> all = new ArrayList<>(hotCandidates.size());
        for (CacheKey key : hotCandidates.keySet()) {
            int estimate = sketch.readEstimate(key.hashCode());
            if (estimate > 0) {
                all.add(new HotKey(key.bytes(), estimate, holds(key)));
            } else {
                hotCandidates.remove(key);
            }
        }
        all.sort((a, b) -> Integer.compare(b.reads(), a.reads()));
        if (all.size() > HOT_KEYS_KEPT) {
            for (HotKey gone : all.subList(HOT_KEYS_KEPT, all.size())) {
                hotCandidates.remove(CacheKey.wrap(gone.key()));
            }
            all = new ArrayList<>(all.subList(0, HOT_KEYS_KEPT));
            hotFloor = Math.max(minHotReads, all.get(all.size() - 1).reads());
        } else {
            hotFloor = minHotReads;
        }
        return all;
    }

    /**
     * A hot key: its bytes, its reads in the sketch (between one and two seconds' worth: counters
     * are halved every second), and whether L1 holds a reply of it.
     */
    public record HotKey(byte[] key, int reads, boolean cached) {
    }

    /** The {@code n} hottest keys read through this proxy now, hottest first (from sampled reads). */
    public List<HotKey> hottest(int n) {
        List<HotKey> all = pruneHotKeys();
        return List.copyOf(all.subList(0, Math.min(n, all.size())));
    }

    /** Whether {@code key}, with {@code readEstimate} from {@link #recordRead}, is hot enough to be filled. */
    public boolean admits(CacheKey key, int readEstimate) {
        return sketch.admits(key.hashCode(), readEstimate);
    }

    /**
     * Takes a ticket for filling {@code key} from {@code node}: call before the read is sent. The
     * fill is cached by {@link #finishFill} only if nothing invalidated the key, the node or the
     * whole cache in between. Returns null when a fill of the key is already in flight (one at a
     * time per key: under load, a hot key missing from L1 would otherwise be filled by every read of
     * it until the first fill lands); the read then goes to Redis as it is.
     */
    public FillTicket startFill(CacheKey key, TrackedNode node, int commandId, RespVersion protocol, byte[] args,
                                long nowNanos) {
        FillTicket ticket = new FillTicket(key, node, commandId, protocol, args, generations.get(stripe(key)),
                flushEpoch.get(), node.epoch(), nowNanos);
        return fillsInFlight.putIfAbsent(key, ticket) == null ? ticket : null;
    }

    /** The fill of {@code ticket} failed: the key may be filled again. */
    public void abandonFill(FillTicket ticket) {
        fillsInFlight.remove(ticket.key(), ticket);
    }

    /**
     * Caches {@code reply} for {@code ticket} unless it lost a race with an invalidation.
     *
     * @param pttlMillis the key's {@code PTTL} read with it: -1 no expiry, -2 no key (cached only
     *                   when the reply is a null too), else milliseconds left
     * @return whether it was cached
     */
    boolean finishFill(FillTicket ticket, byte[] reply, long pttlMillis) {
        fillsInFlight.remove(ticket.key(), ticket);
        if (pttlMillis == 0 || pttlMillis < -2 || pttlMillis == -2 && !isNull(reply)) {
            // -2 with a value: the key expired between the read and its PTTL. Redis deletes it
            // lazily, on that PTTL, from this very connection, whose NOLOOP tracking then says
            // nothing: the value must not be kept.
            return false;
        }
        long ttl = pttlMillis < 0 ? maxTtlNanos : Math.min(maxTtlNanos, TimeUnit.MILLISECONDS.toNanos(pttlMillis));
        Entry variant = new Entry(ticket.commandId(), ticket.protocol(), ticket.args(), reply,
                ticket.startNanos() + ttl, ticket.node(), ticket.nodeEpoch(), ticket.flushEpoch());
        boolean[] cached = {false};
        cache.asMap().compute(ticket.key(), (k, old) -> {
            if (generations.get(stripe(k)) != ticket.generation() || flushEpoch.get() != ticket.flushEpoch()
                    || ticket.node().epoch() != ticket.nodeEpoch() || !ticket.node().fillable()) {
                return old;
            }
            cached[0] = true;
            return old == null || !sameEpochs(old, variant) ? Entry.of(k.length(), variant) : old.with(variant, k.length());
        });
        return cached[0];
    }

    /** Whether {@code reply} is a null reply (the read of a key that does not exist). */
    private static boolean isNull(byte[] reply) {
        return Arrays.equals(reply, NULL_BULK) || Arrays.equals(reply, NULL_ARRAY) || Arrays.equals(reply, NULL_RESP3);
    }

    private static final byte[] NULL_BULK = {'$', '-', '1', '\r', '\n'};
    private static final byte[] NULL_ARRAY = {'*', '-', '1', '\r', '\n'};
    private static final byte[] NULL_RESP3 = {'_', '\r', '\n'};

    /** Whether {@code old}'s variants were filled under the same epochs as {@code v} (else they are dead). */
    private static boolean sameEpochs(Entry old, Entry v) {
        return old.node == v.node && old.nodeEpoch == v.nodeEpoch && old.flushEpoch == v.flushEpoch;
    }

    /**
     * Hears of every change a node reports (tracking messages, flushes) and of lost links, whether or
     * not L1 held the key: client-side caching through the proxy tells its clients. Called on the
     * thread that heard it.
     */
    public interface ChangeListener {
        void keyChanged(CacheKey key);

        /** Anything may have changed: a flush, or a lost invalidation link (missed changes). */
        void allChanged();

        /** A FLUSHALL/FLUSHDB is being sent through this proxy to {@code nodes} nodes. */
        void flushing(int nodes);
    }

    public void changeListener(ChangeListener listener) {
        this.changeListener = java.util.Objects.requireNonNull(listener, "listener");
    }

    private static final ChangeListener NO_LISTENER = new ChangeListener() {
        @Override
        public void keyChanged(CacheKey key) {
        }

        @Override
        public void allChanged() {
        }

        @Override
        public void flushing(int nodes) {
        }
    };

    /**
     * Makes every node's invalidation links hear of every key's change (tracking in BCAST mode), as
     * client-side caching through the proxy needs; runs {@code whenActive} (on a link's thread) once
     * they all do. Returns an error text instead when they cannot: no links, or one is down.
     */
    public String trackAllKeys(Runnable whenActive) {
        List<InvalidationLink> links = new ArrayList<>();
        for (TrackedNode node : nodes.values()) {
            InvalidationLink link = node.link();
            if (link == null || !link.tracking()) {
                return "ERR client-side caching through the proxy needs l1.enabled and invalidation.tracking";
            }
            if (!link.isUp()) {
                return "ERR client-side caching is unavailable: the invalidation link to " + node + " is down";
            }
            links.add(link);
        }
        if (links.isEmpty()) {
            return "ERR client-side caching through the proxy needs a sharded or sentinel pool";
        }
        java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger(links.size());
        for (InvalidationLink link : links) {
            link.trackAllKeys(() -> {
                if (waiting.decrementAndGet() == 0) {
                    whenActive.run();
                }
            });
        }
        return null;
    }

    /** A node's link is back after a loss: what clients cached meanwhile may be stale. */
    void linkRestored() {
        changeListener.allChanged();
    }

    public void refresher(Refresher refresher) {
        this.refresher = refresher;
    }

    /**
     * Drops {@code key}'s entry and makes fills of it in flight uncacheable. A hot key's reads that
     * L1 held are then re-read once (refresh-ahead), unless the key is changed more often than read.
     */
    public void invalidate(CacheKey key, Source source) {
        invalidate(key, source, null);
    }

    /**
     * {@link #invalidate}, where {@code removedBefore} is what the write's first invalidation
     * removed ({@link #invalidateUncounted}): refresh-ahead re-reads that if nothing is left now.
     */
    void invalidate(CacheKey key, Source source, Entry removedBefore) {
        generations.incrementAndGet(stripe(key));
        Entry removed = cache.asMap().remove(key);
        if (removed == null) {
            removed = removedBefore;
        }
        sketch.recordInvalidation(key.hashCode());
        invalidations[source.ordinal()].increment();
        if (source == Source.TRACKING) {
            changeListener.keyChanged(key);       // each change once: from the node that made it
        }
        Refresher r = refresher;
        if (removed != null && r != null && source != Source.FLUSH && source != Source.TTL
                && sketch.admits(key.hashCode(), sketch.readEstimate(key.hashCode()))) {
            for (Entry v : removed.reads()) {
                if (v.node.epoch() == v.nodeEpoch && v.flushEpoch == flushEpoch.get()
                        && r.refresh(key, v.node, v.commandId, v.protocol, v.args)) {
                    refreshes.increment();
                }
            }
        }
    }

    /** Reads re-sent by refresh-ahead. */
    public long refreshes() {
        return refreshes.sum();
    }

    /** {@link #invalidate} without counting it: the first of a write's two invalidations. */
    Entry invalidateUncounted(CacheKey key) {
        generations.incrementAndGet(stripe(key));
        return cache.asMap().remove(key);
    }

    /**
     * {@link #invalidateAll} without counting it: the first of a flush's two, as it is sent to
     * {@code nodes} nodes (each of which will report it).
     */
    void invalidateAllUncounted(int nodes) {
        dropAll();
        changeListener.flushing(nodes);
    }

    /** Drops every entry (FLUSHALL, FLUSHDB, a null invalidation). */
    public void invalidateAll(Source source) {
        dropAll();
        invalidations[source.ordinal()].increment();
    }

    /** Every entry becomes a miss at once (the flush epoch), then is swept out. */
    private void dropAll() {
        flushEpoch.incrementAndGet();
        cache.invalidateAll();
    }

    /** A node said it was flushed (a null invalidation): drops everything, and tells the listener. */
    void nodeFlushed() {
        invalidateAll(Source.FLUSH);
        changeListener.allChanged();
    }

    /** Drops every entry of {@code node}, if L1 tracks it (it stopped serving its keys). */
    public void dropNode(BackendNode node) {
        TrackedNode tracked = tracked(node);
        if (tracked != null) {
            dropNode(tracked);
        }
    }

    /** Drops every entry of {@code node} (its link was lost, or it moved). */
    public void dropNode(TrackedNode node) {
        node.bump();
        cache.asMap().values().removeIf(e -> e.node == node);
        changeListener.allChanged();
    }

    /**
     * Opens an {@link InvalidationLink} to every tracked node on {@code loop}, unless both tracking
     * and broadcast are off (then entries are bounded by {@code l1.max-ttl} alone for writes that
     * do not pass through this proxy).
     */
    public void startLinks(InvalidationConfig config, Function<BackendNode, UpstreamSettings> settings,
                           EventLoop loop, Transport transport, byte[] proxyId) {
        if (!enabled || !config.tracking() && !config.broadcast().enabled()) {
            return;
        }
        String channel = config.broadcast().enabled() ? config.broadcast().channel() : null;
        for (TrackedNode node : nodes.values()) {
            InvalidationLink link = new InvalidationLink(node, this, settings.apply(node.node()), loop, transport,
                    config.tracking(), channel, proxyId);
            node.link(link);
            link.start();
        }
    }

    /** Closes the invalidation links. */
    public void close() {
        for (TrackedNode node : nodes.values()) {
            if (node.link() != null) {
                node.link().close();
            }
        }
    }

    /** Records how long after a write's acknowledgement at another proxy its invalidation arrived here. */
    void recordStaleness(long nanos) {
        Timer timer = staleness;
        if (timer != null && nanos >= 0) {
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    public long evictions() {
        return evictions.sum();
    }

    public long invalidations(Source source) {
        return invalidations[source.ordinal()].sum();
    }

    /** Bytes the entries weigh (the reply bytes they hold plus bookkeeping). */
    public long bytes() {
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    /** Whether L1 holds any reply for {@code key}. */
    public boolean holds(CacheKey key) {
        return cache.getIfPresent(key) != null;
    }

    /** Runs Caffeine's pending maintenance (evictions) now. */
    void cleanUp() {
        cache.cleanUp();
    }

    public long entryCount() {
        return cache.estimatedSize();
    }

    /** Registers the {@code cacheproxy_l1_*} meters. */
    public void bindTo(MeterRegistry registry) {
        FunctionCounter.builder("cacheproxy.l1.hits", this, NearCache::hits)
                .description("Reads answered from L1").register(registry);
        FunctionCounter.builder("cacheproxy.l1.misses", this, NearCache::misses)
                .description("Cacheable reads L1 could not answer").register(registry);
        FunctionCounter.builder("cacheproxy.l1.evictions", this, NearCache::evictions)
                .description("Entries evicted to stay within l1.max-memory").register(registry);
        Gauge.builder("cacheproxy.l1.bytes", this, NearCache::bytes).baseUnit("bytes")
                .description("Bytes held by L1 entries").register(registry);
        FunctionCounter.builder("cacheproxy.l1.refreshes", this, NearCache::refreshes)
                .description("Hot keys' reads re-sent after an invalidation (refresh-ahead)").register(registry);
        for (Source source : Source.values()) {
            FunctionCounter.builder("cacheproxy.l1.invalidations", this, c -> c.invalidations(source))
                    .tag("source", source.name().toLowerCase(Locale.ROOT))
                    .description("L1 invalidations by where they came from").register(registry);
        }
        staleness = Timer.builder("cacheproxy.l1.staleness")
                .description("Time from a write's acknowledgement at another proxy to its invalidation reaching this one")
                .serviceLevelObjectives(Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
                        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
                        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
                        Duration.ofSeconds(1), Duration.ofSeconds(5))
                .register(registry);
    }

    private static int stripe(CacheKey key) {
        return key.hashCode() & (STRIPES - 1);
    }

    /**
     * The arguments after the key at {@code keyIndex}, as one array (each as a 4-byte length and its
     * bytes): with the command, they tell a key's cached reads apart. Empty for {@code GET key}.
     */
    public static byte[] argsAfterKey(RespRequest request, int keyIndex) {
        int n = request.argCount();
        if (n <= keyIndex + 1) {
            return NO_ARGS;
        }
        int size = 0;
        for (int i = keyIndex + 1; i < n; i++) {
            size += 4 + request.argLength(i);
        }
        byte[] out = new byte[size];
        ByteBuf content = request.content();
        int p = 0;
        for (int i = keyIndex + 1; i < n; i++) {
            int len = request.argLength(i);
            out[p] = (byte) (len >>> 24);
            out[p + 1] = (byte) (len >>> 16);
            out[p + 2] = (byte) (len >>> 8);
            out[p + 3] = (byte) len;
            content.getBytes(request.argOffset(i), out, p + 4, len);
            p += 4 + len;
        }
        return out;
    }

    /** The arguments {@link #argsAfterKey} encoded, one array each again. */
    public static byte[][] decodeArgs(byte[] args) {
        java.util.ArrayList<byte[]> out = new java.util.ArrayList<>();
        int p = 0;
        while (p < args.length) {
            int len = (args[p] & 0xff) << 24 | (args[p + 1] & 0xff) << 16 | (args[p + 2] & 0xff) << 8 | args[p + 3] & 0xff;
            out.add(Arrays.copyOfRange(args, p + 4, p + 4 + len));
            p += 4 + len;
        }
        return out.toArray(new byte[0][]);
    }

    /**
     * What a fill must check when its reply arrives; taken by {@link #startFill} before the read is
     * sent.
     */
    public record FillTicket(CacheKey key, TrackedNode node, int commandId, RespVersion protocol, byte[] args,
                             long generation, long flushEpoch, int nodeEpoch, long startNanos) {
    }
}
