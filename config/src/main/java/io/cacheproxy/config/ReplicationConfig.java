package io.cacheproxy.config;

import java.util.Objects;

/**
 * {@code pools.NAME.replication}: how many nodes of a sharded pool hold each key, and how writes
 * and reads use them. A key's replicas are the first {@code factor} distinct nodes from its ring
 * position. {@link PoolConfig} checks that the factor is at most the number of nodes, and that
 * cluster and sentinel pools (which Redis replicates) keep factor 1.
 *
 * @param factor    {@code factor}: copies of each key; default 1
 * @param writeAck  {@code write-ack}: when a write is answered; default all-available
 * @param readFrom  {@code read-from}: which replica serves reads; default primary
 */
public record ReplicationConfig(int factor, WriteAck writeAck, ReadFrom readFrom) {

    private static final ReplicationConfig DEFAULTS = new ReplicationConfig(1, WriteAck.ALL_AVAILABLE, ReadFrom.PRIMARY);

    public ReplicationConfig {
        Objects.requireNonNull(writeAck, "writeAck");
        Objects.requireNonNull(readFrom, "readFrom");
        new Violations().require(factor >= 1, "factor", factor, ">= 1").throwIfAny();
    }

    /** Factor 1, all-available, primary. */
    public static ReplicationConfig defaults() {
        return DEFAULTS;
    }

    /** The defaults with another factor. */
    public static ReplicationConfig ofFactor(int factor) {
        return new ReplicationConfig(factor, WriteAck.ALL_AVAILABLE, ReadFrom.PRIMARY);
    }
}
