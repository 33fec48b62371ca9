package io.cacheproxy.proxy.tracking;

import io.cacheproxy.proxy.l1.CacheKey;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client-side caching through the proxy: clients that send {@code CLIENT TRACKING on} get the
 * invalidation messages Redis would send them, for keys on any shard and whoever changed them.
 *
 * <p><b>Where changes come from.</b> While any client tracks, every node's invalidation link
 * tracks every key in BCAST mode, so each change of any key on any node reaches the proxy once,
 * from the node itself (see {@code NearCache.trackAllKeys}), whoever made it — through this proxy,
 * another, or on the node. Only those messages are used here, so each change is announced once.
 * This class then decides who is told: in the default mode the clients that read the key since
 * they were last told (one message per read, as Redis), in BCAST mode those whose prefixes match.
 * A NOLOOP client is not told of its own writes: the node's message for a key it wrote through
 * the proxy is skipped for it once.
 *
 * <p><b>Ordering.</b> A read is remembered before it is forwarded, and a message is queued behind
 * every reply the client is owed ({@link TrackingClient#push}); so a change that lands after the
 * read is always announced after its reply, never before it: the client cannot cache a value it
 * was already told is stale. (That is the race behind Lettuce issue #3481.)
 *
 * <p><b>Loss.</b> When a node's link is lost, changes may have been missed: every tracking client
 * gets a null invalidation ("flush everything"), again when the link is back.
 *
 * <p>Bounded: at most {@value #MAX_KEYS} remembered keys (Redis's {@code tracking-table-max-keys}
 * default); past it, remembered keys are announced as changed and forgotten. Thread-safe.
 */
public final class ClientTracking {
    static final int MAX_KEYS = 1_000_000;
    private static final byte[] INVALIDATE = "invalidate".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MESSAGE = "message".getBytes(StandardCharsets.US_ASCII);
    static final byte[] CHANNEL = "__redis__:invalidate".getBytes(StandardCharsets.US_ASCII);

    /** Every connected client, by id: tracking clients and the targets they redirect to. */
    private final Map<Long, TrackingClient> clients = new ConcurrentHashMap<>();
    /** The options of clients with tracking on. */
    private final Map<Long, TrackingOptions> tracking = new ConcurrentHashMap<>();
    /** Default mode: the clients that read each key since they were last told of a change. */
    private final Map<CacheKey, Set<Long>> readers = new ConcurrentHashMap<>();
    /** Null invalidations still to come from the nodes of a FLUSHALL sent through the proxy, after its first. */
    private final java.util.concurrent.atomic.AtomicInteger flushEchoes = new java.util.concurrent.atomic.AtomicInteger();
    /** NOLOOP: per key, the clients whose own writes' messages are still to come (and be skipped). */
    private final Map<CacheKey, Map<Long, Integer>> ownWrites = new ConcurrentHashMap<>();
    /** Clients whose REDIRECT target has gone, found when a message was due (TRACKINGINFO broken_redirect). */
    private final Set<Long> brokenRedirects = ConcurrentHashMap.newKeySet();

    public void register(TrackingClient client) {
        clients.put(client.id(), client);
    }

    /** The client has gone. Its remembered keys are dropped lazily, when they change. */
    public void unregister(long id) {
        clients.remove(id);
        tracking.remove(id);
        brokenRedirects.remove(id);
    }

    /** Null when {@code id} may turn tracking on with {@code options}, else Redis's error (in its order). */
    public String check(long id, TrackingOptions options) {
        TrackingOptions now = tracking.get(id);
        if (options.redirect() != TrackingOptions.NO_REDIRECT && !clients.containsKey(options.redirect())) {
            return "ERR The client ID you want redirect to does not exist";
        }
        if (now != null && now.bcast() != options.bcast()) {
            return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
                    + "and then re-enabling it with a different mode.";
        }
        if (now != null && (options.optin() && now.optout() || options.optout() && now.optin())) {
            return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
                    + "and then re-enabling it with a different mode.";
        }
        return options.bcast() ? options.overlap(now) : null;
    }

    /** Turns tracking on for {@code id} (added to its options if it was on); returns the options now in force. */
    public TrackingOptions enable(long id, TrackingOptions options) {
        TrackingOptions merged = options.over(tracking.get(id));
        tracking.put(id, merged);
        brokenRedirects.remove(id);
        return merged;
    }

    public void disable(long id) {
        tracking.remove(id);
        brokenRedirects.remove(id);
    }

    /** Whether a message was due for {@code id} while its REDIRECT target was gone. */
    public boolean redirectBroken(long id) {
        return brokenRedirects.contains(id);
    }

    public TrackingOptions options(long id) {
        return tracking.get(id);
    }

    /** Whether any client tracks. */
    public boolean anyTracking() {
        return !tracking.isEmpty();
    }

    /** A default-mode client read {@code key}: it is told of the key's next change. */
    public void remember(long id, CacheKey key) {
        readers.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(id);
        if (readers.size() > MAX_KEYS) {
            evictSome();
        }
    }

    /**
     * NOLOOP: the client writes {@code key} itself. Like Redis, it stops tracking the key (without a
     * message), and the node's message about this write, when it comes, is not for it.
     */
    public void ownWrite(long id, CacheKey key) {
        readers.computeIfPresent(key, (k, ids) -> {
            ids.remove(id);
            return ids.isEmpty() ? null : ids;
        });
        ownWrites.computeIfAbsent(key, k -> new ConcurrentHashMap<>()).merge(id, 1, Integer::sum);
    }

    /** {@code key} changed: tell its readers (default mode) and the BCAST clients it concerns. */
    public void keyChanged(CacheKey key) {
        Map<Long, Integer> writers = ownWrites.remove(key);
        Set<Long> ids = readers.remove(key);
        if (writers != null) {
            for (Map.Entry<Long, Integer> w : writers.entrySet()) {
                if (ids != null && ids.remove(w.getKey())) {
                    remember(w.getKey(), key);      // it read the key again after its write
                }
                if (w.getValue() > 1) {
                    ownWrites.computeIfAbsent(key, k -> new ConcurrentHashMap<>()).merge(w.getKey(), w.getValue() - 1,
                            Integer::sum);
                }
            }
        }
        if (ids != null) {
            for (long id : ids) {
                TrackingOptions options = tracking.get(id);
                if (options != null && !options.bcast()) {
                    send(id, options, key.bytes());
                }
            }
        }
        for (Map.Entry<Long, TrackingOptions> e : tracking.entrySet()) {
            if (e.getValue().bcast() && e.getValue().matches(key.bytes())) {
                send(e.getKey(), e.getValue(), key.bytes());
            }
        }
    }

    /**
     * A FLUSHALL or FLUSHDB goes through the proxy to {@code nodes} nodes: each will report it, and
     * clients are told once, as by one Redis.
     */
    public void flushing(int nodes) {
        flushEchoes.addAndGet(nodes - 1);
    }

    /** Everything may have changed (a node was flushed, a link lost): every tracking client flushes. */
    public void allChanged() {
        readers.clear();
        ownWrites.clear();
        if (flushEchoes.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return;
        }
        for (Map.Entry<Long, TrackingOptions> e : tracking.entrySet()) {
            send(e.getKey(), e.getValue(), null);
        }
    }

    private void evictSome() {
        Iterator<CacheKey> it = readers.keySet().iterator();
        for (int i = 0; i < 1000 && it.hasNext(); i++) {
            keyChanged(it.next());
        }
    }

    /**
     * Sends the invalidation of {@code key} (null: of everything) to {@code id}'s target. When the
     * REDIRECT target has gone, the message is dropped and, as Redis does, a RESP3 client is told
     * {@code tracking-redir-broken}.
     */
    private void send(long id, TrackingOptions options, byte[] key) {
        boolean redirected = options.redirect() != TrackingOptions.NO_REDIRECT;
        TrackingClient target = clients.get(redirected ? options.redirect() : id);
        if (target == null) {
            TrackingClient self = clients.get(id);
            if (redirected && self != null) {
                brokenRedirects.add(id);
                if (self.protocol() == RespVersion.RESP3) {
                    ByteBuf broken = ByteBufAllocator.DEFAULT.buffer(48);
                    RespWriter.writePushHeader(broken, RespVersion.RESP3, 2);
                    RespWriter.writeBulk(broken, REDIR_BROKEN);
                    RespWriter.writeInteger(broken, options.redirect());
                    self.push(broken);
                }
            }
            return;
        }
        ByteBuf message = encode(target, key);
        if (message != null) {
            target.push(message);
        }
    }

    private static final byte[] REDIR_BROKEN = "tracking-redir-broken".getBytes(StandardCharsets.US_ASCII);

    /** The message in {@code target}'s protocol; null for a RESP2 client not subscribed to it. */
    static ByteBuf encode(TrackingClient target, byte[] key) {
        ByteBuf out;
        if (target.protocol() == RespVersion.RESP3) {
            out = ByteBufAllocator.DEFAULT.buffer(32 + (key == null ? 0 : key.length));
            RespWriter.writePushHeader(out, RespVersion.RESP3, 2);
            RespWriter.writeBulk(out, INVALIDATE);
        } else if (target.subscribedToInvalidations()) {
            out = ByteBufAllocator.DEFAULT.buffer(64 + (key == null ? 0 : key.length));
            RespWriter.writeArrayHeader(out, 3);
            RespWriter.writeBulk(out, MESSAGE);
            RespWriter.writeBulk(out, CHANNEL);
        } else {
            return null;
        }
        if (key == null) {
            RespWriter.writeNull(out, target.protocol());      // `_` in RESP3, `$-1` in RESP2, as Redis
        } else {
            RespWriter.writeArrayHeader(out, 1);
            RespWriter.writeBulk(out, key);
        }
        return out;
    }
}
