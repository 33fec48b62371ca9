package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.proxy.l1.CacheKey;
import io.cacheproxy.proxy.l1.Fill;
import io.cacheproxy.proxy.l1.NearCache;
import io.cacheproxy.proxy.l1.TrackedNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * L1's refresh-ahead ({@link NearCache.Refresher}): when a hot key is invalidated, its cached reads
 * are sent again as {@link Fill}s from the event loop that heard the invalidation, so the next
 * client read is a hit again. At most {@value #MAX_IN_FLIGHT} refreshes are in flight at a time;
 * past that, keys are simply filled by the next client read.
 */
public final class RefreshAhead implements NearCache.Refresher {
    static final int MAX_IN_FLIGHT = 64;

    private final ProxyContext proxy;
    private final AtomicInteger inFlight = new AtomicInteger();

    private RefreshAhead(ProxyContext proxy) {
        this.proxy = proxy;
    }

    /** Makes {@code proxy}'s L1 refresh hot keys ahead. */
    public static void install(ProxyContext proxy) {
        proxy.nearCache().refresher(new RefreshAhead(proxy));
    }

    @Override
    public boolean refresh(CacheKey key, TrackedNode node, int commandId, RespVersion protocol, byte[] args) {
        EventExecutor executor = ThreadExecutorMap.currentExecutor();
        String name = proxy.cacheableReads().nameOf(commandId);
        if (!(executor instanceof EventLoop eventLoop) || name == null || !node.fillable()) {
            return false;
        }
        NearCache cache = proxy.nearCache();
        NearCache.FillTicket ticket = cache.startFill(key, node, commandId, protocol, args, System.nanoTime());
        if (ticket == null) {
            return false;       // a read is filling it already
        }
        if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
            inFlight.decrementAndGet();
            cache.abandonFill(ticket);
            return false;
        }
        LoopContext loop = proxy.loop(eventLoop);
        BackendPool pool = proxy.poolOf(node.node());
        byte[][] rest = NearCache.decodeArgs(args);
        byte[][] command = new byte[rest.length + 2][];
        command[0] = name.getBytes(StandardCharsets.US_ASCII);
        command[1] = key.bytes();
        System.arraycopy(rest, 0, command, 2, rest.length);
        ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(64 + key.bytes().length + args.length);
        RespWriter.writeCommand(buf, command);
        long deadline = System.nanoTime() + pool.settings().commandTimeout().toNanos();
        Fill.send(cache, ticket,
                loop.shared(pool, node.node(), protocol), buf, new ReplySink() {
                    @Override
                    public void onReply(ByteBuf reply) {
                        reply.release();
                        inFlight.decrementAndGet();
                    }

                    @Override
                    public void onReply(ByteBuf in, int index, int length) {
                        inFlight.decrementAndGet();
                    }

                    @Override
                    public void onFailure(String error) {
                        inFlight.decrementAndGet();
                    }

                    @Override
                    public long deadlineNanos() {
                        return deadline;
                    }
                });
        return true;
    }
}
