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
 * tracks every key in BCAST mode, so each change of any key on any node reaches the proxy (see
 * {@code NearCache.trackAllKeys}); writes through the proxy are reported when answered. This class
 * then decides who is told: in the default mode the clients that read the key since they were last
 * told (one message per read, as Redis), in BCAST mode those whose prefixes match.
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
    /** Default-mode clients that read something since they were last told to flush. */
    private final Set<Long> readSinceFlush = ConcurrentHashMap.newKeySet();

    public void register(TrackingClient client) {
        clients.put(client.id(), client);
    }

    /** The client has gone. Its remembered keys are dropped lazily, when they change. */
    public void unregister(long id) {
        clients.remove(id);
        tracking.remove(id);
        readSinceFlush.remove(id);
    }

    /** Null when {@code id} may turn tracking on with {@code options}, else Redis's error. */
    public String check(long id, TrackingOptions options) {
        TrackingOptions now = tracking.get(id);
        if (now != null && now.bcast() != options.bcast()) {
            return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
                    + "and then re-enabling it with a different mode.";
        }
        if (options.redirect() != 0 && options.redirect() != id && !clients.containsKey(options.redirect())) {
            return "ERR The client ID you want redirect to does not exist";
        }
        return null;
    }

    public void enable(long id, TrackingOptions options) {
        tracking.put(id, options);
    }

    public void disable(long id) {
        tracking.remove(id);
    }

    public TrackingOptions options(long id) {
        return tracking.get(id);
    }

    /** Whether any client tracks. */
    public boolean anyTracking() {
        return !tracking.isEmpty();
    }

    /** Whether {@code options.redirect()} names a client that has gone. */
    public boolean redirectBroken(TrackingOptions options) {
        return options.redirect() != 0 && !clients.containsKey(options.redirect());
    }

    /** A default-mode client read {@code key}: it is told of the key's next change. */
    public void remember(long id, CacheKey key) {
        readers.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(id);
        readSinceFlush.add(id);
        if (readers.size() > MAX_KEYS) {
            evictSome();
        }
    }

    /** NOLOOP: the client changes {@code key} itself and is not told of it. */
    public void forget(long id, CacheKey key) {
        readers.computeIfPresent(key, (k, ids) -> {
            ids.remove(id);
            return ids.isEmpty() ? null : ids;
        });
    }

    /** {@code key} changed: tell its readers (default mode) and the BCAST clients it concerns. */
    public void keyChanged(CacheKey key) {
        Set<Long> ids = readers.remove(key);
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
     * Everything may have changed (FLUSHALL, a lost link): every tracking client flushes; a
     * default-mode client only if it read something since it was last told (one FLUSHALL is heard
     * from every node and from the write itself).
     */
    public void allChanged() {
        readers.clear();
        for (Map.Entry<Long, TrackingOptions> e : tracking.entrySet()) {
            if (e.getValue().bcast() || readSinceFlush.remove(e.getKey())) {
                send(e.getKey(), e.getValue(), null);
            }
        }
    }

    private void evictSome() {
        Iterator<CacheKey> it = readers.keySet().iterator();
        for (int i = 0; i < 1000 && it.hasNext(); i++) {
            keyChanged(it.next());
        }
    }

    /** Sends the invalidation of {@code key} (null: of everything) to {@code id}'s target. */
    private void send(long id, TrackingOptions options, byte[] key) {
        TrackingClient target = clients.get(options.redirect() == 0 ? id : options.redirect());
        if (target == null) {
            return;     // a redirect to a client that has gone: Redis drops the message too
        }
        ByteBuf message = encode(target, key);
        if (message != null) {
            target.push(message);
        }
    }

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
            RespWriter.writeNullArray(out, target.protocol());
        } else {
            RespWriter.writeArrayHeader(out, 1);
            RespWriter.writeBulk(out, key);
        }
        return out;
    }
}
