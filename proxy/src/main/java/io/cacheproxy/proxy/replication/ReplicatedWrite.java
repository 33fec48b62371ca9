package io.cacheproxy.proxy.replication;

import io.cacheproxy.config.WriteAck;
import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ReplicaSet;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespVersion;
import io.netty.buffer.ByteBuf;

/**
 * One write sent to every live replica of its keys at once, each on its event loop's shared
 * connection to that node, and answered by {@code replication.write-ack}:
 * <ul>
 *   <li>{@code one}: once the first-ranked replica that has not failed has answered;
 *   <li>{@code majority}: that, and more than half of the pool's factor have answered;
 *   <li>{@code all-available}: once every live replica has answered or failed;
 *   <li>{@code all}: as all-available, but refused at once while a replica is not live.
 * </ul>
 * The client gets the reply of the first-ranked replica that was trusted when the write was sent
 * and answered (an error reply such as WRONGTYPE is an answer): a replica under repair counts
 * towards the acknowledgement, but its reply to INCR or LPUSH may count from an empty value. With
 * no trusted replica, the write is refused and sent nowhere. A replica that fails the write (connection lost, no reply in time) may
 * or may not have applied it: it loses trust before the client is answered, so no read goes to it
 * until it has been repaired. A write is never retried.
 *
 * <p>Confined to the client's event loop, as the connections are.
 */
final class ReplicatedWrite {
    private final ReplySink client;
    private final BackendPool pool;
    private final BackendNode[] targets;
    private final ByteBuf[] replies;
    private final boolean[] failed;
    /**
     * Per target: trusted when the write was sent (and one of the key's current replicas, not one
     * it is moving to), so its reply may be the client's.
     */
    private final boolean[] trusted;
    private final int needed;
    private final WriteAck ack;
    private final StripedWriteFence fence;
    /** The ring hashes of the keys, which {@link StripedWriteFence#begin} counted. */
    private final int[] fenced;
    private int outstanding;
    private int answers;
    private boolean answered;
    private String firstError;

    private ReplicatedWrite(ReplySink client, BackendPool pool, BackendNode[] targets, boolean[] answering,
                            StripedWriteFence fence, int[] fenced) {
        this.client = client;
        this.pool = pool;
        this.targets = targets;
        this.replies = new ByteBuf[targets.length];
        this.failed = new boolean[targets.length];
        this.trusted = answering;
        this.ack = pool.writeAck();
        this.needed = ack == WriteAck.MAJORITY ? pool.factor() / 2 + 1 : 1;
        this.fence = fence;
        this.fenced = fenced;
        this.outstanding = targets.length;
    }

    /**
     * Sends {@code command} (owned) to the live nodes of {@code replicas}; {@code keyHashes} are the
     * ring hashes of the keys it writes, for the repair fence.
     */
    static void start(LoopContext loop, BackendPool pool, ReplicaSet replicas, RespVersion protocol, ByteBuf command,
                      int[] keyHashes, StripedWriteFence fence, ReplySink client) {
        int live = 0;
        for (int i = 0; i < replicas.size(); i++) {
            live += replicas.get(i).health().isLive() ? 1 : 0;
        }
        String refusal = null;
        if (replicas.firstTrusted() == null) {
            // an untrusted node's reply to INCR or LPUSH may count from a stale or empty value
            refusal = ReplicatedRead.noTrustedReplica(pool, replicas);
        } else if (pool.writeAck() == WriteAck.ALL && live < replicas.size()) {
            refusal = "write not accepted: pool " + pool.name() + ", write-ack all and only " + live + " of "
                    + replicas.size() + " replicas are live (" + replicas.names() + ")";
        } else if (pool.writeAck() == WriteAck.MAJORITY && live < pool.factor() / 2 + 1) {
            refusal = "write not accepted: pool " + pool.name() + ", write-ack majority needs " + (pool.factor() / 2 + 1)
                    + " replicas and only " + live + " are live (" + replicas.names() + ")";
        }
        if (refusal != null) {
            command.release();
            client.onFailure(refusal);
            return;
        }
        BackendNode[] targets = new BackendNode[live];
        boolean[] answering = new boolean[live];
        for (int i = 0, t = 0; i < replicas.size(); i++) {
            if (replicas.get(i).health().isLive()) {
                answering[t] = i < replicas.readable() && replicas.get(i).health().isTrusted();
                targets[t++] = replicas.get(i);
            }
        }
        for (int hash : keyHashes) {
            fence.begin(hash);
        }
        ReplicatedWrite write = new ReplicatedWrite(client, pool, targets, answering, fence, keyHashes);
        for (int t = 0; t < targets.length; t++) {
            ByteBuf bytes = t == targets.length - 1 ? command : command.retainedDuplicate();
            loop.shared(pool, targets[t], protocol).send(bytes, write.new Part(t));
        }
    }

    /** The answer of one replica. */
    private final class Part implements ReplySink {
        private final int rank;

        Part(int rank) {
            this.rank = rank;
        }

        @Override
        public void onReply(ByteBuf reply) {
            answers++;
            outstanding--;
            if (answered) {
                reply.release();
            } else {
                replies[rank] = reply;
            }
            progress();
        }

        @Override
        public void onFailure(String error) {
            failed[rank] = true;
            outstanding--;
            if (firstError == null) {
                firstError = error;
            }
            // it may or may not have applied the write: no reads from it until repaired; and a
            // failure of real traffic, for its circuit breaker
            targets[rank].health().distrust("a write failed: " + error);
            targets[rank].health().failed(error);
            progress();
        }

        @Override
        public long deadlineNanos() {
            return client.deadlineNanos();
        }
    }

    private void progress() {
        if (outstanding == 0) {
            for (int hash : fenced) {
                fence.end(hash);
            }
        }
        if (answered) {
            return;
        }
        int best = -1;
        for (int t = 0; t < targets.length; t++) {
            if (!trusted[t]) {
                continue;   // acknowledges, but does not answer: it may not hold the value yet
            }
            if (replies[t] != null) {
                best = t;
                break;
            }
            if (!failed[t]) {
                break;      // the best-ranked trusted replica has not answered yet
            }
        }
        boolean decide = switch (ack) {
            case ONE -> best >= 0;
            case MAJORITY -> best >= 0 && answers >= needed || outstanding == 0;
            case ALL, ALL_AVAILABLE -> outstanding == 0;
        };
        if (!decide) {
            return;
        }
        answered = true;
        if (best < 0 || answers < needed) {
            releaseReplies();
            client.onFailure(best < 0 ? firstError
                    : "write not acknowledged: pool " + pool.name() + ", " + answers + " of the " + needed
                    + " replicas write-ack majority needs answered");
            return;
        }
        ByteBuf reply = replies[best];
        replies[best] = null;
        releaseReplies();
        client.onReply(reply);
    }

    private void releaseReplies() {
        for (int t = 0; t < replies.length; t++) {
            if (replies[t] != null) {
                replies[t].release();
                replies[t] = null;
            }
        }
    }
}
