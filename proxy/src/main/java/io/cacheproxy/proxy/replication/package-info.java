/**
 * Replication for sharded pools with {@code replication.factor} > 1 (shared/DESIGN.md, "Replication
 * and failover"): each keyed write goes to every live replica of its key and each read to a trusted
 * one ({@link io.cacheproxy.proxy.replication.PoolReplication}); a node that comes back after an
 * ejection, or that failed a write, is not read from until {@link io.cacheproxy.proxy.replication.NodeRepair}
 * has copied every key it should hold from a trusted replica, one node at a time, on a thread of
 * {@link io.cacheproxy.proxy.replication.RepairCoordinator}, with
 * {@link io.cacheproxy.proxy.replication.StripedWriteFence} telling it which copies a write overtook.
 */
package io.cacheproxy.proxy.replication;
