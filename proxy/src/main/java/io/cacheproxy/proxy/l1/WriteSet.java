package io.cacheproxy.proxy.l1;

import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.routing.CommandSpec;
import io.cacheproxy.routing.KeyPositions;
import io.cacheproxy.routing.RouteTable;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys one write (or one transaction) changes, as L1 must know them: each is invalidated
 * before the write is forwarded ({@link #begin}) and again when its reply arrives
 * ({@link #end}, which also broadcasts them). A FLUSHALL or FLUSHDB changes everything.
 *
 * <p>Which commands count as writes: those Redis flags {@code write}, and scripts and functions
 * ({@code may_replicate}: EVAL, EVALSHA, FCALL), whose declared keys are treated as written.
 */
public final class WriteSet {
    private final List<CacheKey> keys;
    private final List<TrackedNode> nodes;
    private final boolean everything;
    /** What the first invalidation removed, per key (for refresh-ahead at the second); null entries for none. */
    private Entry[] removed;

    private WriteSet(List<CacheKey> keys, List<TrackedNode> nodes, boolean everything) {
        this.keys = keys;
        this.nodes = nodes;
        this.everything = everything;
    }

    /** Whether {@code spec} may change keys L1 holds. */
    public static boolean writes(CommandSpec spec) {
        return spec.isWrite() || spec.flags().contains("may_replicate");
    }

    /**
     * The keys {@code request} writes on nodes L1 tracks, already invalidated once; null when there
     * are none.
     */
    public static WriteSet begin(NearCache cache, RouteTable<BackendPool> routes, RespRequest request, CommandSpec spec) {
        WriteSet set;
        if (spec.name().equals("flushall") || spec.name().equals("flushdb")) {
            set = new WriteSet(List.of(), new ArrayList<>(cache.trackedNodes()), true);
        } else {
            int[] positions = KeyPositions.of(spec, request);
            if (positions == null || positions.length == 0) {
                return null;
            }
            ByteBuf content = request.content();
            List<CacheKey> keys = new ArrayList<>(positions.length);
            List<TrackedNode> nodes = new ArrayList<>(positions.length);
            for (int i : positions) {
                int offset = request.argOffset(i);
                int length = request.argLength(i);
                BackendPool pool = routes.targetFor(content, offset, length);
                TrackedNode node = cache.tracked(pool.nodeFor(content, offset, length));
                if (node != null) {
                    keys.add(CacheKey.of(content, offset, length));
                    nodes.add(node);
                }
            }
            if (keys.isEmpty()) {
                return null;
            }
            set = new WriteSet(keys, nodes, false);
        }
        set.invalidate(cache, false);
        return set;
    }

    /** One set for the writes of a transaction's queued commands; null when there are none. */
    public static WriteSet merge(NearCache cache, List<WriteSet> sets) {
        if (sets.isEmpty()) {
            return null;
        }
        List<CacheKey> keys = new ArrayList<>();
        List<TrackedNode> nodes = new ArrayList<>();
        boolean everything = false;
        for (WriteSet s : sets) {
            keys.addAll(s.keys);
            nodes.addAll(s.nodes);
            everything |= s.everything;
        }
        WriteSet set = new WriteSet(keys, nodes, everything);
        set.invalidate(cache, false);
        return set;
    }

    /** The write was answered: invalidates again, then tells other proxies. */
    public void end(NearCache cache, Broadcaster broadcaster) {
        invalidate(cache, true);
        if (broadcaster == null) {
            return;
        }
        if (everything) {
            for (TrackedNode node : nodes) {
                broadcaster.addFlush(node.node());
            }
            return;
        }
        for (int i = 0; i < keys.size(); i++) {
            broadcaster.add(nodes.get(i).node(), keys.get(i));
        }
    }

    /** Invalidates every key; {@code counted}: in the metrics and the hot-key sketch (once per write). */
    private void invalidate(NearCache cache, boolean counted) {
        if (everything) {
            if (counted) {
                cache.invalidateAll(NearCache.Source.FLUSH);
            } else {
                cache.invalidateAllUncounted(nodes.size());
            }
        }
        if (!counted) {
            removed = new Entry[keys.size()];
        }
        for (int i = 0; i < keys.size(); i++) {
            if (counted) {
                cache.invalidate(keys.get(i), NearCache.Source.WRITE, removed == null ? null : removed[i]);
            } else {
                removed[i] = cache.invalidateUncounted(keys.get(i));
            }
        }
        if (counted) {
            removed = null;
        }
    }
}
