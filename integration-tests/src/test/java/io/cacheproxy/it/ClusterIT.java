package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cacheproxy.routing.KeySlot;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code type: cluster} pools over a real Redis Cluster (3 masters, 3 replicas): keys go to their
 * slot's master, multi-key commands are split per slot, and a slot migrated under traffic (ASK,
 * then MOVED) gives the client no error.
 */
class ClusterIT {
    private static LocalRedisCluster cluster;
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.start(3, 1);
        proxy = TestProxy.start("server:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\npools:\n  main:\n"
                + "    type: cluster\n    nodes: [" + cluster.nodes().get(0).address() + "]\n"
                + "    timeouts: {connect: 1s, command: 2s}\n");
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String call(RedisFixture node, String... args) {
        try (RawRedisClient client = RawRedisClient.connect(node.host(), node.port())) {
            return client.callString(args);
        }
    }

    private static List<LocalRedisServer> masters() {
        List<LocalRedisServer> masters = new ArrayList<>();
        for (LocalRedisServer node : cluster.nodes()) {
            if (call(node, "ROLE").startsWith("*3\r\n$6\r\nmaster")) {
                masters.add(node);
            }
        }
        return masters;
    }

    /** The master that answers GET {@code key} itself (the others answer MOVED). */
    private static LocalRedisServer ownerOf(String key) {
        for (LocalRedisServer master : masters()) {
            if (!call(master, "GET", key).startsWith("-MOVED")) {
                return master;
            }
        }
        throw new AssertionError("no master owns " + key);
    }

    @Test
    void shouldSendEachKeyToItsSlotsMaster() {
        try (RawRedisClient client = proxy.connect()) {
            for (int i = 0; i < 300; i++) {
                assertThat(client.callString("SET", "k:" + i, "v" + i)).isEqualTo("+OK\r\n");
            }
            for (int i = 0; i < 300; i++) {
                assertThat(client.callString("GET", "k:" + i)).isEqualTo("$" + ("v" + i).length() + "\r\nv" + i + "\r\n");
            }
        }
        for (int i = 0; i < 30; i++) {
            String key = "k:" + i;
            assertThat(call(cluster.nodes().get(0), "CLUSTER", "KEYSLOT", key))
                    .as("the proxy's slot of " + key).isEqualTo(":" + KeySlot.slot(key.getBytes(StandardCharsets.UTF_8)) + "\r\n");
            assertThat(call(ownerOf(key), "GET", key)).isEqualTo("$" + ("v" + i).length() + "\r\nv" + i + "\r\n");
        }
    }

    @Test
    void shouldSplitMultiKeyCommandsPerSlotAndRefuseOthersAcrossSlots() {
        try (RawRedisClient client = proxy.connect()) {
            List<String> mset = new ArrayList<>(List.of("MSET"));
            List<String> mget = new ArrayList<>(List.of("MGET"));
            StringBuilder expected = new StringBuilder("*51\r\n");
            for (int i = 0; i < 50; i++) {
                mset.add("m:" + i);
                mset.add("x" + i);
                mget.add("m:" + i);
                expected.append("$").append(("x" + i).length()).append("\r\nx").append(i).append("\r\n");
            }
            mget.add("m:missing");
            expected.append("$-1\r\n");
            assertThat(client.callString(mset.toArray(new String[0]))).isEqualTo("+OK\r\n");
            assertThat(client.callString(mget.toArray(new String[0]))).isEqualTo(expected.toString());
            assertThat(client.callString("DEL", "m:1", "m:2", "m:3", "m:missing")).isEqualTo(":3\r\n");
            assertThat(client.callString("RENAME", "m:10", "m:11"))
                    .isEqualTo("-CROSSSLOT Keys in request don't hash to the same slot\r\n");
            assertThat(client.callString("SET", "{t}a", "1")).isEqualTo("+OK\r\n");
            assertThat(client.callString("RENAME", "{t}a", "{t}b")).isEqualTo("+OK\r\n");
            assertThat(client.callString("GET", "{t}b")).isEqualTo("$1\r\n1\r\n");
        }
    }

