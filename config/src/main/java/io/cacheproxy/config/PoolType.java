package io.cacheproxy.config;

import java.util.Locale;

/**
 * {@code pools.NAME.type}: how a pool spreads keys over its nodes.
 */
public enum PoolType {
    /** {@code sharded}: the proxy shards over the nodes with a consistent-hash ring and replicates by {@code replication.factor}. */
    SHARDED,
    /** {@code cluster}: the nodes are seeds of a Redis Cluster; the cluster owns slots, replication and failover. */
    CLUSTER,
    /** {@code sentinel}: the nodes are Redis Sentinels; they name the master of {@code master-name}. */
    SENTINEL;

    /** The name used in the YAML file: lower case, {@code -} for {@code _}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant whose {@link #configName()} is {@code name} (case-insensitive), or {@code null}. */
    public static PoolType fromConfigName(String name) {
        for (PoolType v : values()) {
            if (v.configName().equalsIgnoreCase(name)) {
                return v;
            }
        }
        return null;
    }
}
