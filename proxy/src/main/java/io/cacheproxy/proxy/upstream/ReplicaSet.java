package io.cacheproxy.proxy.upstream;

import java.util.Arrays;
import java.util.List;

/**
 * The nodes of a sharded pool that hold a key, ranked: the first {@code replication.factor}
 * distinct nodes from the key's ring position, the owner first. A pool makes one instance per
 * distinct ranking ({@link BackendPool#replicasFor}), so keys share a replica set exactly when
 * they share the instance: compare with {@code ==}. Immutable; the nodes' health is read live.
 *
 * <p>During a topology change a key that moves has a transitional set: its old replicas, which
 * alone are {@link #readable} (they serve its reads and answer its writes), then its new ones,
 * which only receive its writes until the key has been copied to them.
 */
public final class ReplicaSet {
    private final BackendNode[] ranked;
    private final int readable;

    ReplicaSet(BackendNode[] ranked, int readable) {
        this.ranked = ranked.clone();
        this.readable = readable;
    }

    /** How many of the nodes, from the first, may serve reads and answer writes. */
    public int readable() {
        return readable;
    }

    public int size() {
        return ranked.length;
    }

    /** The node of rank {@code i}; 0 is the key's owner. */
    public BackendNode get(int i) {
        return ranked[i];
    }

    public List<BackendNode> nodes() {
        return List.of(ranked);
    }

    /** Whether {@code node} is one of them. */
    public boolean contains(BackendNode node) {
        for (BackendNode n : ranked) {
            if (n == node) {
                return true;
            }
        }
        return false;
    }

    /** The first node that is trusted for reads, in rank order; null when none is. */
    public BackendNode firstTrusted() {
        for (int i = 0; i < readable; i++) {
            if (ranked[i].health().isTrusted()) {
                return ranked[i];
            }
        }
        return null;
    }

    /**
     * The {@code turn}-th trusted node, counting round the trusted ones in rank order: spreads reads
     * over them ({@code read-from: any}); with {@code skipOwner}, the owner is taken only when no
     * other node is trusted ({@code read-from: replica}). Null when none is trusted.
     */
    public BackendNode trustedInTurn(int turn, boolean skipOwner) {
        int trusted = 0;
        for (int i = skipOwner ? 1 : 0; i < readable; i++) {
            if (ranked[i].health().isTrusted()) {
                trusted++;
            }
        }
        if (trusted == 0) {
            return skipOwner ? firstTrusted() : null;
        }
        int pick = Math.floorMod(turn, trusted);
        for (int i = skipOwner ? 1 : 0; i < readable; i++) {
            if (ranked[i].health().isTrusted() && pick-- == 0) {
                return ranked[i];
            }
        }
        throw new AssertionError("counted " + trusted + " trusted nodes");
    }

    /** Whether a node of the set is live but waiting for its repair. */
    public boolean anyNeedsRepair() {
        for (BackendNode n : ranked) {
            if (n.health().needsRepair()) {
                return true;
            }
        }
        return false;
    }

    /** {@code a:1, b:2}: the nodes by name, for error replies and logs. */
    public String names() {
        StringBuilder sb = new StringBuilder();
        for (BackendNode n : ranked) {
            sb.append(sb.isEmpty() ? "" : ", ").append(n.name());
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return Arrays.toString(ranked);
    }
}
