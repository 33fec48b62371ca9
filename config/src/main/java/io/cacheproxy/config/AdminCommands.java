package io.cacheproxy.config;

import java.util.Locale;

/**
 * {@code pools.NAME.admin-commands}: what happens to server administration commands (CONFIG, DEBUG, OBJECT, MEMORY, CLIENT KILL ...).
 */
public enum AdminCommands {
    /** {@code deny}: refused with an error (the default). */
    DENY,
    /** {@code pass}: sent to the node of a one-node pool, or to every node; SHUTDOWN, REPLICAOF, SYNC, PSYNC and MONITOR stay refused. */
    PASS;

    /** The name used in the YAML file: lower case, {@code -} for {@code _}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant whose {@link #configName()} is {@code name} (case-insensitive), or {@code null}. */
    public static AdminCommands fromConfigName(String name) {
        for (AdminCommands v : values()) {
            if (v.configName().equalsIgnoreCase(name)) {
                return v;
            }
        }
        return null;
    }
}
