package io.cacheproxy.proxy;

import io.cacheproxy.proxy.l1.Broadcaster;
import io.cacheproxy.proxy.metrics.CommandStats;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.BlockingConnections;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.proxy.upstream.UpstreamConnection;
import io.cacheproxy.resp.RespVersion;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.function.Function;

/**
 * What one event loop owns: its {@link OutboundFlusher}, its shared connections to every backend
 * node, one per protocol version (opened lazily), and its {@link BlockingConnections}. Clients
 * served by this loop use only these, so the data path takes no locks and makes no thread hops.
 *
 * <p>Confined to its event loop.
 */
public final class LoopContext {
    private final OutboundFlusher flusher;
    private final Transport transport;
    private final IdentityHashMap<BackendNode, UpstreamConnection[]> shared = new IdentityHashMap<>();
    private final BlockingConnections blockingConnections;
    private long pendingRequests;
    private final Broadcaster broadcaster;

    private final CommandStats stats;

    /**
     * @param broadcastChannel where this loop's {@link Broadcaster} publishes written keys; null for no
     *                         broadcast
     * @param poolOf           the pool of a node, whose settings a PUBLISH connection uses
     */
    public LoopContext(EventLoop loop, Transport transport, CommandStats stats, String broadcastChannel,
                       byte[] proxyId, Function<BackendNode, BackendPool> poolOf) {
        this.flusher = new OutboundFlusher(loop);
        this.transport = transport;
        this.stats = stats;
        this.blockingConnections = new BlockingConnections(flusher, transport);
        this.broadcaster = broadcastChannel == null ? null
                : new Broadcaster(broadcastChannel, proxyId, loop, ByteBufAllocator.DEFAULT,
                        (node, command) -> shared(poolOf.apply(node), node, RespVersion.RESP2).send(command, ReplySink.IGNORE));
    }

    /** Publishes the keys this loop's clients write for other proxies' L1; null when broadcast is off. */
    public Broadcaster broadcaster() {
        return broadcaster;
    }

    /** This loop's command counters and latencies. */
    public CommandStats stats() {
        return stats;
    }

    public OutboundFlusher flusher() {
        return flusher;
    }

    public Transport transport() {
        return transport;
    }

    public EventLoop loop() {
        return flusher.loop();
    }

    /** The multiplexed connection of this loop to {@code node} for clients speaking {@code protocol}. */
    public UpstreamConnection shared(BackendPool pool, BackendNode node, RespVersion protocol) {
        UpstreamConnection[] byProtocol = shared.get(node);
        if (byProtocol == null) {
            byProtocol = new UpstreamConnection[2];
            shared.put(node, byProtocol);
        }
        int i = protocol.ordinal();
        UpstreamConnection connection = byProtocol[i];
        if (connection == null) {
            connection = new UpstreamConnection(node, protocol, pool.settings(), flusher, transport, false);
            byProtocol[i] = connection;
        }
        return connection;
    }

    /** Closes this loop's shared and idle blocking connections (shutdown, after clients are done). */
    public void closeConnections() {
        if (broadcaster != null) {
            broadcaster.close();        // its next PUBLISH would reopen a connection that nobody closes
        }
        for (UpstreamConnection[] byProtocol : shared.values()) {
            for (UpstreamConnection connection : byProtocol) {
                if (connection != null) {
                    connection.close();
                }
            }
        }
        blockingConnections.closeAllIdle();
    }

    /** Closes and forgets this loop's shared connections to {@code node} (it left its pool). Loop thread only. */
    public void closeShared(BackendNode node) {
        UpstreamConnection[] byProtocol = shared.remove(node);
        if (byProtocol != null) {
            for (UpstreamConnection connection : byProtocol) {
                if (connection != null) {
                    connection.close();
                }
            }
        }
    }

    /** This loop's connections for blocking commands, lent to one client at a time. */
    public BlockingConnections blockingConnections() {
        return blockingConnections;
    }

    /**
     * A new connection to {@code node} for one client's exclusive use (a transaction, a
     * subscription); the caller closes it.
     */
    public UpstreamConnection dedicated(BackendPool pool, BackendNode node, RespVersion protocol) {
        return new UpstreamConnection(node, protocol, pool.settings(), flusher, transport, true);
    }

    /** Requests of this loop's clients read and not yet answered (graceful shutdown waits for 0). */
    public long pendingRequests() {
        return pendingRequests;
    }

    public void requestStarted() {
        pendingRequests++;
    }

    public void requestFinished() {
        pendingRequests--;
    }
}
