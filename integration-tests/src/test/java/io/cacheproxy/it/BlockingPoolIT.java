package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code pools.NAME.blocking-connections}: blocking commands borrow connections from a bounded
 * per-node pool. At the bound a blocking command is refused at once while other traffic goes on;
 * connections are reused once their command is answered; a client that disconnects while blocked
 * frees its connection at once.
 *
 * <p>Every proxy here probes its node at start and then only once an hour, so once the start-up
 * probe has connected, the node's {@code connected_clients} changes only with the proxies' client
 * traffic; the test reads it on one connection of its own.
 */
@Timeout(60)
class BlockingPoolIT {
    private static final String PROBE_ONLY_HOURLY = "health: {interval: 1h}";

    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    /** One pool {@code main} over one node, with 2 connections for blocking commands. */
    @RegisterExtension
    static final ProxyExtension proxy = ProxyExtension.singlePool(redis,
            "blocking-connections: 2\n" + PROBE_ONLY_HOURLY);

    /** The test's own connection to the node, for INFO and CLIENT LIST. */
    private RawRedisClient direct;

    @BeforeEach
    void connectAndFlush() {
        direct = redis.connect();
        assertThat(direct.callString("FLUSHALL")).isEqualTo("+OK\r\n");
    }

    @AfterEach
    void disconnect() {
        direct.close();
    }

    private static String bulk(String s) {
        return "$" + s.length() + "\r\n" + s + "\r\n";
    }

    private static String popped(String key, String value) {
        return "*2\r\n" + bulk(key) + bulk(value);
    }

    private static String tooMany(int limit) {
        return "-ERR too many blocking commands in flight: pool main, node " + redis.address() + " has all " + limit
                + " of its blocking connections busy (pools.main.blocking-connections)\r\n";
    }

