package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.l1.WriteSet;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.netty.buffer.ByteBuf;

/**
 * One request's place in its client's reply queue. Replies may complete out of order (different
 * nodes, local answers); the client writes them in request order. Implements {@link ReplySink} so
 * an upstream connection completes it directly.
 *
 * <p>Confined to the client's event loop.
 */
final class PendingReply implements ReplySink {
    /** What the client handler does once this reply has been written. */
    enum After { NOTHING, CLOSE, END_TRANSACTION, END_WATCH }

    final ClientHandler client;
    /** {@code CommandSpec.id()}, or the metrics id for unknown commands / protocol errors. */
    final int commandId;
    final long startNanos;
    long deadlineNanos;
    ByteBuf reply;
    /** A reply L1 answered (shared, immutable), written instead of {@link #reply} when set. */
    byte[] l1Reply;
    boolean done;
    boolean silent;
    After after = After.NOTHING;
    /** The keys this request writes, for L1's second invalidation when its reply arrives; null for none. */
    WriteSet writes;
    /**
     * For a write that ran on one replica of a replicated pool only (a transaction, a blocking
     * pop): copies its keys to the other replicas once it is answered; null for none.
     */
    Runnable copyAfter;
    /** Client-side caching messages to write right after this reply (owned); null for none. */
    ByteBuf pushes;

    PendingReply(ClientHandler client, int commandId, long startNanos, long deadlineNanos) {
        this.client = client;
        this.commandId = commandId;
        this.startNanos = startNanos;
        this.deadlineNanos = deadlineNanos;
    }

    @Override
    public void onReply(ByteBuf reply) {
        client.complete(this, reply);
    }

    @Override
    public void onReply(ByteBuf in, int index, int length) {
        client.complete(this, in, index, length);
    }

    @Override
    public void onFailure(String error) {
        client.completeWithError(this, error);
    }

    @Override
    public long deadlineNanos() {
        return deadlineNanos;
    }
}
