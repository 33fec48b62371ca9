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

    /** Every node, masters first in the order {@code --cluster create} assigned them. */
    public List<LocalRedisServer> nodes() {
        return List.copyOf(nodes);
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
