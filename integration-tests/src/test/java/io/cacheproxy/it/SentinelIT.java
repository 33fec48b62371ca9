package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
 * {@code type: sentinel} pools against real processes: one master, one replica and three
 * sentinels. The proxy finds the master through the sentinels, and follows a
 * {@code SENTINEL FAILOVER} under traffic without a restart.
 */
class SentinelIT {
    private static final String MASTER_NAME = "mymaster";
    private static final List<LocalRedisServer> servers = new ArrayList<>();
    private static LocalRedisServer master;
    private static LocalRedisServer replica;
    private static final List<LocalRedisServer> sentinels = new ArrayList<>();

    @BeforeAll
    static void startServers() {
        master = start(new LocalRedisServer());
        replica = start(LocalRedisServer.replicaOf(master));
        await().atMost(Duration.ofSeconds(10)).until(() -> info(replica, "replication").contains("master_link_status:up"));
        for (int i = 0; i < 3; i++) {
            sentinels.add(start(LocalRedisServer.sentinel(MASTER_NAME, master, 2)));
        }
        // A failover needs the sentinels to know the replica and each other (found through hello messages).
        await().atMost(Duration.ofSeconds(20)).until(() -> sentinels.stream().allMatch(s -> {
            String m = s.call("SENTINEL", "MASTER", MASTER_NAME);
            return m.contains("num-slaves\r\n$1\r\n1\r\n") && m.contains("num-other-sentinels\r\n$1\r\n2\r\n");
        }));
    }

    @AfterAll
    static void stopServers() {
        for (LocalRedisServer server : servers) {
            server.stop();
        }
    }

    private static LocalRedisServer start(LocalRedisServer server) {
        servers.add(server);
        server.start();
        return server;
    }

    private static String info(RedisFixture server, String section) {
        return server.call("INFO", section);
    }

    private static String yaml(String masterName) {
        StringBuilder nodes = new StringBuilder();
        for (LocalRedisServer s : sentinels) {
            nodes.append(nodes.isEmpty() ? "" : ", ").append(s.address());
        }
        return "server:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\npools:\n  main:\n"
                + "    type: sentinel\n    master-name: " + masterName + "\n    nodes: [" + nodes + "]\n"
                + "    timeouts: {connect: 500ms, command: 1s}\n";
    }

    /** The master as the first sentinel names it now. */
    private static int masterPortNamedBySentinel() {
        String reply = sentinels.get(0).call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
        String[] lines = reply.split("\r\n");
        return Integer.parseInt(lines[lines.length - 1]);
    }

    @Test
    void shouldRefuseToStartWhenNoSentinelKnowsTheMaster() {
        assertThatThrownBy(() -> TestProxy.start(yaml("nosuchmaster")))
                .hasMessageContaining("pools.main: no sentinel names the master 'nosuchmaster'")
                .hasMessageContaining(sentinels.get(0).address());
    }

    @Test
    void shouldFollowAFailoverUnderTraffic() throws Exception {
        try (TestProxy proxy = TestProxy.start(yaml(MASTER_NAME))) {
            int before = masterPortNamedBySentinel();
            LocalRedisServer oldMaster = before == master.port() ? master : replica;
            LocalRedisServer newMaster = oldMaster == master ? replica : master;
            try (RawRedisClient client = proxy.connect()) {
                assertThat(client.callString("SET", "sentinel:before", "1")).isEqualTo("+OK\r\n");
            }
            assertThat(oldMaster.call("GET", "sentinel:before")).as("written to the master the sentinels name")
                    .isEqualTo("$1\r\n1\r\n");

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger acknowledged = new AtomicInteger();
            ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
            Thread writer = new Thread(() -> {
                int i = 0;
                while (!stop.get()) {
                    try (RawRedisClient client = proxy.connect().timeout(Duration.ofSeconds(3))) {
                        while (!stop.get()) {
                            String reply = client.callString("SET", "sentinel:k" + i, Integer.toString(i));
                            if (reply.equals("+OK\r\n")) {
                                acknowledged.incrementAndGet();
                            } else {
                                errors.add(reply.trim());
                            }
                            i++;
                        }
                    } catch (RuntimeException e) {
                        errors.add(e.toString());
                    }
                }
            }, "sentinel-it-writer");
            writer.start();
            try {
                await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() > 100);
                assertThat(sentinels.get(0).call("SENTINEL", "FAILOVER", MASTER_NAME)).isEqualTo("+OK\r\n");
                await().atMost(Duration.ofSeconds(20)).until(() -> masterPortNamedBySentinel() == newMaster.port());
                await().atMost(Duration.ofSeconds(10)).until(() -> info(newMaster, "replication").contains("role:master"));
                // The proxy moves within a poll interval (or at once on +switch-master); writes then land on the new master.
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    try (RawRedisClient client = proxy.connect()) {
                        String reply = client.callString("SET", "sentinel:after", "2");
                        return reply.equals("+OK\r\n") && newMaster.call("GET", "sentinel:after").equals("$1\r\n2\r\n");
                    }
                });
                int afterSwitch = acknowledged.get();
                await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() > afterSwitch + 100);
            } finally {
                stop.set(true);
                writer.join(10_000);
            }
            // Errors are allowed only while the master changes; none of them may be a hang or garbage.
            assertThat(errors).allSatisfy(e -> assertThat(e).matches(
                    "-(ERR backend unavailable: pool main, node 127\\.0\\.0\\.1:\\d+|READONLY .*)"));
            try (RawRedisClient client = proxy.connect()) {
                assertThat(client.callString("GET", "sentinel:after")).isEqualTo("$1\r\n2\r\n");
            }
        }
    }

    @Test
    void shouldReadFromTheReplicaTheSentinelsListWhenThePoolSaysSo() {
        String yaml = yaml(MASTER_NAME).replace("    timeouts:", "    replication: {read-from: replica}\n    timeouts:");
        // after another test's failover the old master needs a moment to become a synced replica
        LocalRedisServer currentMaster = masterPortNamedBySentinel() == master.port() ? master : replica;
        LocalRedisServer currentReplica = currentMaster == master ? replica : master;
        await().atMost(Duration.ofSeconds(20)).until(() -> info(currentReplica, "replication").contains("master_link_status:up")
                && info(currentMaster, "replication").contains("connected_slaves:1")
                && sentinels.stream().allMatch(s -> {
                    String replicas = s.call("SENTINEL", "REPLICAS", MASTER_NAME);
                    return replicas.contains("$" + Integer.toString(currentReplica.port()).length() + "\r\n" + currentReplica.port() + "\r\n")
                            && !replicas.contains("s_down") && !replicas.contains("disconnected");
                }));
        try (TestProxy proxy = TestProxy.start(yaml); RawRedisClient client = proxy.connect()) {
            assertThat(client.callString("SET", "sentinel:read", "r")).isEqualTo("+OK\r\n");
            assertThat(currentMaster.call("WAIT", "1", "2000")).isEqualTo(":1\r\n");
            long masterBefore = currentMaster.commandCalls("get");
            long replicaBefore = currentReplica.commandCalls("get");
            for (int i = 0; i < 20; i++) {
                assertThat(client.callString("GET", "sentinel:read")).isEqualTo("$1\r\nr\r\n");
            }
            assertThat(currentReplica.commandCalls("get") - replicaBefore).as("GETs on the replica").isEqualTo(20);
            assertThat(currentMaster.commandCalls("get") - masterBefore).as("GETs on the master").isZero();
        }
    }
}
