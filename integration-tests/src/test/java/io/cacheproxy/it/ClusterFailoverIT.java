package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cacheproxy.routing.KeySlot;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@code type: cluster} pool rides through a real Redis Cluster failover: under load from 8 clients
 * (SET then GET of their own keys, spread over all slots), one master of 3 is killed with SIGKILL.
 * Commands for its slots fail fast ({@code -ERR backend unavailable}), never hang, only until the
 * cluster has promoted the master's replica and the proxy has re-read the slot map; the other
 * masters' slots see no error but the cluster's own {@code -CLUSTERDOWN} while a slot has no live
 * master. It measures that window and how many acknowledged writes the asynchronous replication
 * lost, and prints one {@code [ClusterFailoverIT]} line with the numbers.
 *
 * <p>What bounds the window: the cluster marks the master failing after {@code cluster-node-timeout}
 * ({@value #NODE_TIMEOUT_MILLIS} ms in {@link LocalRedisCluster}), the other masters agree it failed
 * (gossip, within about another node timeout), the replica waits 0.5 to 1 s and wins the election;
 * then the proxy, which gets no MOVED from a dead node, learns the new master at its next periodic
 * slot-map refresh ({@code ClusterTopology.REFRESH_INTERVAL}, 5 s).
 */
@Timeout(120)
class ClusterFailoverIT {
    /** {@code cluster-node-timeout} of {@link LocalRedisCluster}'s nodes. */
    private static final long NODE_TIMEOUT_MILLIS = 2000;
    /**
     * How soon after the masters know the new master the proxy does: a connection to the dead master
     * that fails makes it re-read CLUSTER SLOTS (at most every 100 ms), and while its connects back
     * off (up to 2 s apart) the failures come at that pace.
     */
    private static final long PROXY_REFRESH_MILLIS = 2000;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);
    private static final int CLIENTS = 8;
    private static final int KEYS_PER_CLIENT = 512;
    private static final Duration LOAD_BEFORE_KILL = Duration.ofSeconds(1);
    /** Load goes on until the affected slots have taken writes without error for this long... */
    private static final Duration RECOVERED_FOR = Duration.ofSeconds(2);
    /** ...or until this long after the kill. */
    private static final Duration HARD_CAP = Duration.ofSeconds(30);

    private static LocalRedisCluster cluster;
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.start(3, 1);
        proxy = TestProxy.start("server:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\npools:\n  main:\n"
                + "    type: cluster\n    nodes: [" + cluster.nodes().get(0).address() + "]\n"
                + "    timeouts: {connect: 1s, command: " + COMMAND_TIMEOUT.toMillis() + "ms}\n");
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

    @Test
    void shouldServeTheKilledMastersSlotsAgainOnceItsReplicaIsPromoted() throws Exception {
        LocalRedisServer victim = cluster.masterOf("failover:probe");
        String victimNodes = victim.call("CLUSTER", "NODES");
        BitSet affectedSlots = slotsOfMyself(victimNodes);
        LocalRedisServer replica = replicaOf(victimNodes);
        List<LocalRedisServer> survivors = cluster.masters().stream().filter(m -> m != victim).toList();
        assertThat(affectedSlots.cardinality()).as("slots of the master to kill").isGreaterThan(5000);

        Load load = new Load(affectedSlots);
        ClusterWatch watch = new ClusterWatch(replica, survivors);
        long killedAt;
        long stoppedAt;
        load.start();
        try {
            Thread.sleep(LOAD_BEFORE_KILL.toMillis());
            // a busy machine may need longer for a fair share of operations before the kill
            await().atMost(Duration.ofSeconds(10)).until(() -> load.operations() >= 1000);
            watch.start();
            load.killStartedAt = System.nanoTime();
            load.killing = true;
            victim.kill();
            killedAt = System.nanoTime();
            long cap = killedAt + HARD_CAP.toNanos();
            while (System.nanoTime() - cap < 0) {
                long lastError = Math.max(killedAt, load.lastAffectedError.get());
                if (load.lastAffectedWriteOk.get() - lastError > 0
                        && System.nanoTime() - lastError >= RECOVERED_FOR.toNanos()) {
                    break;
                }
                Thread.sleep(50);
            }
            stoppedAt = System.nanoTime();
        } finally {
            load.stop();
            watch.stop();
        }
        ReadBack readBack = load.readBack();

        // --- what happened, in ms after SIGKILL was sent (killedAt: once the process is known dead)
        List<Op> ops = load.ops();
        long killStartedAt = load.killStartedAt;
        List<Op> beforeKill = ops.stream().filter(o -> o.end - killStartedAt < 0).toList();
        List<Op> afterKill = ops.stream().filter(o -> o.end - killStartedAt >= 0).toList();
        List<Op> affectedErrors = afterKill.stream().filter(o -> o.affected && o.error != null).toList();
        List<Op> otherErrors = afterKill.stream().filter(o -> !o.affected && o.error != null).toList();
        long affectedOps = afterKill.stream().filter(o -> o.affected).count();
        long otherOps = afterKill.size() - affectedOps;
        Long firstWriteOk = afterKill.stream()
                .filter(o -> o.affected && o.write && o.error == null && o.start - killedAt >= 0)
                .map(o -> o.end).min(Long::compare).orElse(null);
        Map<String, Long> errorTexts = ops.stream().filter(o -> o.error != null)
                .collect(Collectors.groupingBy(o -> (o.affected ? "affected " : "other ") + o.error,
                        TreeMap::new, Collectors.counting()));
        long maxLatencyMillis = ops.stream().mapToLong(o -> o.end - o.start).max().orElse(0) / 1_000_000;
        long errors = ops.stream().filter(o -> o.error != null).count();

        System.out.println("[ClusterFailoverIT] killed " + victim.address() + " (" + affectedSlots.cardinality()
                + " slots), replica " + replica.address()
                + "; replica master after " + ms(watch.promotedAt.get(), killStartedAt)
                + ", known to the other masters after " + ms(watch.knownAt.get(), killStartedAt)
                + "; cluster_state:fail on " + survivors.get(0).address() + " " + ms(watch.downFrom.get(), killStartedAt)
                + ".." + ms(watch.downTo.get(), killStartedAt)
                + "; affected-slot errors " + (affectedErrors.isEmpty() ? "none" : ms(affectedErrors.get(0).end, killStartedAt)
                        + ".." + ms(affectedErrors.stream().mapToLong(o -> o.end).max().orElseThrow(), killStartedAt))
                + "; first affected write ok after " + ms(firstWriteOk, killStartedAt) + " ("
                        + (firstWriteOk == null || watch.knownAt.get() == 0 ? "?" : ms(firstWriteOk, watch.knownAt.get()))
                        + " after the other masters knew the promotion)"
                + "; other-slot errors " + (otherErrors.isEmpty() ? "none" : ms(otherErrors.get(0).end, killStartedAt)
                        + ".." + ms(otherErrors.stream().mapToLong(o -> o.end).max().orElseThrow(), killStartedAt))
                + "; load stopped at " + ms(stoppedAt, killStartedAt)
                + "; errors " + errors + "/" + ops.size() + " ops (affected " + affectedErrors.size() + "/" + affectedOps
                + ", other " + otherErrors.size() + "/" + otherOps + " after the kill, " + beforeKill.stream()
                        .filter(o -> o.error != null).count() + "/" + beforeKill.size() + " before)"
                + "; max latency " + maxLatencyMillis + " ms"
                + "; lost acked writes " + readBack.lost + "/" + readBack.keys + " keys (" + readBack.lostAffected
                + " on the killed master's slots), stale reads after an acked SET " + load.staleReads()
                + "; error texts " + errorTexts);

        assertThat(beforeKill).as("operations before the kill").allSatisfy(o -> assertThat(o.error).isNull());
        // The proxy never hangs: a dead node fails its commands at once (connection reset or refused),
        // and nothing waits longer than the command timeout.
        assertThat(maxLatencyMillis).as("slowest operation (ms)").isLessThanOrEqualTo(COMMAND_TIMEOUT.toMillis() + 1000);
        // The proxy rides through: the slots are served again once the cluster has promoted the
        // replica (node timeout, then gossip and the election: measured 3.1 to 4.4 s with a 2 s node
        // timeout) and the proxy has re-read its slot map (failed connects to the dead master make it
        // re-read: measured -30 to 600 ms after the other masters knew; with only the 5 s periodic
        // refresh it was 0.3 to 5.0 s, depending on the timer's phase).
        // The proxy's part is counted from when every surviving master names the new master: a
        // refresh that reads CLUSTER SLOTS a moment before that rightly gets the old map.
        // Each part is bounded on its own, the sum too.
        assertThat(firstWriteOk).as("a write to the killed master's slots succeeded again").isNotNull();
        assertThat(watch.failure).as("polling the replica and a surviving master").isNull();
        assertThat(watch.promotedAt.get()).as("the replica was promoted").isNotZero();
        assertThat((watch.promotedAt.get() - killStartedAt) / 1_000_000).as("ms from the kill to the promotion (the cluster's part)")
                .isLessThanOrEqualTo(NODE_TIMEOUT_MILLIS * 3);
        assertThat(watch.knownAt.get()).as("the other masters learned of the promotion").isNotZero();
        assertThat((firstWriteOk - watch.knownAt.get()) / 1_000_000)
                .as("ms from the masters knowing the new master to the first write to its slots (the proxy's part)")
                .isLessThanOrEqualTo(PROXY_REFRESH_MILLIS + 1000);
        assertThat((firstWriteOk - killStartedAt) / 1_000_000).as("ms from the kill to the first write to its slots")
                .isLessThanOrEqualTo(NODE_TIMEOUT_MILLIS * 3 + PROXY_REFRESH_MILLIS + 1000);
        // Only these errors reach clients: the proxy's own for the dead node, and the cluster's
        // CLUSTERDOWN while a slot's master is failed and not yet replaced. A MOVED or ASK reaching
        // the client, a timeout or a dropped connection would be a bug.
        String deadNode = "-ERR backend unavailable: pool main, node " + victim.address();
        assertThat(affectedErrors).as("errors on the killed master's slots")
                .allSatisfy(o -> assertThat(o.error).isIn(deadNode, "-CLUSTERDOWN The cluster is down"));
        // The other masters answer CLUSTERDOWN from the moment the cluster marks the master failed
        // (cluster-require-full-coverage, on by default) until the replica replaces it: Redis's own
        // answer, passed on as it is; measured 0.8 to 1.2 s (8 to 14% of their operations), ending
        // within 30 ms of the promotion. Nothing else.
        assertThat(otherErrors).as("errors on the other masters' slots")
                .allSatisfy(o -> assertThat(o.error).isEqualTo("-CLUSTERDOWN The cluster is down"));
        if (!otherErrors.isEmpty()) {
            long last = otherErrors.stream().mapToLong(o -> o.end).max().orElseThrow();
            assertThat(watch.promotedAt.get()).isNotZero();
            assertThat((last - watch.promotedAt.get()) / 1_000_000)
                    .as("ms from the promotion to the last CLUSTERDOWN on other slots").isLessThanOrEqualTo(1000);
        }
        assertThat(readBack.unreadable).as("keys that could not be read back").isZero();
        assertThat(readBack.foreign).as("keys holding a value never written to them").isZero();
        // Replication is asynchronous: the killed master may have acknowledged a few writes its replica
        // had not received yet, which the promoted replica then lacks. That is Redis Cluster's
        // documented trade-off, not the proxy's doing: reported, and bounded here (each client has
        // one write in flight and the replica lags by well under a millisecond on loopback; none was
        // lost in the runs measured).
        assertThat(readBack.lost).as("acknowledged writes lost").isLessThanOrEqualTo(readBack.keys / 100);
    }

    private static String ms(Long nanos, long since) {
        return nanos == null || nanos == 0 ? "never" : ((nanos - since) / 1_000_000) + " ms";
    }

    /** The slots of the {@code myself} line of a {@code CLUSTER NODES} reply. */
    private static BitSet slotsOfMyself(String clusterNodes) {
        BitSet slots = new BitSet(KeySlot.SLOTS);
        for (String line : clusterNodes.split("\r?\n")) {
            String[] fields = line.split(" ");
            if (fields.length > 2 && fields[2].contains("myself")) {
                for (int i = 8; i < fields.length; i++) {
                    if (fields[i].startsWith("[")) {
                        continue;   // a slot being migrated
                    }
                    String[] range = fields[i].split("-");
                    int from = Integer.parseInt(range[0]);
                    int to = Integer.parseInt(range[range.length - 1]);
                    slots.set(from, to + 1);
                }
            }
        }
        return slots;
    }

    /** The node that a {@code CLUSTER NODES} reply of a master lists as its replica. */
    private static LocalRedisServer replicaOf(String clusterNodes) {
        String myId = null;
        for (String line : clusterNodes.split("\r?\n")) {
            String[] fields = line.split(" ");
            if (fields.length > 2 && fields[2].contains("myself")) {
                myId = fields[0].replaceFirst("^\\$\\d+", "").trim();
            }
        }
        for (String line : clusterNodes.split("\r?\n")) {
            String[] fields = line.split(" ");
            if (fields.length > 3 && fields[2].contains("slave") && fields[3].equals(myId)) {
                int port = Integer.parseInt(fields[1].substring(fields[1].lastIndexOf(':') + 1, fields[1].indexOf('@')));
                return cluster.nodes().stream().filter(n -> n.port() == port).findFirst().orElseThrow();
            }
        }
        throw new AssertionError("no replica of " + myId + " in\n" + clusterNodes);
    }

    /** One command as a client saw it: when it was sent and answered, and the error (null: it succeeded). */
    private record Op(boolean affected, boolean write, long start, long end, String error) {
    }

    /** What reading every key back after the failover found. */
    private record ReadBack(int keys, int lost, int lostAffected, int unreadable, int foreign) {
    }

    /**
     * {@value #CLIENTS} clients, each on its own connection to the proxy, writing ({@code SET key
     * key#seq}) and reading back its own {@value #KEYS_PER_CLIENT} keys in turn until stopped. Every
     * command is recorded; each key's last acknowledged and last attempted write are kept, so that
     * the value found at the end can be judged (an unacknowledged write may have been applied).
     */
    private final class Load {
        final BitSet affectedSlots;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong lastAffectedError = new AtomicLong();
        final AtomicLong lastAffectedWriteOk = new AtomicLong();
        final List<Client> clients = new ArrayList<>();
        /** Set just before the kill: from then on, errors and writes on the affected slots are tracked. */
        volatile boolean killing;
        long killStartedAt;

        Load(BitSet affectedSlots) {
            this.affectedSlots = affectedSlots;
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(new Client(c));
            }
        }

        void start() {
            clients.forEach(c -> c.thread.start());
        }

        void stop() throws InterruptedException {
            stop.set(true);
            for (Client c : clients) {
                c.thread.join(TimeUnit.SECONDS.toMillis(10));
                assertThat(c.thread.isAlive()).as(c.thread.getName() + " still running").isFalse();
            }
        }

        long operations() {
            return clients.stream().mapToLong(c -> c.count).sum();
        }

        long staleReads() {
            return clients.stream().mapToLong(c -> c.staleReads).sum();
        }

        List<Op> ops() {
            List<Op> all = new ArrayList<>();
            clients.forEach(c -> all.addAll(c.ops));
            all.sort((a, b) -> Long.compare(a.end, b.end));
            return all;
        }

        ReadBack readBack() {
            int keys = 0;
            int lost = 0;
            int lostAffected = 0;
            int unreadable = 0;
            int foreign = 0;
            List<String> examples = new ArrayList<>();
            try (RawRedisClient client = proxy.connect()) {
                for (Client c : clients) {
                    for (int i = 0; i < KEYS_PER_CLIENT; i++) {
                        if (c.attempted[i] == 0) {
                            continue;
                        }
                        keys++;
                        String key = c.keys[i];
                        String reply = client.callString("GET", key);
                        long seq;
                        if (reply.equals("$-1\r\n")) {
                            seq = 0;
                        } else if (reply.startsWith("$") && reply.contains("\r\n" + key + "#")) {
                            seq = Long.parseLong(reply.substring(reply.indexOf('#') + 1, reply.length() - 2));
                        } else if (reply.startsWith("$")) {
                            foreign++;
                            continue;
                        } else {
                            unreadable++;
                            examples.add(key + " -> " + reply.trim());
                            continue;
                        }
                        // Lost: older than the last acknowledged write (an unacknowledged one may have landed).
                        if (seq < c.acked[i] || seq > c.attempted[i]) {
                            lost++;
                            if (c.affected[i]) {
                                lostAffected++;
                            }
                            if (examples.size() < 5) {
                                examples.add(key + " acked #" + c.acked[i] + " found #" + seq);
                            }
                        }
                    }
                }
            }
            if (!examples.isEmpty()) {
                System.out.println("[ClusterFailoverIT] read back: " + examples);
            }
            return new ReadBack(keys, lost, lostAffected, unreadable, foreign);
        }

        /** One client: its keys, its connection (reopened after an exception) and what it saw. */
        private final class Client {
            final Thread thread;
            final String[] keys = new String[KEYS_PER_CLIENT];
            final boolean[] affected = new boolean[KEYS_PER_CLIENT];
            final long[] acked = new long[KEYS_PER_CLIENT];
            final long[] attempted = new long[KEYS_PER_CLIENT];
            final List<Op> ops = new ArrayList<>();
            volatile long count;
            long staleReads;
            private RawRedisClient connection;

            Client(int id) {
                for (int i = 0; i < KEYS_PER_CLIENT; i++) {
                    keys[i] = "failover:" + id + ":" + i;
                    affected[i] = affectedSlots.get(KeySlot.slot(keys[i].getBytes(StandardCharsets.UTF_8)));
                }
                thread = new Thread(this::run, "cluster-failover-it-" + id);
            }

            private void run() {
                try {
                    long seq = 0;
                    for (int i = 0; !stop.get(); i = (i + 1) % KEYS_PER_CLIENT) {
                        String value = keys[i] + "#" + (++seq);
                        attempted[i] = seq;
                        Reply set = call(i, true, "SET", keys[i], value);
                        if (set.ok()) {
                            acked[i] = seq;
                        }
                        Reply get = call(i, false, "GET", keys[i]);
                        String expected = "$" + value.length() + "\r\n" + value + "\r\n";
                        if (set.ok() && get.ok() && !get.text.equals(expected)) {
                            staleReads++;
                        }
                    }
                } finally {
                    if (connection != null) {
                        connection.close();
                    }
                }
            }

            private record Reply(String text, String error) {
                boolean ok() {
                    return error == null;
                }
            }

            private Reply call(int i, boolean write, String... command) {
                long start = System.nanoTime();
                String text = null;
                String error;
                try {
                    if (connection == null) {
                        // well above the command timeout: a missing reply shows as a slow operation
                        connection = proxy.connect().timeout(COMMAND_TIMEOUT.multipliedBy(3));
                    }
                    text = connection.callString(command);
                    error = text.startsWith("-") ? text.trim() : null;
                } catch (RuntimeException e) {
                    error = e.getClass().getSimpleName() + ": " + e.getMessage()
                            + (e.getCause() == null ? "" : " (" + e.getCause() + ")");
                    connection.close();
                    connection = null;
                }
                long end = System.nanoTime();
                ops.add(new Op(affected[i], write, start, end, error));
                count++;
                if (affected[i] && killing) {
                    if (error != null) {
                        lastAffectedError.accumulateAndGet(end, Math::max);
                    } else if (write) {
                        lastAffectedWriteOk.accumulateAndGet(end, Math::max);
                    }
                }
                return new Reply(text, error);
            }
        }
    }

    /**
     * Polls, every 20 ms, the killed master's replica (when does it become master?) and the surviving
     * masters: when the first of them sees {@code cluster_state:fail} and {@code ok} again, and when
     * all of them name the replica a master (from then on, any CLUSTER SLOTS the proxy reads has it).
     */
    private static final class ClusterWatch {
        final AtomicLong promotedAt = new AtomicLong();
        final AtomicLong downFrom = new AtomicLong();
        final AtomicLong downTo = new AtomicLong();
        final AtomicLong knownAt = new AtomicLong();
        /** What ended the polling early, or null. */
        volatile RuntimeException failure;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        ClusterWatch(LocalRedisServer replica, List<LocalRedisServer> survivors) {
            String replicaAddress = " " + replica.address() + "@";
            thread = new Thread(() -> {
                List<RawRedisClient> others = new ArrayList<>();
                try (RawRedisClient r = RawRedisClient.connect(replica.host(), replica.port())) {
                    survivors.forEach(s -> others.add(RawRedisClient.connect(s.host(), s.port())));
                    while (!stop.get()) {
                        if (promotedAt.get() == 0 && r.callString("ROLE").startsWith("*3\r\n$6\r\nmaster")) {
                            promotedAt.set(System.nanoTime());
                        }
                        boolean down = others.get(0).callString("CLUSTER", "INFO").contains("cluster_state:fail");
                        if (down && downFrom.get() == 0) {
                            downFrom.set(System.nanoTime());
                        } else if (!down && downFrom.get() != 0 && downTo.get() == 0) {
                            downTo.set(System.nanoTime());
                        }
                        if (promotedAt.get() != 0 && knownAt.get() == 0 && others.stream().allMatch(o ->
                                o.callString("CLUSTER", "NODES").lines().anyMatch(line -> line.contains(replicaAddress)
                                        && line.split(" ")[2].contains("master")))) {
                            knownAt.set(System.nanoTime());
                        }
                        Thread.sleep(20);
                    }
                } catch (RuntimeException e) {
                    failure = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    others.forEach(RawRedisClient::close);
                }
            }, "cluster-failover-it-watch");
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            stop.set(true);
            thread.join(TimeUnit.SECONDS.toMillis(10));
        }
    }
}
