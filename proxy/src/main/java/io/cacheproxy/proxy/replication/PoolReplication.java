package io.cacheproxy.proxy.replication;

import io.cacheproxy.config.ReadFrom;
import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ReplicaSet;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.routing.KeyHash;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The replication of one sharded pool with {@code replication.factor} > 1: where its keyed
 * commands go ({@link #send}: writes to every live replica, reads to a trusted one with one retry),
 * and the repair of nodes that come back ({@link RepairCoordinator}). Shared by every event loop.
 */
public final class PoolReplication implements AutoCloseable {
    private final BackendPool pool;
    private final StripedWriteFence fence = new StripedWriteFence();
    private final Retry retry;
    private final RepairCoordinator repairs;
    private final AtomicInteger turn = new AtomicInteger();

    public PoolReplication(BackendPool pool, RetryRegistry retries) {
        this.pool = pool;
        this.retry = retries.retry(pool.name(), RetryConfig.custom()
                .maxAttempts(2)
                .intervalFunction(attempt -> 0L)
                .build());
        this.repairs = new RepairCoordinator(pool, fence);
    }

    public BackendPool pool() {
        return pool;
    }

    public RepairCoordinator repairs() {
        return repairs;
    }

    /** Starts watching the nodes' health and repairing the ones that need it. */
    public void start() {
        repairs.start();
    }

    /**
     * Sends a keyed command (owned) to the replicas of its keys: the keys are {@code request}'s
     * arguments {@code keyArgs}, or the single argument {@code keyArg} when {@code keyArgs} is null;
     * all of them share {@code replicas}. Read-only commands ({@code write == false}) go to one
     * trusted replica, the others to every live one.
     */
    public void send(LoopContext loop, ReplicaSet replicas, RespVersion protocol, io.netty.buffer.ByteBuf command,
                     boolean write, RespRequest request, int keyArg, int[] keyArgs, ReplySink sink) {
        if (replicas.anyNeedsRepair()) {
            repairSoon(replicas, request, keyArg, keyArgs);
        }
        if (write) {
            int n = keyArgs == null ? 1 : keyArgs.length;
            int[] hashes = new int[n];
            for (int i = 0; i < n; i++) {
                int arg = keyArgs == null ? keyArg : keyArgs[i];
                hashes[i] = KeyHash.hash(request.content(), request.argOffset(arg), request.argLength(arg));
            }
            ReplicatedWrite.start(loop, pool, replicas, protocol, command, hashes, fence, sink);
        } else {
            ReplicatedRead.start(loop, pool, replicas, readNode(replicas), protocol, command, retry, sink);
        }
    }

    /** The trusted replica {@code read-from} picks; null when none is trusted. */
    public BackendNode readNode(ReplicaSet replicas) {
        if (pool.readFrom() == ReadFrom.PRIMARY) {
            return replicas.firstTrusted();
        }
        return replicas.trustedInTurn(turn.getAndIncrement(), pool.readFrom() == ReadFrom.REPLICA);
    }

    /**
     * {@code keys} were written on {@code source} alone (a transaction or a blocking pop, which run
     * on one node's connection): copies them to their other replicas soon, in the background.
     */
    public void copyAfter(BackendNode source, java.util.List<byte[]> keys) {
        repairs.copyAfter(source, keys);
    }

    private void repairSoon(ReplicaSet replicas, RespRequest request, int keyArg, int[] keyArgs) {
        int n = keyArgs == null ? 1 : keyArgs.length;
        for (int i = 0; i < n; i++) {
            repairs.repairSoon(replicas, request.argBytes(keyArgs == null ? keyArg : keyArgs[i]));
        }
    }

    @Override
    public void close() {
        repairs.close();
    }
}
