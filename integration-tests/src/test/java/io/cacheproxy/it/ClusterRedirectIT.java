package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cacheproxy.routing.KeySlot;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code type: cluster} pools when a slot moves behind the proxy's back (the moves here go to the
 * nodes directly, so the proxy's slot map is stale until a redirection tells it): blocking commands
 * follow MOVED and ASK; a transaction on a moved slot is aborted with a clear error and its retry
 * runs on the new owner; a master that joins later gets its meters and health probes.
 */
class ClusterRedirectIT {
    private static LocalRedisCluster cluster;
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.start(3, 0);
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

    private static int slotOf(String key) {
        return KeySlot.slot(key.getBytes(StandardCharsets.UTF_8));
    }

    /** One of the cluster's first three masters other than {@code node}. */
    private static LocalRedisServer anotherMaster(LocalRedisServer node) {
        return cluster.nodes().subList(0, 3).stream().filter(m -> m != node).findFirst().orElseThrow();
    }

    /** The {@code rejected_calls} of {@code command} on {@code node}: the times it answered a redirection (or another refusal). */
    private static long rejectedCalls(LocalRedisServer node, String command) {
        Matcher m = Pattern.compile("cmdstat_" + command + ":.*rejected_calls=(\\d+)").matcher(node.call("INFO", "commandstats"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    @Test
    void shouldFollowMovedForABlockingPopAndBlockOnTheNewOwner() {
        String key = "{bmoved}:list";
        LocalRedisServer source = cluster.masterOf(key);
        LocalRedisServer destination = anotherMaster(source);
        try (RawRedisClient blocked = proxy.connect().timeout(Duration.ofSeconds(10));
             RawRedisClient pusher = proxy.connect()) {
            assertThat(blocked.callString("DEL", key)).isEqualTo(":0\r\n");     // the proxy knows the slot's node
            cluster.moveSlot(slotOf(key), source, destination);
            long rejectedBefore = rejectedCalls(source, "blpop");

            blocked.send(RawRedisClient.encode("BLPOP", key, "5"));
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> destination.call("INFO", "clients").contains("blocked_clients:1\r\n"));
            assertThat(pusher.callString("LPUSH", key, "v")).isEqualTo(":1\r\n");

            assertThat(blocked.readString()).isEqualTo("*2\r\n$" + key.length() + "\r\n" + key + "\r\n$1\r\nv\r\n");
            assertThat(rejectedCalls(source, "blpop")).as("BLPOPs the old owner answered MOVED")
                    .isEqualTo(rejectedBefore + 1);
        }
    }

    @Test
    void shouldFollowAskForABlockingPopOfAKeyAlreadyMigrated() {
        String key = "{bask}:list";
        int slot = slotOf(key);
        LocalRedisServer source = cluster.masterOf(key);
        LocalRedisServer destination = anotherMaster(source);
        try (RawRedisClient client = proxy.connect().timeout(Duration.ofSeconds(10))) {
            assertThat(client.callString("RPUSH", key, "a", "b")).isEqualTo(":2\r\n");
            cluster.beginSlotMigration(slot, source, destination);
            try {
                cluster.migrateKeys(slot, source, destination);
                long rejectedBefore = rejectedCalls(source, "blpop");

                assertThat(client.callString("BLPOP", key, "1"))
                        .isEqualTo("*2\r\n$" + key.length() + "\r\n" + key + "\r\n$1\r\na\r\n");
                assertThat(rejectedCalls(source, "blpop")).as("BLPOPs the migrating node answered ASK")
                        .isEqualTo(rejectedBefore + 1);
            } finally {
                cluster.finishSlotMigration(slot, destination);
            }
            assertThat(destination.call("LRANGE", key, "0", "-1")).as("the importing node popped")
                    .isEqualTo("*1\r\n$1\r\nb\r\n");
            assertThat(client.callString("BLPOP", key, "1"))
                    .isEqualTo("*2\r\n$" + key.length() + "\r\n" + key + "\r\n$1\r\nb\r\n");
        }
    }

    @Test
    void shouldAbortATransactionWhoseSlotMovedAndRunTheRetryOnTheNewOwner() {
        String key = "{txmoved}:k";
        int slot = slotOf(key);
        LocalRedisServer source = cluster.masterOf(key);
        LocalRedisServer destination = anotherMaster(source);
        try (RawRedisClient client = proxy.connect()) {
            assertThat(client.callString("SET", key, "v0")).isEqualTo("+OK\r\n");
            cluster.moveSlot(slot, source, destination);

            assertThat(client.callString("MULTI")).isEqualTo("+OK\r\n");
            assertThat(client.callString("SET", key, "v1"))
                    .isEqualTo("-TRYAGAIN slot " + slot + " has moved to " + destination.address()
                            + "; the transaction will be aborted (EXECABORT): retry it\r\n");
            assertThat(client.callString("EXEC")).startsWith("-EXECABORT ");
            assertThat(destination.call("GET", key)).isEqualTo("$2\r\nv0\r\n");

            // the retry, at once: the proxy has learned the slot's new owner from the MOVED
            assertThat(client.callString("MULTI")).isEqualTo("+OK\r\n");
            assertThat(client.callString("SET", key, "v1")).isEqualTo("+QUEUED\r\n");
            assertThat(client.callString("INCR", "{txmoved}:n")).isEqualTo("+QUEUED\r\n");
            assertThat(client.callString("EXEC")).isEqualTo("*2\r\n+OK\r\n:1\r\n");
            assertThat(destination.call("GET", key)).isEqualTo("$2\r\nv1\r\n");
        }
    }

    @Test
    void shouldAnswerExecAbortWhenTheSlotMovesBetweenQueueingAndExec() {
        String key = "{txexec}:k";
        int slot = slotOf(key);
        LocalRedisServer source = cluster.masterOf(key);
        LocalRedisServer destination = anotherMaster(source);
        try (RawRedisClient client = proxy.connect()) {
            assertThat(client.callString("SET", key, "v0")).isEqualTo("+OK\r\n");
            assertThat(client.callString("MULTI")).isEqualTo("+OK\r\n");
            assertThat(client.callString("SET", key, "v1")).isEqualTo("+QUEUED\r\n");
            cluster.moveSlot(slot, source, destination);

            assertThat(client.callString("EXEC")).isEqualTo("-EXECABORT Transaction discarded because slot " + slot
                    + " has moved to " + destination.address() + ": retry it\r\n");
            assertThat(destination.call("GET", key)).isEqualTo("$2\r\nv0\r\n");

            assertThat(client.callString("MULTI")).isEqualTo("+OK\r\n");
            assertThat(client.callString("SET", key, "v1")).isEqualTo("+QUEUED\r\n");
            assertThat(client.callString("EXEC")).isEqualTo("*1\r\n+OK\r\n");
            assertThat(destination.call("GET", key)).isEqualTo("$2\r\nv1\r\n");
        }
    }

    @Test
    void shouldRefuseAWatchOfAMovedSlotAndWatchOnTheNewOwnerOnRetry() {
        String key = "{watchmoved}:k";
        int slot = slotOf(key);
        LocalRedisServer source = cluster.masterOf(key);
        LocalRedisServer destination = anotherMaster(source);
        try (RawRedisClient client = proxy.connect(); RawRedisClient other = proxy.connect()) {
            assertThat(client.callString("SET", key, "v0")).isEqualTo("+OK\r\n");
            cluster.moveSlot(slot, source, destination);

            assertThat(client.callString("WATCH", key)).isEqualTo("-TRYAGAIN slot " + slot + " has moved to "
                    + destination.address() + "; the key is not watched: retry\r\n");

            assertThat(client.callString("WATCH", key)).isEqualTo("+OK\r\n");
            assertThat(other.callString("SET", key, "changed")).isEqualTo("+OK\r\n");
            assertThat(client.callString("MULTI")).isEqualTo("+OK\r\n");
            assertThat(client.callString("SET", key, "v1")).isEqualTo("+QUEUED\r\n");
            assertThat(client.callString("EXEC")).as("the watch holds on the new owner").isEqualTo("*-1\r\n");

            assertThat(client.callString("WATCH", key)).isEqualTo("+OK\r\n");
            assertThat(client.callString("MULTI")).isEqualTo("+OK\r\n");
            assertThat(client.callString("SET", key, "v1")).isEqualTo("+QUEUED\r\n");
            assertThat(client.callString("EXEC")).isEqualTo("*1\r\n+OK\r\n");
            assertThat(destination.call("GET", key)).isEqualTo("$2\r\nv1\r\n");
        }
    }

    @Test
    void shouldRegisterMetersAndProbeAMasterThatJoinsLater() {
        LocalRedisServer joined = cluster.addMaster();
        String label = "node=\"" + joined.address() + "\"";
        assertThat(proxy.admin("/metrics").body()).as("no meters for a node without slots").doesNotContain(label);
        long pingsBefore = joined.commandCalls("ping");

        String key = "{joined}:k";
        LocalRedisServer source = cluster.masterOf(key);
        try (RawRedisClient client = proxy.connect()) {
            assertThat(client.callString("SET", key, "v")).isEqualTo("+OK\r\n");
            cluster.moveSlot(slotOf(key), source, joined);
            assertThat(client.callString("GET", key)).isEqualTo("$1\r\nv\r\n");     // MOVED: the proxy learns of it
        }

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String metrics = proxy.admin("/metrics").body();
            assertThat(sample(metrics, "cacheproxy_backend_up", label)).isEqualTo("1.0");
            assertThat(sample(metrics, "cacheproxy_backend_errors_total", label)).isEqualTo("0.0");
        });
        await("health probes of the new master").atMost(Duration.ofSeconds(10))
                .until(() -> joined.commandCalls("ping") > pingsBefore);
    }

    /** The value of the sample of {@code name} whose labels contain {@code label}, or null. */
    private static String sample(String prometheusText, String name, String label) {
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)}\\s+(\\S+)$", Pattern.MULTILINE)
                .matcher(prometheusText);
        while (m.find()) {
            if (m.group(1).contains(label)) {
                return m.group(2);
            }
        }
        return null;
    }
}