    /** A field of {@code INFO clients}, read on the node directly. */
    private long clientsInfo(String field) {
        Matcher m = Pattern.compile("^" + field + ":(\\d+)", Pattern.MULTILINE)
                .matcher(direct.callString("INFO", "clients"));
        assertThat(m.find()).as("INFO clients has %s", field).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** connected_clients once connections of earlier tests' proxies have finished closing. */
    private long settledConnectedClients() {
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200)).until(() -> {
            long now = clientsInfo("connected_clients");
            boolean same = now == last[0];
            last[0] = now;
            return same;
        });
        return last[0];
    }

    private void awaitBlockedClients(long n) {
        await().atMost(Duration.ofSeconds(5)).until(() -> clientsInfo("blocked_clients") == n);
    }

    /** Connections of the node whose last command was {@code command} (lower case), from CLIENT LIST. */
    private long connectionsWhoseLastCommandWas(String command) {
        return direct.callString("CLIENT", "LIST").lines().filter(l -> l.contains(" cmd=" + command + " ")).count();
    }

    /** Starts a proxy over the node and waits for its start-up health probe (a PING) to be connected. */
    private TestProxy startProxy(String poolOptions) {
        // By connection id: an earlier proxy's probe connection may still be closing on the node.
        java.util.Set<String> before = new java.util.HashSet<>(connectionIds());
        TestProxy started = TestProxy.start(new ProxyYaml().pool("main",
                (poolOptions.isEmpty() ? "" : poolOptions + "\n") + PROBE_ONLY_HOURLY, redis.fixture()));
        await().atMost(Duration.ofSeconds(5)).until(() -> direct.callString("CLIENT", "LIST").lines()
                .anyMatch(l -> l.contains(" cmd=ping ") && !before.contains(idOf(l))));
        return started;
    }

    private java.util.List<String> connectionIds() {
        return direct.callString("CLIENT", "LIST").lines().map(BlockingPoolIT::idOf).toList();
    }

    /** The {@code id=N} field of a CLIENT LIST line. */
    private static String idOf(String clientListLine) {
        int start = clientListLine.indexOf("id=");
        int end = clientListLine.indexOf(' ', start);
        return start < 0 ? "" : clientListLine.substring(start, end < 0 ? clientListLine.length() : end);
    }

    @Test
    void shouldRefuseABlockingCommandBeyondTheBoundAndServeEverythingElse() {
        try (RawRedisClient first = proxy.connect();
             RawRedisClient second = proxy.connect();
             RawRedisClient third = proxy.connect();
             RawRedisClient other = proxy.connect()) {
            first.send(RawRedisClient.encode("BLPOP", "jobs", "0"));
            awaitBlockedClients(1);
            second.send(RawRedisClient.encode("BLPOP", "jobs", "0"));
            awaitBlockedClients(2);

            assertThat(third.callString("BLPOP", "jobs", "0")).isEqualTo(tooMany(2));
            assertThat(third.callString("BRPOP", "elsewhere", "1")).isEqualTo(tooMany(2));
            assertThat(third.callString("PING")).as("the refused client stays connected").isEqualTo("+PONG\r\n");
            assertThat(other.callString("SET", "plain", "value")).isEqualTo("+OK\r\n");
            assertThat(other.callString("GET", "plain")).isEqualTo(bulk("value"));

            // Redis serves the longest-blocked client first
            assertThat(other.callString("RPUSH", "jobs", "a", "b")).isEqualTo(":2\r\n");
            assertThat(first.readString()).isEqualTo(popped("jobs", "a"));
            assertThat(second.readString()).isEqualTo(popped("jobs", "b"));

            assertThat(third.callString("BLPOP", "jobs", "0.01")).as("a place is free again").isEqualTo("*-1\r\n");
            assertThat(first.callString("GET", "plain")).isEqualTo(bulk("value"));
        }
    }

    @Test
    void shouldRunPipelinedBlockingCommandsOfOneClientOnOneConnection() {
        try (RawRedisClient pipelining = proxy.connect();
             RawRedisClient blocked = proxy.connect();
             RawRedisClient refused = proxy.connect();
             RawRedisClient pusher = proxy.connect()) {
            pipelining.send(concat(RawRedisClient.encode("BLPOP", "q1", "0"),
                    RawRedisClient.encode("BLPOP", "q2", "0")));
            awaitBlockedClients(1);         // BLPOP q2 waits behind BLPOP q1 on the same connection
            blocked.send(RawRedisClient.encode("BLPOP", "q3", "0"));
            awaitBlockedClients(2);
            assertThat(refused.callString("BLPOP", "q4", "0")).isEqualTo(tooMany(2));

            assertThat(pusher.callString("RPUSH", "q2", "second")).isEqualTo(":1\r\n");
            assertThat(pusher.callString("RPUSH", "q1", "first")).isEqualTo(":1\r\n");
            assertThat(pipelining.readString()).isEqualTo(popped("q1", "first"));
            assertThat(pipelining.readString()).isEqualTo(popped("q2", "second"));
            assertThat(pusher.callString("RPUSH", "q3", "third")).isEqualTo(":1\r\n");
            assertThat(blocked.readString()).isEqualTo(popped("q3", "third"));
        }
    }

    @Test
    void shouldReuseConnectionsForSequentialBlockingCommands() {
        try (TestProxy unbounded = startProxy("")) {
            List<RawRedisClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    RawRedisClient client = unbounded.connect();
                    clients.add(client);
                    assertThat(client.callString("GET", "nothing")).isEqualTo("$-1\r\n");
                }
                long before = clientsInfo("connected_clients");
                long blpopBefore = connectionsWhoseLastCommandWas("blpop");
                for (int i = 0; i < 30; i++) {
                    assertThat(clients.get(i % clients.size()).callString("BLPOP", "missing", "0.01"))
                            .as("BLPOP %d", i).isEqualTo("*-1\r\n");
                }
                assertThat(clientsInfo("connected_clients")).as("node connections after 30 BLPOPs from 6 clients")
                        .isEqualTo(before + 1);
                assertThat(connectionsWhoseLastCommandWas("blpop")).isEqualTo(blpopBefore + 1);
            } finally {
                clients.forEach(RawRedisClient::close);
            }
        }
    }

    @Test
    void shouldKeepConnectionsOfEachProtocolVersionApart() {
        try (RawRedisClient resp2 = proxy.connect(); RawRedisClient resp3 = proxy.connect()) {
            assertThat(resp3.callString("HELLO", "3")).startsWith("%");
            assertThat(resp2.callString("BLPOP", "missing", "0.01")).isEqualTo("*-1\r\n");
            assertThat(resp3.callString("BLPOP", "missing", "0.01")).isEqualTo("_\r\n");
            assertThat(resp2.callString("BLPOP", "missing", "0.01")).isEqualTo("*-1\r\n");
            assertThat(resp3.callString("BLPOP", "missing", "0.01")).isEqualTo("_\r\n");
        }
    }

    @Test
    void shouldFreeTheConnectionOfAClientThatDisconnectsWhileBlocked() {
        long withoutThisProxy = settledConnectedClients();
        try (TestProxy single = startProxy("blocking-connections: 1");
             RawRedisClient waiting = single.connect()) {
            // the shared connection opens on first use (a blocking write's end is broadcast on it):
            // open it now; and settle: the proxy's L1 invalidation link connects in the background
            assertThat(waiting.callString("GET", "gone")).isEqualTo("$-1\r\n");
            long before = settledConnectedClients();
            RawRedisClient leaving = single.connect();
            try {
                leaving.send(RawRedisClient.encode("BLPOP", "gone", "0"));
                awaitBlockedClients(1);
                assertThat(clientsInfo("connected_clients")).isEqualTo(before + 1);
                assertThat(waiting.callString("BLPOP", "gone", "0.01")).isEqualTo(tooMany(1));
            } finally {
                leaving.close();
            }

            // the proxy closed the leaver's connection, and Redis dropped its BLPOP with it
            await().atMost(Duration.ofSeconds(5)).until(() -> clientsInfo("connected_clients") == before);
            assertThat(clientsInfo("blocked_clients")).isZero();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(waiting.callString("BLPOP", "gone", "0.01")).isEqualTo("*-1\r\n"));
            assertThat(clientsInfo("connected_clients")).as("the waiter's connection").isEqualTo(before + 1);

            waiting.send(RawRedisClient.encode("BLPOP", "gone", "0"));
            awaitBlockedClients(1);
            assertThat(direct.callString("LPUSH", "gone", "value")).isEqualTo(":1\r\n");
            assertThat(waiting.readString()).isEqualTo(popped("gone", "value"));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> clientsInfo("connected_clients") == withoutThisProxy);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
