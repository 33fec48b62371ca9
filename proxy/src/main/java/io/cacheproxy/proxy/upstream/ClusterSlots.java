package io.cacheproxy.proxy.upstream;

import io.cacheproxy.routing.KeySlot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Which master serves each of the 16384 slots of a Redis Cluster, as last learned (CLUSTER SLOTS,
 * or a MOVED reply for one slot). Immutable: a change makes a new table, swapped in whole.
 */
public final class ClusterSlots {
    private final BackendNode[] bySlot;
    private final List<BackendNode> masters;
    /** Per master, its replicas as CLUSTER SLOTS listed them. */
    private final Map<BackendNode, List<BackendNode>> replicas;

    ClusterSlots(BackendNode[] bySlot) {
        this(bySlot, Map.of());
    }

    ClusterSlots(BackendNode[] bySlot, Map<BackendNode, List<BackendNode>> replicas) {
        this.replicas = Map.copyOf(replicas);
        if (bySlot.length != KeySlot.SLOTS) {
            throw new IllegalArgumentException("slots: " + bySlot.length + " (expected: " + KeySlot.SLOTS + ")");
        }
        this.bySlot = bySlot;
        List<BackendNode> distinct = new ArrayList<>();
        for (BackendNode node : bySlot) {
            if (node != null && !distinct.contains(node)) {
                distinct.add(node);
            }
        }
        this.masters = List.copyOf(distinct);
    }

    /** The master of {@code slot}, or null while no node serves it. */
    public BackendNode nodeOf(int slot) {
        return bySlot[slot];
    }

    /** Every master that serves at least one slot, in slot order of their first slot. */
    public List<BackendNode> masters() {
        return masters;
    }

    /** The replicas of {@code master}; empty when it has none or is unknown. */
    public List<BackendNode> replicasOf(BackendNode master) {
        return replicas.getOrDefault(master, List.of());
    }

    /** This table with {@code slot} served by {@code node} (a MOVED reply). */
    ClusterSlots with(int slot, BackendNode node) {
        if (bySlot[slot] == node) {
            return this;
        }
        BackendNode[] copy = Arrays.copyOf(bySlot, bySlot.length);
        copy[slot] = node;
        return new ClusterSlots(copy, replicas);
    }
}
