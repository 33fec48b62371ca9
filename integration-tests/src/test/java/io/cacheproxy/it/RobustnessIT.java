package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Load, faults and the admin endpoint: deep pipelines, many clients, garbage input, dead and frozen
 * backends, blocking commands, pub/sub, refused admin commands, {@code /health}, {@code /ready} and
 * {@code /metrics}. Tests that kill or freeze a backend start their own servers and proxy, so a fault
 * never leaks into another test.
 */
@Timeout(90)
class RobustnessIT {

    @RegisterExtension
    static final RedisExtension nodeA = new RedisExtension();

    @RegisterExtension
    static final RedisExtension nodeB = new RedisExtension();

    /** One pool {@code main} over one node. */
    @RegisterExtension
    static final ProxyExtension single = ProxyExtension.singlePool(nodeA, "");

    /** One pool {@code main} over two nodes: replies of one pipeline come from both. */
    @RegisterExtension
    static final ProxyExtension sharded = new ProxyExtension(
            () -> new ProxyYaml().pool("main", "", nodeA.fixture(), nodeB.fixture()), nodeA, nodeB);

    private final ExecutorService executor = Executors.newCachedThreadPool();

    @BeforeEach
    void flush() {
        for (RedisExtension node : List.of(nodeA, nodeB)) {
            try (RawRedisClient direct = node.connect()) {
                assertThat(direct.callString("FLUSHALL")).isEqualTo("+OK\r\n");
            }
        }
    }

