package io.cacheproxy.config;

import java.util.Locale;

/**
 * {@code replication.write-ack}: when a write to a key's replicas is answered (sharded pools).
 */
public enum WriteAck {
    /** {@code all-available}: once every replica that is up has acknowledged (the default). */
    ALL_AVAILABLE,
    /** {@code all}: once every replica has acknowledged; fails while one is down. */
    ALL,
    /** {@code one}: once the first replica has acknowledged. */
    ONE,
    /** {@code majority} (or {@code quorum}): once more than half of the replicas have acknowledged. */
    MAJORITY;

    /** The name used in the YAML file: lower case, {@code -} for {@code _}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant whose {@link #configName()} is {@code name} (case-insensitive), or {@code null}. */
    public static WriteAck fromConfigName(String name) {
        if ("quorum".equalsIgnoreCase(name)) {
            return MAJORITY;        // the word Dynamo-style stores use for the same rule
        }
        for (WriteAck v : values()) {
            if (v.configName().equalsIgnoreCase(name)) {
                return v;
            }
        }
        return null;
    }
}
