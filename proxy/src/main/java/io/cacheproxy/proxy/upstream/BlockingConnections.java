package io.cacheproxy.proxy.upstream;

import io.cacheproxy.proxy.OutboundFlusher;
import io.cacheproxy.proxy.Transport;
import io.cacheproxy.resp.RespVersion;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One event loop's connections for blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, WAIT
 * ...). A blocked command holds its connection until Redis answers, so it cannot share the loop's
 * multiplexed connection; instead a client borrows one of these per node while it has blocking
 * commands in flight there, and gives it back after the last reply, for the next client.
 *
 * <p><b>Bound.</b> Every such connection to a node counts against the node's
 * {@code pools.NAME.blocking-connections}, over all event loops, whether in use or idle (the count
 * lives in {@link BackendPool}); it is counted when opened and uncounted exactly once, when it is
 * closed. At the bound, with nothing idle here, {@link #borrow} returns null and the caller refuses
 * the command: many blocked clients cannot make the proxy open unbounded connections to Redis.
 *
 * <p><b>Idle connections</b> wait per node and protocol version, at most {@value #MAX_IDLE} each;
 * one given back beyond that is closed. One that closed while idle (the node restarted or moved) is
 * dropped, and uncounted, when {@link #borrow} meets it. Idle connections of one loop must not keep
 * another loop's clients refused: a loop at the bound closes its own idle connections to the node
 * and the caller asks the other loops to do the same ({@link #closeIdle}).
 *
 * <p>Confined to its event loop, like the {@link UpstreamConnection}s it holds.
 */
public final class BlockingConnections {
    /** Idle connections kept per node and protocol version. */
    static final int MAX_IDLE = 8;

    private final OutboundFlusher flusher;
    private final Transport transport;
    /** Per node, one stack of idle connections per {@link RespVersion} (by ordinal); newest on top. */
    private final Map<BackendNode, List<ArrayDeque<UpstreamConnection>>> idle = new IdentityHashMap<>();

    public BlockingConnections(OutboundFlusher flusher, Transport transport) {
        this.flusher = flusher;
        this.transport = transport;
    }

    /**
     * A connection to {@code node} for one client's blocking commands: an idle one of this loop,
     * else a new one while the node is under its bound; null at the bound. The caller owns it
     * until it hands it to {@link #giveBack} or {@link #close}.
     */
    public UpstreamConnection borrow(BackendPool pool, BackendNode node, RespVersion protocol) {
        ArrayDeque<UpstreamConnection> stack = idle(node, protocol);
        UpstreamConnection connection;
        while ((connection = stack.pollFirst()) != null) {
            if (!connection.isClosed()) {
                return connection;
            }
            pool.blockingConnectionClosed(node);
        }
        if (!pool.tryOpenBlockingConnection(node)) {
            closeIdle(pool, node);      // idle connections of the other protocol version hold places too
            if (!pool.tryOpenBlockingConnection(node)) {
                return null;
            }
        }
        return new UpstreamConnection(node, protocol, pool.settings(), flusher, transport, true);
    }

    /**
     * Takes back a borrowed connection whose commands have all been answered: it waits for the
     * next client, or is closed when {@value #MAX_IDLE} already wait. {@code protocol} is the one
     * it was borrowed for.
     */
    public void giveBack(BackendPool pool, UpstreamConnection connection, RespVersion protocol) {
        if (connection.isClosed()) {        // failed: the deadline check or the node closed it
            pool.blockingConnectionClosed(connection.node());
            return;
        }
        ArrayDeque<UpstreamConnection> stack = idle(connection.node(), protocol);
        if (stack.size() < MAX_IDLE) {
            stack.push(connection);
        } else {
            close(pool, connection);
        }
    }

    /**
     * Closes a borrowed connection, commands in flight or not (their sinks fail): Redis drops
     * what blocks on it, and the place it held is free at once.
     */
    public void close(BackendPool pool, UpstreamConnection connection) {
        connection.close();
        pool.blockingConnectionClosed(connection.node());
    }

    /** Closes this loop's idle connections to {@code node}, freeing their places for any loop. */
    public void closeIdle(BackendPool pool, BackendNode node) {
        List<ArrayDeque<UpstreamConnection>> byProtocol = idle.get(node);
        if (byProtocol == null) {
            return;
        }
        for (ArrayDeque<UpstreamConnection> stack : byProtocol) {
            UpstreamConnection connection;
            while ((connection = stack.poll()) != null) {
                close(pool, connection);
            }
        }
    }

    /** Closes every idle connection (shutdown). */
    public void closeAllIdle() {
        for (List<ArrayDeque<UpstreamConnection>> byProtocol : idle.values()) {
            for (ArrayDeque<UpstreamConnection> stack : byProtocol) {
                UpstreamConnection connection;
                while ((connection = stack.poll()) != null) {
                    connection.close();
                }
            }
        }
    }

    private ArrayDeque<UpstreamConnection> idle(BackendNode node, RespVersion protocol) {
        return idle.computeIfAbsent(node, n -> List.of(new ArrayDeque<>(), new ArrayDeque<>())).get(protocol.ordinal());
    }
}