    @AfterEach
    void stopThreads() throws InterruptedException {
        executor.shutdownNow();
        assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).as("test threads ended").isTrue();
    }

    private static String bulk(String s) {
        return "$" + s.length() + "\r\n" + s + "\r\n";
    }

    private static long dbsize(RedisExtension node) {
        try (RawRedisClient direct = node.connect()) {
            String reply = direct.callString("DBSIZE");
            return Long.parseLong(reply.substring(1, reply.length() - 2));
        }
    }

    // ---------------------------------------------------------------- load

    @Test
    void shouldAnswerTenThousandPipelinedCommandsInOrder() throws Exception {
        int commands = 10_000;
        ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
        for (int i = 0; i < commands; i += 2) {
            pipeline.writeBytes(RawRedisClient.encode("SET", "key:" + i, "value-" + i));
            pipeline.writeBytes(RawRedisClient.encode("GET", "key:" + i));
        }
        try (RawRedisClient client = sharded.connect()) {
            // written from another thread, so that neither side can block on a full socket buffer
            Future<?> writer = executor.submit(() -> client.send(pipeline.toByteArray()));
            for (int i = 0; i < commands; i += 2) {
                assertThat(client.readString()).as("reply %d", i).isEqualTo("+OK\r\n");
                assertThat(client.readString()).as("reply %d", i + 1).isEqualTo(bulk("value-" + i));
            }
            writer.get(10, TimeUnit.SECONDS);
            assertThat(client.callString("PING")).isEqualTo("+PONG\r\n");
        }
        assertThat(dbsize(nodeA)).as("keys on node A").isPositive();
        assertThat(dbsize(nodeB)).as("keys on node B").isPositive();
        assertThat(dbsize(nodeA) + dbsize(nodeB)).isEqualTo(commands / 2);
    }

    @Test
    void shouldServeHundredConcurrentClientsWithTheirOwnKeys() throws Exception {
        int clients = 100;
        int rounds = 200;
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int id = c;
            futures.add(executor.submit(() -> {
                try (RawRedisClient client = sharded.connect()) {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        String key = "client:" + id + ":" + i;
                        String value = "v-" + id + "-" + i;
                        String set = client.callString("SET", key, value);
                        String get = client.callString("GET", key);
                        if (!set.equals("+OK\r\n") || !get.equals(bulk(value))) {
                            problems.add(key + ": SET -> " + set.strip() + ", GET -> " + get.strip());
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    problems.add("client " + id + ": " + e);
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertThat(problems).isEmpty();
        assertThat(dbsize(nodeA) + dbsize(nodeB)).isEqualTo((long) clients * rounds);
    }

    // ---------------------------------------------------------------- bad clients

    @Test
    void shouldCloseOnlyTheClientThatSentGarbage() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicInteger goodCalls = new AtomicInteger();
        List<Future<?>> good = new ArrayList<>();
        for (int c = 0; c < 5; c++) {
            int id = c;
            good.add(executor.submit(() -> {
                try (RawRedisClient client = sharded.connect()) {
                    for (int i = 0; running.get(); i++) {
                        String value = "good-" + id + "-" + i;
                        String set = client.callString("SET", "good:" + id, value);
                        String get = client.callString("GET", "good:" + id);
                        if (!set.equals("+OK\r\n") || !get.equals(bulk(value))) {
                            problems.add("client " + id + ": SET -> " + set.strip() + ", GET -> " + get.strip());
                        }
                        goodCalls.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    problems.add("client " + id + ": " + e);
                }
                return null;
            }));
        }
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> goodCalls.get() > 50);
            String[] garbage = {"*1\r\n$abc\r\n", "*-5x\r\n", "*2\r\n$3\r\nGET\r\n:1\r\n", "SET k \"unbalanced\r\n"};
            for (int round = 0; round < 5; round++) {
                for (String bytes : garbage) {
                    try (RawRedisClient bad = sharded.connect()) {
                        bad.send("PING\r\n" + bytes);
                        assertThat(bad.readString()).isEqualTo("+PONG\r\n");
                        assertThat(bad.readString()).as("reply to %s", RawRedisClient.escape(bytes.getBytes()))
                                .startsWith("-ERR Protocol error: ").endsWith("\r\n");
                        assertThat(bad.isClosedByPeer(Duration.ofSeconds(2)))
                                .as("connection closed after %s", RawRedisClient.escape(bytes.getBytes())).isTrue();
                    }
                }
            }
            int before = goodCalls.get();
            await().atMost(Duration.ofSeconds(5)).until(() -> goodCalls.get() > before + 50);
        } finally {
            running.set(false);
        }
        for (Future<?> f : good) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void shouldRefuseClientsOverMaxClientsAndAcceptThemAgainLater() {
        String yaml = new ProxyYaml().pool("main", "", nodeA.fixture()).toString()
                .replace("server:\n  listen: 127.0.0.1:0\n", "server:\n  listen: 127.0.0.1:0\n  max-clients: 2\n");
        try (TestProxy proxy = TestProxy.start(yaml)) {
            RawRedisClient first = proxy.connect();
            RawRedisClient second = proxy.connect();
            try {
                assertThat(first.callString("PING")).isEqualTo("+PONG\r\n");
                assertThat(second.callString("PING")).isEqualTo("+PONG\r\n");
                try (RawRedisClient third = proxy.connect()) {
                    assertThat(RawRedisClient.text(third.readUntilClosed(Duration.ofSeconds(3))))
                            .isEqualTo("-ERR max number of clients reached\r\n");
                }
                assertThat(first.callString("PING")).as("connected clients unaffected").isEqualTo("+PONG\r\n");
            } finally {
                first.close();
                second.close();
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                try (RawRedisClient again = proxy.connect()) {
                    assertThat(again.callString("PING")).isEqualTo("+PONG\r\n");
                }
            });
        }
    }

    // ---------------------------------------------------------------- failing backends

    record Call(long startNanos, long nanos, String reply, String failure) {
    }

    @Test
    void shouldAnswerBackendUnavailableQuicklyWhileTheNodeIsDeadAndRecoverAfterRestart() throws Exception {
        try (RedisFixture redis = RedisFixture.create()) {
            redis.start();
            try (TestProxy proxy = TestProxy.start(new ProxyYaml().pool("main", "", redis))) {
                String unavailable = "-ERR backend unavailable: pool main, node " + redis.address() + "\r\n";
                Queue<Call> calls = new ConcurrentLinkedQueue<>();
                AtomicBoolean running = new AtomicBoolean(true);
                Future<?> traffic = executor.submit(() -> {
                    RawRedisClient client = proxy.connect().timeout(Duration.ofSeconds(5));
                    try {
                        for (int i = 0; running.get(); i++) {
                            long start = System.nanoTime();
                            try {
                                String reply = (i % 2 == 0 ? client.callString("SET", "k", "v") : client.callString("GET", "k")).strip();
                                calls.add(new Call(start, System.nanoTime() - start, reply, null));
                            } catch (UncheckedIOException e) {
                                calls.add(new Call(start, System.nanoTime() - start, null, e.getMessage() + ": " + e.getCause()));
                                client.close();
                                client = proxy.connect().timeout(Duration.ofSeconds(5));
                            }
                            Thread.sleep(5);
                        }
                    } finally {
                        client.close();
                    }
                    return null;
                });
                try {
                    await().atMost(Duration.ofSeconds(5)).until(() -> calls.stream().filter(c -> "+OK".equals(c.reply())).count() >= 20);
                    long killedAt = System.nanoTime();
                    redis.kill();
                    await().atMost(Duration.ofSeconds(5)).until(() -> calls.stream()
                            .anyMatch(c -> c.startNanos() > killedAt && unavailable.strip().equals(c.reply())));
                    Thread.sleep(1500); // the node stays dead for a while (long enough for health checks to eject it)
                    long restartedAt = System.nanoTime();
                    redis.restart();
                    await().atMost(Duration.ofSeconds(15)).until(() -> calls.stream()
                            .anyMatch(c -> c.startNanos() > restartedAt && "+OK".equals(c.reply())));
                    Thread.sleep(200);
                } finally {
                    running.set(false);
                    traffic.get(10, TimeUnit.SECONDS);
                }
                List<Call> all = List.copyOf(calls);
                assertThat(all).as("calls that failed at the socket (hang or closed connection)")
                        .filteredOn(c -> c.failure() != null).isEmpty();
                assertThat(all).as("calls slower than 2 s").filteredOn(c -> c.nanos() > TimeUnit.SECONDS.toNanos(2)).isEmpty();
                assertThat(all).as("replies other than OK, the value, nil or backend unavailable")
                        .filteredOn(c -> !List.of("+OK", "$1\r\nv", "$-1", unavailable.strip()).contains(c.reply()))
                        .isEmpty();
                // once traffic succeeds again after the restart, it keeps succeeding
                Call firstOkAfterRestart = all.stream().filter(c -> "+OK".equals(c.reply()))
                        .reduce((a, b) -> b).orElseThrow();
                assertThat(firstOkAfterRestart).isNotNull();
                try (RawRedisClient fresh = proxy.connect()) {
                    assertThat(fresh.callString("SET", "after", "restart")).isEqualTo("+OK\r\n");
                    assertThat(fresh.callString("GET", "after")).isEqualTo(bulk("restart"));
                }
            }
        }
    }

    @Test
    void shouldTimeOutOnFrozenBackendWithoutAffectingOtherPools() throws Exception {
        try (RedisFixture a = RedisFixture.create(); RedisFixture b = RedisFixture.create()) {
            a.start();
            b.start();
            ProxyYaml yaml = new ProxyYaml()
                    .pool("a", "timeouts: {command: 500ms}", a)
                    .pool("b", "timeouts: {command: 500ms}", b)
                    .route("b:", "b")
                    .route(null, "a");
            try (TestProxy proxy = TestProxy.start(yaml);
                 RawRedisClient toB = proxy.connect();
                 RawRedisClient toA = proxy.connect()) {
                assertThat(toB.callString("SET", "b:key", "on-b")).isEqualTo("+OK\r\n");
                assertThat(toA.callString("SET", "a:key", "on-a")).isEqualTo("+OK\r\n");
                try (RawRedisClient directB = RawRedisClient.connect(b.host(), b.port())) {
                    assertThat(directB.callString("GET", "b:key")).as("routed by prefix to pool b").isEqualTo(bulk("on-b"));
                }
                b.pause();
                try {
                    long start = System.nanoTime();
                    Future<String> frozen = executor.submit(() -> toB.callString("GET", "b:key"));
                    // pool a answers at full speed while the request to b waits for its deadline
                    for (int i = 0; i < 20; i++) {
                        long t = System.nanoTime();
                        assertThat(toA.callString("GET", "a:key")).isEqualTo(bulk("on-a"));
                        assertThat(System.nanoTime() - t).as("GET on pool a").isLessThan(TimeUnit.MILLISECONDS.toNanos(200));
                    }
                    String reply = frozen.get(3, TimeUnit.SECONDS);
                    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    assertThat(reply).isEqualTo("-ERR backend unavailable: pool b, node " + b.address() + "\r\n");
                    assertThat(elapsedMillis).as("time to the error (command timeout 500ms)").isBetween(400L, 1500L);
                    assertThat(toA.callString("GET", "a:key")).isEqualTo(bulk("on-a"));
                } finally {
                    b.resume();
                }
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    try (RawRedisClient again = proxy.connect()) {
                        assertThat(again.callString("GET", "b:key")).isEqualTo(bulk("on-b"));
                    }
                });
            }
        }
    }

    // ---------------------------------------------------------------- blocking and pub/sub

    @Test
    void shouldNotStallOtherClientsWhileSomeBlock() throws Exception {
        List<RawRedisClient> blocked = new ArrayList<>();
        try {
            for (int i = 0; i < 10; i++) {
                RawRedisClient client = sharded.connect();
                blocked.add(client);
                client.send(RawRedisClient.encode("BLPOP", "queue:" + i, "10"));
            }
            Thread.sleep(100); // let the BLPOPs reach Redis
            try (RawRedisClient other = sharded.connect()) {
                long start = System.nanoTime();
                for (int i = 0; i < 100; i++) {
                    assertThat(other.callString("SET", "free:" + i, "x")).isEqualTo("+OK\r\n");
                    assertThat(other.callString("GET", "free:" + i)).isEqualTo(bulk("x"));
                }
                assertThat(System.nanoTime() - start).as("200 commands while 10 clients block")
                        .isLessThan(TimeUnit.SECONDS.toNanos(2));
                for (int i = 0; i < 10; i++) {
                    assertThat(other.callString("LPUSH", "queue:" + i, "item-" + i)).isEqualTo(":1\r\n");
                }
            }
            for (int i = 0; i < 10; i++) {
                assertThat(blocked.get(i).timeout(Duration.ofSeconds(2)).readString())
                        .isEqualTo("*2\r\n" + bulk("queue:" + i) + bulk("item-" + i));
                assertThat(blocked.get(i).callString("PING")).isEqualTo("+PONG\r\n");
            }
        } finally {
            blocked.forEach(RawRedisClient::close);
        }
    }

    @ParameterizedTest(name = "RESP{0}, {1}-node pool")
    @CsvSource({"2, 1", "3, 1", "2, 2", "3, 2"})
    void shouldDeliverPublishedMessagesToSubscribers(int protocol, int nodes) {
        ProxyExtension proxy = nodes == 1 ? single : sharded;
        String push = protocol == 3 ? ">" : "*";
        try (RawRedisClient subscriber = proxy.connect(); RawRedisClient publisher = proxy.connect()) {
            if (protocol == 3) {
                assertThat(subscriber.callString("HELLO", "3")).startsWith("%");
            }
            assertThat(subscriber.callString("SUBSCRIBE", "news", "sport"))
                    .isEqualTo(push + "3\r\n" + bulk("subscribe") + bulk("news") + ":1\r\n");
            assertThat(subscriber.readString()).isEqualTo(push + "3\r\n" + bulk("subscribe") + bulk("sport") + ":2\r\n");
            assertThat(subscriber.callString("PSUBSCRIBE", "weather.*"))
                    .isEqualTo(push + "3\r\n" + bulk("psubscribe") + bulk("weather.*") + ":3\r\n");

            assertThat(publisher.callString("PUBLISH", "news", "hello")).isEqualTo(":1\r\n");
            assertThat(subscriber.readString()).isEqualTo(push + "3\r\n" + bulk("message") + bulk("news") + bulk("hello"));
            assertThat(publisher.callString("PUBLISH", "weather.rome", "sunny")).isEqualTo(":1\r\n");
            assertThat(subscriber.readString())
                    .isEqualTo(push + "4\r\n" + bulk("pmessage") + bulk("weather.*") + bulk("weather.rome") + bulk("sunny"));
            assertThat(publisher.callString("PUBLISH", "nobody-listens", "x")).isEqualTo(":0\r\n");

            assertThat(subscriber.callString("PING")).isEqualTo(protocol == 3
                    ? "+PONG\r\n" : "*2\r\n" + bulk("pong") + bulk(""));
            assertThat(subscriber.callString("UNSUBSCRIBE", "news"))
                    .isEqualTo(push + "3\r\n" + bulk("unsubscribe") + bulk("news") + ":2\r\n");
            assertThat(publisher.callString("PUBLISH", "news", "unheard")).isEqualTo(":0\r\n");
            assertThat(subscriber.callString("UNSUBSCRIBE"))
                    .isEqualTo(push + "3\r\n" + bulk("unsubscribe") + bulk("sport") + ":1\r\n");
            assertThat(subscriber.callString("PUNSUBSCRIBE"))
                    .isEqualTo(push + "3\r\n" + bulk("punsubscribe") + bulk("weather.*") + ":0\r\n");
            // out of subscribed mode: ordinary commands again
            assertThat(subscriber.callString("SET", "after-pubsub", "1")).isEqualTo("+OK\r\n");
            assertThat(subscriber.callString("GET", "after-pubsub")).isEqualTo(bulk("1"));
        }
    }

    // ---------------------------------------------------------------- administration

    @Test
    void shouldRefuseAdminCommandsUnlessThePoolPassesThem() {
        try (TestProxy deny = TestProxy.start(new ProxyYaml().pool("main", "admin-commands: deny", nodeA.fixture()));
             RawRedisClient client = deny.connect()) {
            assertThat(client.callString("CONFIG", "GET", "x"))
                    .isEqualTo("-ERR command 'config get' is not allowed through the proxy\r\n");
            assertThat(client.callString("CONFIG", "SET", "maxmemory", "1"))
                    .isEqualTo("-ERR command 'config set' is not allowed through the proxy\r\n");
            assertThat(client.callString("OBJECT", "ENCODING", "k"))
                    .isEqualTo("-ERR command 'object encoding' is not allowed through the proxy\r\n");
            assertThat(client.callString("SHUTDOWN"))
                    .isEqualTo("-ERR command 'shutdown' is not allowed through the proxy\r\n");
            assertThat(client.callString("PING")).isEqualTo("+PONG\r\n");
        }
        try (TestProxy pass = TestProxy.start(new ProxyYaml().pool("main", "admin-commands: pass", nodeA.fixture()));
             RawRedisClient client = pass.connect()) {
            assertThat(client.callString("CONFIG", "GET", "maxmemory"))
                    .isEqualTo("*2\r\n" + bulk("maxmemory") + bulk("0"));
            for (String[] command : new String[][] {{"SHUTDOWN"}, {"SHUTDOWN", "NOSAVE"}, {"MONITOR"},
                    {"REPLICAOF", "127.0.0.1", "1"}, {"SYNC"}}) {
                assertThat(client.callString(command))
                        .as(String.join(" ", command))
                        .isEqualTo("-ERR command '" + command[0].toLowerCase() + "' is not allowed through the proxy\r\n");
            }
            assertThat(client.callString("PING")).isEqualTo("+PONG\r\n");
        }
        try (RawRedisClient direct = nodeA.connect()) {
            assertThat(direct.callString("PING")).as("the node survived SHUTDOWN").isEqualTo("+PONG\r\n");
            assertThat(direct.callString("ROLE")).as("the node is still a master").startsWith("*3\r\n$6\r\nmaster\r\n");
        }
    }

    @Test
    void shouldReportHealthReadinessAndMetrics() {
        try (RedisFixture redis = RedisFixture.create()) {
            redis.start();
            try (TestProxy proxy = TestProxy.start(new ProxyYaml().pool("main", "", redis))) {
                try (RawRedisClient client = proxy.connect()) {
                    assertThat(client.callString("SET", "m", "1")).isEqualTo("+OK\r\n");
                    assertThat(client.callString("GET", "m")).isEqualTo(bulk("1"));
                    assertThat(client.callString("GET", "m")).isEqualTo(bulk("1"));

                    HttpResponse<String> health = proxy.admin("/health");
                    assertThat(health.statusCode()).isEqualTo(200);
                    HttpResponse<String> ready = proxy.admin("/ready");
                    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);

                    HttpResponse<String> metrics = proxy.admin("/metrics");
                    assertThat(metrics.statusCode()).isEqualTo(200);
                    assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(
                            type -> assertThat(type).startsWith("text/plain"));
                    String body = metrics.body();
                    assertThat(metricValue(body, "cacheproxy_commands_total", "command=\"get\"", "result=\"ok\""))
                            .isGreaterThanOrEqualTo(2.0);
                    assertThat(metricValue(body, "cacheproxy_client_connections")).isGreaterThanOrEqualTo(1.0);
                    assertThat(metricValue(body, "cacheproxy_backend_up", "node=\"" + redis.address() + "\""))
                            .isEqualTo(1.0);
                    assertThat(body).contains("jvm_memory_used_bytes");
                }

                redis.kill();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(proxy.admin("/ready").statusCode()).isEqualTo(503));
                HttpResponse<String> notReady = proxy.admin("/ready");
                assertThat(notReady.body()).as("the reason names the pool").contains("main");
                assertThat(proxy.admin("/health").statusCode()).as("/health while a backend is down").isEqualTo(200);
                assertThat(metricValue(proxy.admin("/metrics").body(), "cacheproxy_backend_up",
                        "node=\"" + redis.address() + "\"")).isEqualTo(0.0);

                redis.restart();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(proxy.admin("/ready").statusCode()).isEqualTo(200));
            }
        }
    }

    /** The value of the first sample of {@code name} whose labels contain every one of {@code labels}. */
    private static double metricValue(String prometheusText, String name, String... labels) {
        Pattern sample = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*})?\\s+(\\S+)$", Pattern.MULTILINE);
        Matcher m = sample.matcher(prometheusText);
        while (m.find()) {
            String labelText = m.group(1) == null ? "" : m.group(1);
            boolean all = true;
            for (String label : labels) {
                all &= labelText.contains(label);
            }
            if (all) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no sample " + name + " with labels " + List.of(labels) + " in /metrics:\n"
                + prometheusText.lines().filter(l -> l.startsWith("cacheproxy_")).reduce("", (a, b) -> a + b + "\n"));
    }
}
