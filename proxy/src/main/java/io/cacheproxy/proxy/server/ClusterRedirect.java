package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ClusterTopology;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Sends a keyed command to a node of a {@code type: cluster} pool and follows the cluster's
 * redirections, so the client never sees them: {@code -MOVED slot host:port} updates the slot map
 * and resends there; {@code -ASK slot host:port} (a slot being migrated) resends there once, after
 * {@code ASKING}. After {@value #MAX_REDIRECTS} redirections the last one is passed to the client.
 *
 * <p>Keeps a reference to the command's bytes until the final reply. Confined to the event loop.
 */
final class ClusterRedirect implements ReplySink {
    static final int MAX_REDIRECTS = 5;
    private static final byte[] MOVED = "-MOVED ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ASK = "-ASK ".getBytes(StandardCharsets.US_ASCII);

    private final LoopContext loop;
    private final BackendPool pool;
    private final RespVersion protocol;
    private final ByteBuf command;
    private final ReplySink target;
    private int redirects;

    private ClusterRedirect(LoopContext loop, BackendPool pool, RespVersion protocol, ByteBuf command, ReplySink target) {
        this.loop = loop;
        this.pool = pool;
        this.protocol = protocol;
        this.command = command;
        this.target = target;
    }

    /** Sends {@code command} (taking ownership) to {@code node}; {@code sink} gets the final reply. */
    static void send(LoopContext loop, BackendPool pool, BackendNode node, RespVersion protocol, ByteBuf command,
                     ReplySink sink) {
        if (pool.cluster() == null) {
            loop.shared(pool, node, protocol).send(command, sink);
            return;
        }
        ClusterRedirect redirect = new ClusterRedirect(loop, pool, protocol, command, sink);
        loop.shared(pool, node, protocol).send(command.retain(), redirect);
    }

    @Override
    public void onReply(ByteBuf in, int index, int length) {
        if (redirects < MAX_REDIRECTS && follow(in, index, length)) {
            return;
        }
        command.release();
        target.onReply(in, index, length);
    }

    @Override
    public void onReply(ByteBuf reply) {
        try {
            onReply(reply, reply.readerIndex(), reply.readableBytes());
        } finally {
            reply.release();
        }
    }

    @Override
    public void onFailure(String error) {
        command.release();
        target.onFailure(error);
    }

    @Override
    public long deadlineNanos() {
        return target.deadlineNanos();
    }

    /** Resends after a MOVED or ASK reply; false for any other reply. */
    private boolean follow(ByteBuf in, int index, int length) {
        boolean moved = startsWith(in, index, length, MOVED);
        boolean ask = !moved && startsWith(in, index, length, ASK);
        if (!moved && !ask) {
            return false;
        }
        // "-MOVED 3999 127.0.0.1:6381\r\n"
        String[] parts = in.toString(index + 1, length - 3, StandardCharsets.US_ASCII).split(" ");
        int colon = parts.length == 3 ? parts[2].lastIndexOf(':') : -1;
        if (colon <= 0) {
            return false;
        }
        int slot;
        int port;
        try {
            slot = Integer.parseInt(parts[1]);
            port = Integer.parseInt(parts[2].substring(colon + 1));
        } catch (NumberFormatException e) {
            return false;
        }
        ClusterTopology cluster = pool.cluster();
        BackendNode node = cluster.node(parts[2].substring(0, colon), port);
        redirects++;
        var connection = loop.shared(pool, node, protocol);
        if (moved) {
            cluster.moved(slot, node);
        } else {
            ByteBuf asking = ByteBufAllocator.DEFAULT.buffer(16);
            RespWriter.writeCommand(asking, "ASKING");
            connection.send(asking, ReplySink.IGNORE);
        }
        connection.send(command.retain(), this);
        return true;
    }

    private static boolean startsWith(ByteBuf in, int index, int length, byte[] prefix) {
        if (length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (in.getByte(index + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
