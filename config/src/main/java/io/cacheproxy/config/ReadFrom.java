package io.cacheproxy.config;

import java.util.Locale;

/**
 * {@code replication.read-from}: which replica of a key serves reads.
 */
public enum ReadFrom {
    /** {@code primary}: the key's first live replica (the default; reads see every acknowledged write). */
    PRIMARY,
    /** {@code replica}: another replica when one is up, else the primary. */
    REPLICA,
    /** {@code any}: any live replica, spreading the load. */
    ANY;

    /** The name used in the YAML file: lower case, {@code -} for {@code _}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant whose {@link #configName()} is {@code name} (case-insensitive), or {@code null}. */
    public static ReadFrom fromConfigName(String name) {
        for (ReadFrom v : values()) {
            if (v.configName().equalsIgnoreCase(name)) {
                return v;
            }
        }
        return null;
    }
}
