package io.cacheproxy.config;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One entry of {@code pools}: a named set of backend nodes and how to use them.
 *
 * @param name          the key under {@code pools}: letters, digits, {@code -} and {@code _}
 * @param type          {@code type}: sharded | cluster | sentinel; default sharded
 * @param nodes         {@code nodes}: required, at least one, no duplicates, ports 1..65535. The
 *                      shards of a sharded pool, the seed nodes of a cluster, the sentinels of a
 *                      sentinel pool
 * @param hashing       {@code hashing}: the ring (sharded pools)
 * @param replication   {@code replication}: copies per key (sharded pools); factor at most the
 *                      number of nodes, and 1 for cluster and sentinel pools
 * @param timeouts      {@code timeouts}: connect and command deadlines
 * @param health        {@code health}: probes and ejection
 * @param blockingConnections {@code blocking-connections}: connections to each node that this proxy
 *                      opens for blocking commands (BLPOP, XREAD BLOCK, WAIT ...), over all its
 *                      event loops, in use or idle; a blocking command beyond them is refused with
 *                      an error; default {@value #DEFAULT_BLOCKING_CONNECTIONS}; >= 1
 * @param password      {@code password}: sent with {@code AUTH} to every node; null (or empty in
 *                      the file) = none
 * @param tls           {@code tls}: connect to the nodes with TLS; default false
 * @param adminCommands {@code admin-commands}: deny | pass; default deny
 * @param masterName    {@code master-name}: the master the sentinels are asked for; required for
 *                      sentinel pools, not allowed for others
 */
public record PoolConfig(String name, PoolType type, List<HostAndPort> nodes, HashingConfig hashing,
                         ReplicationConfig replication, TimeoutsConfig timeouts, HealthConfig health,
                         int blockingConnections, String password, boolean tls, AdminCommands adminCommands,
                         String masterName) {

    /** {@code blocking-connections} when the file leaves it out. */
    public static final int DEFAULT_BLOCKING_CONNECTIONS = 256;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]+");

    public PoolConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        nodes = List.copyOf(Objects.requireNonNull(nodes, "nodes"));
        Objects.requireNonNull(hashing, "hashing");
        Objects.requireNonNull(replication, "replication");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(adminCommands, "adminCommands");
        password = TlsConfig.emptyToNull(password);
        masterName = TlsConfig.emptyToNull(masterName);

        Violations v = new Violations();
        v.require(isValidName(name), "name", name, "letters, digits, - and _");
        v.requirePresent(!nodes.isEmpty(), "nodes", "required: at least one host:port");
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            HostAndPort node = nodes.get(i);
            v.require(node.port() >= 1, "nodes[" + i + "]", node, "a port 1..65535");
            Integer first = seen.putIfAbsent(node.toString().toLowerCase(Locale.ROOT), i);
            v.require(first == null, "nodes[" + i + "]", node, "each node once (nodes[" + first + "] is the same)");
        }
        v.require(blockingConnections >= 1, "blocking-connections", blockingConnections, ">= 1");
        if (type == PoolType.SHARDED) {
            v.require(nodes.isEmpty() || replication.factor() <= nodes.size(), "replication.factor",
                    replication.factor(), "<= " + nodes.size() + ", the number of nodes");
        } else {
            v.require(replication.factor() == 1, "replication.factor", replication.factor(),
                    "1 for a " + type.configName() + " pool, where Redis does the replication");
        }
        if (type == PoolType.SENTINEL) {
            v.requirePresent(masterName != null, "master-name", "required for a sentinel pool");
        } else {
            v.require(masterName == null, "master-name", masterName, "no master-name, it is only for type sentinel");
        }
        v.throwIfAny();
    }

    /** A sharded pool of {@code nodes} with every other key at its default. */
    public static PoolConfig of(String name, List<HostAndPort> nodes) {
        return new PoolConfig(name, PoolType.SHARDED, nodes, HashingConfig.defaults(), ReplicationConfig.defaults(),
                TimeoutsConfig.defaults(), HealthConfig.defaults(), DEFAULT_BLOCKING_CONNECTIONS, null, false,
                AdminCommands.DENY, null);
    }

    /** Whether {@code name} may name a pool: letters, digits, {@code -} and {@code _}. */
    public static boolean isValidName(String name) {
        return NAME.matcher(name).matches();
    }

    public PoolConfig withReplication(ReplicationConfig newReplication) {
        return new PoolConfig(name, type, nodes, hashing, newReplication, timeouts, health, blockingConnections,
                password, tls, adminCommands, masterName);
    }

    public PoolConfig withNodes(List<HostAndPort> newNodes) {
        return new PoolConfig(name, type, newNodes, hashing, replication, timeouts, health, blockingConnections,
                password, tls, adminCommands, masterName);
    }

    /** Keeps the password out of logs. */
    @Override
    public String toString() {
        return "PoolConfig[name=" + name + ", type=" + type + ", nodes=" + nodes + ", hashing=" + hashing
                + ", replication=" + replication + ", timeouts=" + timeouts + ", health=" + health
                + ", blockingConnections=" + blockingConnections
                + ", password=" + (password == null ? "null" : "****") + ", tls=" + tls
                + ", adminCommands=" + adminCommands + ", masterName=" + masterName + "]";
    }
}
