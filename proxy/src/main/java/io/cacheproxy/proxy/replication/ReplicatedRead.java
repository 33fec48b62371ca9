package io.cacheproxy.proxy.replication;

import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ReplicaSet;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespVersion;
import io.github.resilience4j.retry.Retry;
import io.netty.buffer.ByteBuf;

/**
 * One read of a replicated key: sent to the node {@code read-from} picks among the trusted
 * replicas; when that node fails it (connection lost, no reply in time), sent once more to the
 * next trusted replica, as the pool's Resilience4j {@link Retry} allows. Only commands flagged
 * read-only come here, so a retry cannot apply anything twice. The command is kept (retained)
 * until the read is answered.
 *
 * <p>Confined to the client's event loop.
 */
final class ReplicatedRead implements ReplySink {
    private final LoopContext loop;
    private final BackendPool pool;
    private final ReplicaSet replicas;
    private final RespVersion protocol;
    private final ReplySink client;
    private final Retry retry;
    private ByteBuf command;
    private BackendNode tried;
    private Retry.AsyncContext<Void> retrying;
    private long deadlineNanos;

    private ReplicatedRead(LoopContext loop, BackendPool pool, ReplicaSet replicas, RespVersion protocol,
                           ByteBuf command, ReplySink client, Retry retry) {
        this.loop = loop;
        this.pool = pool;
        this.replicas = replicas;
        this.protocol = protocol;
        this.command = command;
        this.client = client;
        this.retry = retry;
        this.deadlineNanos = client.deadlineNanos();
    }

    /** Sends {@code command} (owned) to {@code node}, a trusted replica, or fails it when there is none. */
    static void start(LoopContext loop, BackendPool pool, ReplicaSet replicas, BackendNode node, RespVersion protocol,
                      ByteBuf command, Retry retry, ReplySink client) {
        if (node == null) {
            command.release();
            client.onFailure(noTrustedReplica(pool, replicas));
            return;
        }
        ReplicatedRead read = new ReplicatedRead(loop, pool, replicas, protocol, command, client, retry);
        read.send(node);
    }

    static String noTrustedReplica(BackendPool pool, ReplicaSet replicas) {
        return "backend unavailable: pool " + pool.name() + ", no trusted replica of the key (" + replicas.names() + ")";
    }

    private void send(BackendNode node) {
        tried = node;
        loop.shared(pool, node, protocol).send(command.retain(), this);
    }

    @Override
    public void onReply(ByteBuf reply) {
        finish();
        client.onReply(reply);
    }

    @Override
    public void onReply(ByteBuf in, int index, int length) {
        finish();
        client.onReply(in, index, length);
    }

    private void finish() {
        command.release();
        command = null;
        if (retrying != null) {
            retrying.onComplete();
        }
    }

    @Override
    public void onFailure(String error) {
        tried.health().failed(error);       // real traffic's failure, for the node's circuit breaker
        BackendNode next = null;
        if (retrying == null) {
            for (int i = 0; i < replicas.size() && next == null; i++) {
                BackendNode n = replicas.get(i);
                if (n != tried && n.health().isTrusted()) {
                    next = n;
                }
            }
        }
        long delay = -1;
        if (next != null) {
            retrying = retry.asyncContext();
            delay = retrying.onError(new NodeReadFailure(error));
        } else if (retrying != null) {
            retrying.onError(new NodeReadFailure(error));     // counted as failed after a retry
        }
        if (delay < 0) {
            command.release();
            command = null;
            client.onFailure(error);
            return;
        }
        // a fresh deadline: the first attempt may have used the whole of the last one
        deadlineNanos = System.nanoTime() + pool.settings().commandTimeout().toNanos();
        send(next);
    }

    @Override
    public long deadlineNanos() {
        return deadlineNanos;
    }

    /** A read that a replica failed; only counted by the retry, never thrown. */
    static final class NodeReadFailure extends RuntimeException {
        NodeReadFailure(String message) {
            super(message, null, false, false);
        }
    }
}
