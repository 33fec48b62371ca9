package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.proxy.l1.CacheKey;
import io.cacheproxy.proxy.l1.Fill;
import io.cacheproxy.proxy.l1.NearCache;
import io.cacheproxy.proxy.l1.TrackedNode;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * MGET through L1: each key's value is looked up as L1's {@code GET key} entry. When none is held
 * and none is hot, MGET goes its usual way (one sub-MGET per node). Otherwise the held values are
 * answered from memory and only the other keys are read, each as a {@code GET} (a {@link Fill} for a
 * hot key, so MGET alone brings hot keys into L1), and the array is put together in key order.
 *
 * <p>Where MGET and GET differ, MGET's reply is kept: a key of another type reads as nil (GET would
 * answer WRONGTYPE), and a node that fails fails the whole MGET, as it would without L1.
 *
 * <p>Confined to the client's event loop.
 */
final class NearCacheMget {
    private static final byte[] GET = {'G', 'E', 'T'};

    private final ClientHandler client;
    private final PendingReply pending;
    private final RespVersion protocol;
    private final byte[][] values;
    private int missing;
    private boolean failed;

    private NearCacheMget(ClientHandler client, PendingReply pending, RespVersion protocol, int keys) {
        this.client = client;
        this.pending = pending;
        this.protocol = protocol;
        this.values = new byte[keys][];
    }

    /**
     * Answers {@code MGET} ({@code request}, whose keys are at {@code keys}) with L1's help and
     * returns true (taking ownership of {@code request}); returns false, leaving the request, when L1
     * holds none of its keys and none is hot.
     */
    static boolean tryStart(ClientHandler client, LoopContext loop, ProxyContext proxy, RespVersion protocol,
                            RespRequest request, int getId, int[] keys, PendingReply pending) {
        NearCache cache = proxy.nearCache();
        long now = pending.startNanos;
        ByteBuf content = request.content();
        CacheKey[] cacheKeys = new CacheKey[keys.length];
        boolean[] hot = new boolean[keys.length];
        NearCacheMget mget = new NearCacheMget(client, pending, protocol, keys.length);
        int hits = 0;
        boolean anyHot = false;
        for (int k = 0; k < keys.length; k++) {
            int offset = request.argOffset(keys[k]);
            int length = request.argLength(keys[k]);
            BackendPool pool = proxy.routes().targetFor(content, offset, length);
            if (cache.tracked(pool.nodeFor(content, offset, length)) == null) {
                continue;
            }
            cacheKeys[k] = CacheKey.of(content, offset, length);
            hot[k] = cache.admits(cacheKeys[k], cache.recordRead(cacheKeys[k], now));
            anyHot |= hot[k];
            mget.values[k] = cache.get(cacheKeys[k], getId, protocol, NearCache.NO_ARGS, now);
            hits += mget.values[k] != null ? 1 : 0;
        }
        if (hits == 0 && !anyHot) {
            return false;
        }
        mget.missing = keys.length - hits;
        for (int k = 0; k < keys.length; k++) {
            if (mget.values[k] != null) {
                continue;
            }
            int offset = request.argOffset(keys[k]);
            int length = request.argLength(keys[k]);
            BackendPool pool = proxy.routes().targetFor(content, offset, length);
            BackendNode node = pool.nodeFor(content, offset, length);
            byte[] key = new byte[length];
            content.getBytes(offset, key);
            ByteBuf get = ByteBufAllocator.DEFAULT.buffer(24 + length);
            RespWriter.writeCommand(get, GET, key);
            ReplySink sink = mget.part(k);
            TrackedNode tracked = cache.tracked(node);
            NearCache.FillTicket ticket = hot[k] && tracked != null && tracked.fillable()
                    ? cache.startFill(cacheKeys[k], tracked, getId, protocol, NearCache.NO_ARGS, now) : null;
            if (ticket != null) {
                Fill.send(cache, ticket, loop.shared(pool, node, protocol), get, sink);
            } else {
                ClusterRedirect.send(loop, pool, node, protocol, get, sink);
            }
        }
        request.release();
        if (mget.missing == 0) {
            mget.answer();
        }
        return true;
    }

    private ReplySink part(int index) {
        return new ReplySink.InPlace() {
            @Override
            public void onReply(ByteBuf in, int index2, int length) {
                byte type = in.getByte(index2);
                if (type == '-' || type == '!') {
                    values[index] = null;       // WRONGTYPE: MGET reads another type as nil
                } else {
                    values[index] = new byte[length];
                    in.getBytes(index2, values[index]);
                }
                partDone();
            }

            @Override
            public void onFailure(String error) {
                if (!failed) {
                    failed = true;
                    client.completeWithError(pending, error);
                }
                partDone();
            }

            @Override
            public long deadlineNanos() {
                return pending.deadlineNanos;
            }
        };
    }

    private void partDone() {
        if (--missing == 0 && !failed) {
            answer();
        }
    }

    private void answer() {
        int size = 16;
        for (byte[] v : values) {
            size += v == null ? 5 : v.length;
        }
        ByteBuf reply = ByteBufAllocator.DEFAULT.buffer(size);
        RespWriter.writeArrayHeader(reply, values.length);
        for (byte[] v : values) {
            if (v == null) {
                RespWriter.writeNull(reply, protocol);
            } else {
                reply.writeBytes(v);
            }
        }
        client.complete(pending, reply);
    }
}
