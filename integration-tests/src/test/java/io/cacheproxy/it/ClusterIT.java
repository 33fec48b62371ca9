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
import java.util.function.IntFunction;
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

    private static List<LocalRedisServer> masters() {
        List<LocalRedisServer> masters = new ArrayList<>();
        for (LocalRedisServer node : cluster.nodes()) {
            if (node.call("ROLE").startsWith("*3\r\n$6\r\nmaster")) {
                masters.add(node);
            }
        }
        return masters;
    }

    /** The master that answers GET {@code key} itself (the others answer MOVED). */
    private static LocalRedisServer ownerOf(String key) {
        for (LocalRedisServer master : masters()) {
            if (!master.call("GET", key).startsWith("-MOVED")) {
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
            assertThat(cluster.nodes().get(0).call("CLUSTER", "KEYSLOT", key))
                    .as("the proxy's slot of " + key).isEqualTo(":" + KeySlot.slot(key.getBytes(StandardCharsets.UTF_8)) + "\r\n");
            assertThat(ownerOf(key).call("GET", key)).isEqualTo("$" + ("v" + i).length() + "\r\nv" + i + "\r\n");
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
        String sourceId = source.call("CLUSTER", "MYID").split("\r\n")[1];
        String destinationId = destination.call("CLUSTER", "MYID").split("\r\n")[1];

        Traffic traffic = Traffic.start(i -> tag + ":" + (i % 200));
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> traffic.acknowledged.get() > 500);
            // what redis-cli --cluster reshard does for one slot
            assertThat(destination.call("CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", sourceId)).isEqualTo("+OK\r\n");
            assertThat(source.call("CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", destinationId)).isEqualTo("+OK\r\n");
            int migrated = 0;
            while (true) {
                String keys = source.call("CLUSTER", "GETKEYSINSLOT", Integer.toString(slot), "10");
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
                assertThat(source.call(migrate.toArray(new String[0]))).isIn("+OK\r\n", "+NOKEY\r\n");
                migrated += names.size();
                Thread.sleep(20);   // let traffic hit the half-migrated slot (ASK)
            }
            for (LocalRedisServer master : masters()) {
                assertThat(master.call("CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", destinationId))
                        .isEqualTo("+OK\r\n");
            }
            int afterMove = traffic.acknowledged.get();
            await().atMost(Duration.ofSeconds(5)).until(() -> traffic.acknowledged.get() > afterMove + 500);
            assertThat(migrated).isGreaterThan(0);
        } finally {
            traffic.stop();
        }
        assertThat(traffic.errors).as("client-visible errors while the slot moved").isEmpty();
        assertThat(destination.call("GET", tag + ":7")).startsWith("$");
        assertThat(source.call("GET", tag + ":7")).startsWith("-MOVED " + slot + " ");
    }

    @Test
    void shouldCarryOnWithoutErrorsWhileRedisCliReshardsASlotRange() throws Exception {
        List<LocalRedisServer> masters = masters();
        String fromId = masters.get(0).call("CLUSTER", "MYID").split("\r\n")[1];
        String toId = masters.get(1).call("CLUSTER", "MYID").split("\r\n")[1];
        Traffic traffic = Traffic.start(i -> "range:" + (i % 2000));
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> traffic.acknowledged.get() > 2000);
            Process reshard = new ProcessBuilder("redis-cli", "--cluster", "reshard", masters.get(0).address(),
                    "--cluster-from", fromId, "--cluster-to", toId, "--cluster-slots", "500",
                    "--cluster-yes", "--cluster-pipeline", "10").redirectErrorStream(true).start();
            String output = new String(reshard.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(reshard.waitFor()).as(output).isZero();
            assertThat(output).contains("Moving slot");
            int afterReshard = traffic.acknowledged.get();
            await().atMost(Duration.ofSeconds(5)).until(() -> traffic.acknowledged.get() > afterReshard + 1000);
        } finally {
            traffic.stop();
        }
        assertThat(traffic.errors).as("client-visible errors while 500 slots moved").isEmpty();
        assertThat(masters.get(1).call("CLUSTER", "INFO")).contains("cluster_state:ok");
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
                node.call("WAIT", "1", "2000");   // on masters: until the replicas have the writes
            }
            List<LocalRedisServer> masters = masters();
            long mastersBefore = masters.stream().mapToLong(n -> n.commandCalls("get")).sum();
            long allBefore = cluster.nodes().stream().mapToLong(n -> n.commandCalls("get")).sum();
            for (int i = 0; i < 50; i++) {
                assertThat(client.callString("GET", "r:" + i)).isEqualTo("$" + ("v" + i).length() + "\r\nv" + i + "\r\n");
            }
            long mastersAfter = masters.stream().mapToLong(n -> n.commandCalls("get")).sum();
            long allAfter = cluster.nodes().stream().mapToLong(n -> n.commandCalls("get")).sum();
            assertThat(allAfter - allBefore).as("GETs served").isEqualTo(50);
            assertThat(mastersAfter - mastersBefore).as("GETs served by masters").isZero();
        }
    }

    /**
     * A client writing and reading back keys through the proxy until stopped, counting the round
     * trips that came back right and keeping every other reply (or exception) as an error.
     */
    private static final class Traffic {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger acknowledged = new AtomicInteger();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        private Thread writer;

        /** Round trip {@code i} uses the key {@code keyOf.apply(i)}. */
        static Traffic start(IntFunction<String> keyOf) {
            Traffic traffic = new Traffic();
            traffic.writer = new Thread(() -> traffic.run(keyOf), "cluster-it-traffic");
            traffic.writer.start();
            return traffic;
        }

        private void run(IntFunction<String> keyOf) {
            try (RawRedisClient client = proxy.connect().timeout(Duration.ofSeconds(5))) {
                for (int i = 0; !stop.get(); i++) {
                    String key = keyOf.apply(i);
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
        }

        void stop() throws InterruptedException {
            stop.set(true);
            writer.join(10_000);
        }
    }
}
