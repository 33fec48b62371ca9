package io.cacheproxy.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Redis Cluster of real local processes, for the tests of {@code type: cluster} pools: {@code masters}
 * masters with {@code replicas} replicas each, joined with {@code redis-cli --cluster create} and
 * ready when {@link #start} returns: every node sees {@code cluster_state:ok} and every replica
 * (so that CLUSTER SLOTS lists it), and every replica has synced with its master. Stops every
 * process it started, by PID.
 */
public final class LocalRedisCluster implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private final List<LocalRedisServer> nodes = new ArrayList<>();
    private final int replicaCount;

    private LocalRedisCluster(int replicaCount) {
        this.replicaCount = replicaCount;
    }

    public static LocalRedisCluster start(int masters, int replicas) {
        LocalRedisCluster cluster = new LocalRedisCluster(masters * replicas);
        try {
            for (int i = 0; i < masters * (1 + replicas); i++) {
                LocalRedisServer node = LocalRedisServer.withArgs("--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000");
                cluster.nodes.add(node);
                node.start();
            }
            List<String> command = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            cluster.nodes.forEach(n -> command.add(n.address()));
            command.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
            run(command);
            cluster.awaitReady();
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * Every node, masters first in the order {@code --cluster create} assigned them, then those
     * {@link #addMaster()} added.
     */
    public List<LocalRedisServer> nodes() {
        return List.copyOf(nodes);
    }

    /** The nodes that are masters now (by {@code ROLE}), in {@link #nodes()} order. */
    public List<LocalRedisServer> masters() {
        List<LocalRedisServer> masters = new ArrayList<>();
        for (LocalRedisServer node : nodes) {
            if (node.call("ROLE").startsWith("*3\r\n$6\r\nmaster")) {
                masters.add(node);
            }
        }
        return masters;
    }

    /** The master that serves {@code key}'s slot: the one that answers {@code GET key} itself (the others answer MOVED). */
    public LocalRedisServer masterOf(String key) {
        for (LocalRedisServer master : masters()) {
            if (!master.call("GET", key).startsWith("-MOVED")) {
                return master;
            }
        }
        throw new AssertionError("no master serves " + key);
    }

    /**
     * Starts one more node and joins it as a master without slots ({@code redis-cli --cluster
     * add-node}); returns it once every node knows it. It serves no slot until one is moved to it.
     */
    public LocalRedisServer addMaster() {
        LocalRedisServer node = LocalRedisServer.withArgs("--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000");
        node.start();
        try {
            run(List.of("redis-cli", "--cluster", "add-node", node.address(), nodes.get(0).address()));
        } catch (RuntimeException e) {
            node.stop();
            throw e;
        }
        nodes.add(node);
        awaitReady();
        return node;
    }

    /** Moves {@code slot} and its keys from {@code source} to {@code destination}, as {@code redis-cli --cluster reshard} does. */
    public void moveSlot(int slot, LocalRedisServer source, LocalRedisServer destination) {
        beginSlotMigration(slot, source, destination);
        migrateKeys(slot, source, destination);
        finishSlotMigration(slot, destination);
    }

    /** Marks {@code slot} IMPORTING on {@code destination} and MIGRATING on {@code source}: keys not on the source are ASKed for on the destination. */
    public void beginSlotMigration(int slot, LocalRedisServer source, LocalRedisServer destination) {
        expectOk(destination.call("CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", idOf(source)));
        expectOk(source.call("CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", idOf(destination)));
    }

    /** Moves every key of {@code slot} from {@code source} to {@code destination} (MIGRATE), during a migration. */
    public void migrateKeys(int slot, LocalRedisServer source, LocalRedisServer destination) {
        while (true) {
            String[] lines = source.call("CLUSTER", "GETKEYSINSLOT", Integer.toString(slot), "100").split("\r\n");
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", destination.host(),
                    Integer.toString(destination.port()), "", "0", "5000", "KEYS"));
            for (int i = 2; i < lines.length; i += 2) {
                migrate.add(lines[i]);
            }
            if (migrate.size() == 7) {
                return;
            }
            String reply = source.call(migrate.toArray(new String[0]));
            if (!reply.equals("+OK\r\n") && !reply.equals("+NOKEY\r\n")) {
                throw new IllegalStateException("MIGRATE failed: " + reply);
            }
        }
    }

    /** Ends a migration: {@code slot} belongs to {@code destination}, as every master is told (the destination first). */
    public void finishSlotMigration(int slot, LocalRedisServer destination) {
        String destinationId = idOf(destination);
        expectOk(destination.call("CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", destinationId));
        for (LocalRedisServer master : masters()) {
            if (master != destination) {
                expectOk(master.call("CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", destinationId));
            }
        }
    }

    private static String idOf(LocalRedisServer node) {
        return node.call("CLUSTER", "MYID").split("\r\n")[1];
    }

    private static void expectOk(String reply) {
        if (!reply.equals("+OK\r\n")) {
            throw new IllegalStateException("expected +OK, got " + reply);
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            boolean ready = true;
            for (LocalRedisServer node : nodes) {
                last = node.address() + ": " + node.call("CLUSTER", "INFO");
                if (!last.contains("cluster_state:ok") || !last.contains("cluster_known_nodes:" + nodes.size() + "\r\n")) {
                    ready = false;
                    break;
                }
                try (RawRedisClient client = RawRedisClient.connect(node.host(), node.port())) {
                    String clusterNodes = client.callString("CLUSTER", "NODES");
                    String replication = client.callString("INFO", "replication");
                    last = node.address() + ": " + clusterNodes + replication;
                    long replicasSeen = clusterNodes.lines().filter(l -> l.contains(" slave ") || l.contains(",slave ")).count();
                    boolean synced = replication.contains("role:master") || replication.contains("master_link_status:up");
                    if (replicasSeen != replicaCount || !synced) {
                        ready = false;
                        break;
                    }
                }
            }
            if (ready) {
                return;
            }
            sleep(100);
        }
        throw new IllegalStateException("cluster not ready within " + READY_TIMEOUT + "; last: " + last);
    }

    private static void run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        nodes.forEach(LocalRedisServer::stop);
    }
}
