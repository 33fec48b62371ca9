package io.cacheproxy.proxy.upstream;

import io.cacheproxy.routing.KeySlot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which master serves each of the 16384 slots of a Redis Cluster, as last learned (CLUSTER SLOTS,
 * or a MOVED reply for one slot). Immutable: a change makes a new table, swapped in whole.
 */
public final class ClusterSlots {
    private final BackendNode[] bySlot;
    private final List<BackendNode> masters;

    ClusterSlots(BackendNode[] bySlot) {
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

    /** This table with {@code slot} served by {@code node} (a MOVED reply). */
    ClusterSlots with(int slot, BackendNode node) {
        if (bySlot[slot] == node) {
            return this;
        }
        BackendNode[] copy = Arrays.copyOf(bySlot, bySlot.length);
        copy[slot] = node;
        return new ClusterSlots(copy);
    }
}