    @Test
    void shouldFollowASlotMigratedUnderTrafficWithoutClientErrors() throws Exception {
        String tag = "{hot}";
        int slot = KeySlot.slot(tag.getBytes(StandardCharsets.UTF_8));
        LocalRedisServer source = ownerOf(tag + ":probe");
        LocalRedisServer destination = masters().stream().filter(m -> m != source).findFirst().orElseThrow();
        String sourceId = call(source, "CLUSTER", "MYID").split("\r\n")[1];
        String destinationId = call(destination, "CLUSTER", "MYID").split("\r\n")[1];

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger acknowledged = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        Thread writer = new Thread(() -> {
            try (RawRedisClient client = proxy.connect().timeout(Duration.ofSeconds(5))) {
                for (int i = 0; !stop.get(); i++) {
                    String key = tag + ":" + (i % 200);
                    String set = client.callString("SET", key, "v" + i);
                    String get = client.callString("GET", key);
                    if (set.equals("+OK\r\n") && get.equals("$" + ("v" + i).length() + "\r\nv" + i + "\r\n")) {
                        acknowledged.incrementAndGet();
                    } else {
                        errors.add(key + ": " + set.trim() + " / " + get.trim());
                    }
                }
            } catch (RuntimeException e) {
                errors.add(e.toString());
            }
        }, "cluster-it-writer");
        writer.start();
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() > 500);
            // what redis-cli --cluster reshard does for one slot
            assertThat(call(destination, "CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", sourceId)).isEqualTo("+OK\r\n");
            assertThat(call(source, "CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", destinationId)).isEqualTo("+OK\r\n");
            int migrated = 0;
            while (true) {
                String keys = call(source, "CLUSTER", "GETKEYSINSLOT", Integer.toString(slot), "10");
                List<String> names = new ArrayList<>();
                String[] lines = keys.split("\r\n");
                for (int i = 2; i < lines.length; i += 2) {
                    names.add(lines[i]);
                }
                if (names.isEmpty()) {
                    break;
                }
                List<String> migrate = new ArrayList<>(List.of("MIGRATE", destination.host(),
                        Integer.toString(destination.port()), "", "0", "5000", "KEYS"));
                migrate.addAll(names);
                assertThat(call(source, migrate.toArray(new String[0]))).isIn("+OK\r\n", "+NOKEY\r\n");
                migrated += names.size();
                Thread.sleep(20);   // let traffic hit the half-migrated slot (ASK)
            }
            for (LocalRedisServer master : masters()) {
                assertThat(call(master, "CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", destinationId))
                        .isEqualTo("+OK\r\n");
            }
            int afterMove = acknowledged.get();
            await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() > afterMove + 500);
            assertThat(migrated).isGreaterThan(0);
        } finally {
            stop.set(true);
            writer.join(10_000);
        }
        assertThat(errors).as("client-visible errors while the slot moved").isEmpty();
        assertThat(call(destination, "GET", tag + ":7")).startsWith("$");
        assertThat(call(source, "GET", tag + ":7")).startsWith("-MOVED " + slot + " ");
    }

    @Test
    void shouldCarryOnWithoutErrorsWhileRedisCliReshardsASlotRange() throws Exception {
        List<LocalRedisServer> masters = masters();
        String fromId = call(masters.get(0), "CLUSTER", "MYID").split("\r\n")[1];
        String toId = call(masters.get(1), "CLUSTER", "MYID").split("\r\n")[1];
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger acknowledged = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        Thread writer = new Thread(() -> {
            try (RawRedisClient client = proxy.connect().timeout(Duration.ofSeconds(5))) {
                for (int i = 0; !stop.get(); i++) {
                    String key = "range:" + (i % 2000);
                    String set = client.callString("SET", key, "v" + i);
                    String get = client.callString("GET", key);
                    if (set.equals("+OK\r\n") && get.equals("$" + ("v" + i).length() + "\r\nv" + i + "\r\n")) {
                        acknowledged.incrementAndGet();
                    } else {
                        errors.add(key + ": " + set.trim() + " / " + get.trim());
                    }
                }
            } catch (RuntimeException e) {
                errors.add(e.toString());
            }
        }, "cluster-it-range-writer");
        writer.start();
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() > 2000);
            Process reshard = new ProcessBuilder("redis-cli", "--cluster", "reshard", masters.get(0).address(),
                    "--cluster-from", fromId, "--cluster-to", toId, "--cluster-slots", "500",
                    "--cluster-yes", "--cluster-pipeline", "10").redirectErrorStream(true).start();
            String output = new String(reshard.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(reshard.waitFor()).as(output).isZero();
            assertThat(output).contains("Moving slot");
            int afterReshard = acknowledged.get();
            await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() > afterReshard + 1000);
        } finally {
            stop.set(true);
            writer.join(10_000);
        }
        assertThat(errors).as("client-visible errors while 500 slots moved").isEmpty();
        assertThat(call(masters.get(1), "CLUSTER", "INFO")).contains("cluster_state:ok");
    }

    @Test
    void shouldDeliverShardChannelMessagesOnEachChannelsMaster() {
        for (int i = 0; i < 6; i++) {
            String channel = "shard:" + i;
            try (RawRedisClient subscriber = proxy.connect(); RawRedisClient publisher = proxy.connect()) {
                assertThat(subscriber.callString("SSUBSCRIBE", channel)).isEqualTo("*3\r\n$10\r\nssubscribe\r\n$"
                        + channel.length() + "\r\n" + channel + "\r\n:1\r\n");
                assertThat(publisher.callString("SPUBLISH", channel, "m" + i)).as(channel).isEqualTo(":1\r\n");
                assertThat(subscriber.readString()).isEqualTo("*3\r\n$8\r\nsmessage\r\n$" + channel.length() + "\r\n"
                        + channel + "\r\n$2\r\nm" + i + "\r\n");
            }
        }
    }

    private static long getCalls(RedisFixture node) {
        for (String line : call(node, "INFO", "commandstats").split("\r\n")) {
            if (line.startsWith("cmdstat_get:calls=")) {
                return Long.parseLong(line.substring("cmdstat_get:calls=".length(), line.indexOf(',')));
            }
        }
        return 0;
    }

    @Test
    void shouldReadFromReplicasWhenThePoolSaysSo() {
        try (TestProxy replicaReads = TestProxy.start("server:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n"
                + "pools:\n  main:\n    type: cluster\n    nodes: [" + cluster.nodes().get(0).address() + "]\n"
                + "    replication: {read-from: replica}\n");
             RawRedisClient client = replicaReads.connect()) {
            for (int i = 0; i < 50; i++) {
                assertThat(client.callString("SET", "r:" + i, "v" + i)).isEqualTo("+OK\r\n");
            }
            for (LocalRedisServer node : cluster.nodes()) {
                call(node, "WAIT", "1", "2000");   // on masters: until the replicas have the writes
            }
            List<LocalRedisServer> masters = masters();
            long mastersBefore = masters.stream().mapToLong(ClusterIT::getCalls).sum();
            long allBefore = cluster.nodes().stream().mapToLong(ClusterIT::getCalls).sum();
            for (int i = 0; i < 50; i++) {
                assertThat(client.callString("GET", "r:" + i)).isEqualTo("$" + ("v" + i).length() + "\r\nv" + i + "\r\n");
            }
            long mastersAfter = masters.stream().mapToLong(ClusterIT::getCalls).sum();
            long allAfter = cluster.nodes().stream().mapToLong(ClusterIT::getCalls).sum();
            assertThat(allAfter - allBefore).as("GETs served").isEqualTo(50);
            assertThat(mastersAfter - mastersBefore).as("GETs served by masters").isZero();
        }
    }
}
