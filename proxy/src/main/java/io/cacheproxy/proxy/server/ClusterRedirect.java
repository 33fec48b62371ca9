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
 * {@link Redirection} reads such a reply, for the other paths that meet one (blocking commands,
 * transactions).
 *
 * <p>Keeps a reference to the command's bytes until the final reply. Confined to the event loop.
 */
final class ClusterRedirect extends ReplySink.InPlace {
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
        Redirection redirection = Redirection.parse(in, index, length);
        if (redirection == null) {
            return false;
        }
        BackendNode node = redirection.follow(pool.cluster());
        redirects++;
        var connection = loop.shared(pool, node, protocol);
        if (redirection.ask()) {
            connection.send(asking(), ReplySink.IGNORE);
        }
        connection.send(command.retain(), this);
        return true;
    }

    /** A new {@code ASKING} command, for the connection that is to take an ASK-redirected command. */
    static ByteBuf asking() {
        ByteBuf asking = ByteBufAllocator.DEFAULT.buffer(16);
        RespWriter.writeCommand(asking, "ASKING");
        return asking;
    }

    /**
     * A {@code -MOVED slot host:port} or {@code -ASK slot host:port} reply: where the cluster says a
     * command belongs. {@link ClusterRedirect} follows it for ordinary commands, the client handler for
     * blocking commands; inside a transaction it cannot be followed and becomes an error for the client.
     */
    record Redirection(boolean ask, int slot, String host, int port) {

        /** The redirection {@code in[index, index + length)} is, or null for any other reply. */
        static Redirection parse(ByteBuf in, int index, int length) {
            boolean moved = startsWith(in, index, length, MOVED);
            if (!moved && !startsWith(in, index, length, ASK)) {
                return null;
            }
            // "-MOVED 3999 127.0.0.1:6381\r\n"
            String[] parts = in.toString(index + 1, length - 3, StandardCharsets.US_ASCII).split(" ");
            int colon = parts.length == 3 ? parts[2].lastIndexOf(':') : -1;
            if (colon <= 0) {
                return null;
            }
            try {
                return new Redirection(!moved, Integer.parseInt(parts[1]), parts[2].substring(0, colon),
                        Integer.parseInt(parts[2].substring(colon + 1)));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        /**
         * The node to resend to, the same object as the slot map's. A MOVED also updates the slot map
         * at once (and has it re-read soon), so that the next command of the slot goes straight there;
         * an ASK changes nothing (the slot's owner is still the migrating node until the move ends).
         */
        BackendNode follow(ClusterTopology cluster) {
            BackendNode node = cluster.node(host, port);
            if (!ask) {
                cluster.moved(slot, node);
            }
            return node;
        }

        /** {@code host:port} as the redirection spelled it. */
        String address() {
            return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        }

        /**
         * The error a client gets for a command queued in a transaction (MULTI) whose slot the
         * transaction's node no longer serves: Redis has flagged the transaction, and EXEC answers
         * EXECABORT. The client retries the whole transaction, which goes to the slot's new node.
         */
        String queuedError() {
            return ask
                    ? "TRYAGAIN slot " + slot + " is being migrated to " + address() + "; the transaction will be "
                            + "aborted (EXECABORT): retry it"
                    : "TRYAGAIN slot " + slot + " has moved to " + address() + "; the transaction will be "
                            + "aborted (EXECABORT): retry it";
        }

        /** The error for an EXEC that found a slot of its queued commands moved: the transaction was discarded. */
        String execError() {
            return "EXECABORT Transaction discarded because slot " + slot + (ask ? " is being migrated to " : " has moved to ")
                    + address() + ": retry it";
        }

        /** The error for a WATCH of a key whose slot the transaction's node no longer serves: nothing is watched. */
        String watchError() {
            return "TRYAGAIN slot " + slot + (ask ? " is being migrated to " : " has moved to ") + address()
                    + "; the key is not watched: retry";
        }
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
