package io.cacheproxy.it;

import static io.cacheproxy.it.ReplicationChecker.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.cacheproxy.it.ReplicationChecker.ErrorReply;
import io.cacheproxy.it.ReplicationChecker.History;
import io.cacheproxy.it.ReplicationChecker.LostWrite;
import io.cacheproxy.it.ReplicationChecker.Result;
import io.cacheproxy.it.ReplicationChecker.Running;
import io.cacheproxy.it.ReplicationChecker.Session;
import io.cacheproxy.it.ReplicationChecker.StaleRead;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The replication checker itself, with no sockets: hand-built histories with known anomalies, and
 * full runs against in-memory stores that are correct, fail now and then, go away, or lose their
 * data. If these pass, a zero from a failover test means something. {@code ReplicationCheckerIT}
 * runs it against a real {@code redis-server}.
 */
@Timeout(60)
class ReplicationCheckerTest {
    private static final long MS = 1_000_000L;
    private static final String OK = null;
    private static final long ROUND_TRIP_NANOS = 20_000L;

    // ---- hand-built histories: times in ms from an arbitrary origin ----

    @Test
    void shouldReportAReadOlderThanTheLatestAcknowledgedWrite() {
        History h = new History();
        h.write("t0", "k", 1, 90 * MS, 100 * MS, OK);
        h.write("t0", "k", 2, 190 * MS, 200 * MS, OK);
        h.read("t0", "k", value("k", 1), 250 * MS, 251 * MS, OK);
        h.read("t0", "k", null, 260 * MS, 261 * MS, OK); // missing = version 0

        Result r = h.check();

        assertThat(r.stale()).as(r.report()).isEqualTo(2);
        assertThat(r.violations()).isEqualTo(2);
        assertThat(r.staleReads()).extracting(StaleRead::key, StaleRead::version, StaleRead::expectedVersion,
                        StaleRead::lag, StaleRead::unacknowledged)
                .containsExactly(tuple("k", 1L, 2L, Duration.ofMillis(50), false),
                        tuple("k", 0L, 2L, Duration.ofMillis(60), false));
        assertThat(r.samples()).first().asString().startsWith("stale: GET k by t0")
                .contains("returned \"1@k\"").contains("version 2 was acknowledged");
    }

    @Test
    void shouldNotCountAReadThatOverlapsAWriteAsStale() {
        History h = new History();
        h.write("w", "k", 1, 90 * MS, 100 * MS, OK);
        h.write("w", "k", 2, 190 * MS, 200 * MS, OK);
        h.read("r", "k", value("k", 1), 150 * MS, 151 * MS, OK); // before version 2 was sent
        h.read("r", "k", value("k", 1), 195 * MS, 196 * MS, OK); // version 2 in flight
        h.read("r", "k", value("k", 2), 195 * MS, 196 * MS, OK); // applied, not yet acknowledged
        h.read("r", "k", value("k", 1), 200 * MS, 201 * MS, OK); // began at the very instant of the ack
        h.read("r", "k", null, 50 * MS, 51 * MS, OK); // before any write
        h.read("r", "k", value("k", 2), 300 * MS, 301 * MS, OK);

        Result r = h.check();

        assertThat(r.violations()).as(r.report()).isZero();
        assertThat(r.reads()).isEqualTo(6);
        assertThat(r.writes()).isEqualTo(2);
        assertThat(r.ackedWrites()).isEqualTo(2);
        assertThat(r.ops()).isEqualTo(8);
    }

    @Test
    void shouldAcceptButNeverRequireTheVersionOfAWriteWhoseOutcomeIsUnknown() {
        History h = new History();
        h.write("t0", "a", 1, 90 * MS, 100 * MS, OK);
        h.write("t0", "a", 2, 190 * MS, 1190 * MS, "SocketTimeoutException: Read timed out");
        h.read("t0", "a", value("a", 2), 1200 * MS, 1201 * MS, OK); // it was applied after all
        h.read("t0", "a", value("a", 1), 1210 * MS, 1211 * MS, OK); // or not: 1 is the latest acknowledged
        h.write("t0", "b", 1, 90 * MS, 100 * MS, OK);
        h.write("t0", "b", 2, 190 * MS, 200 * MS, "-ERR backend unavailable: pool main, node 127.0.0.1:7001");
        h.finalRead("a", value("a", 2)); // the final value may be the unknown one
        h.finalRead("b", value("b", 1)); // or the acknowledged one

        Result r = h.check();

        assertThat(r.violations()).as(r.report()).isZero();
        assertThat(r.ackedWrites()).isEqualTo(2);
        assertThat(r.errors()).isEqualTo(2);
        assertThat(r.verifiedKeys()).isEqualTo(2);
    }

    @Test
    void shouldReportAFailedWriteAppliedOverANewerAcknowledgedOne() {
        History h = new History();
        h.write("t0", "k", 1, 90 * MS, 1090 * MS, "SocketTimeoutException: Read timed out");
        h.write("t0", "k", 2, 1100 * MS, 1101 * MS, OK);
        h.read("t0", "k", value("k", 1), 1200 * MS, 1201 * MS, OK); // version 1 landed late, over 2
        h.finalRead("k", value("k", 1));

        Result r = h.check();

        assertThat(r.stale()).as(r.report()).isEqualTo(1);
        assertThat(r.staleReads()).singleElement().extracting(StaleRead::unacknowledged).isEqualTo(true);
        assertThat(r.lost()).isEqualTo(1);
        assertThat(r.violations()).isEqualTo(2);
    }

    @Test
    void shouldReportLostWritesFromTheFinalReads() {
        History h = new History();
        h.write("t0", "a", 1, 90 * MS, 100 * MS, OK);
        h.write("t0", "a", 2, 190 * MS, 200 * MS, OK);
        h.write("t0", "b", 1, 90 * MS, 100 * MS, OK);
        h.write("t0", "c", 1, 90 * MS, 100 * MS, OK);
        h.write("t0", "d", 1, 90 * MS, 100 * MS, "EOFException: connection closed by peer");
        h.incr("t0", "n", 1L, 300 * MS, 301 * MS, OK);
        h.incr("t0", "n", 2L, 310 * MS, 311 * MS, OK);
        h.finalRead("a", value("a", 1)); // lost version 2
        h.finalRead("b", null); // lost everything (a node restarted empty)
        h.finalRead("c", value("c", 1));
        h.finalRead("d", null); // never acknowledged: nothing lost
        h.finalCounter("n", "1"); // lost one INCR

        Result r = h.check();

        assertThat(r.lost()).as(r.report()).isEqualTo(3);
        assertThat(r.lostWrites()).extracting(LostWrite::key, LostWrite::finalVersion, LostWrite::ackedVersion,
                        LostWrite::counter)
                .containsExactlyInAnyOrder(tuple("a", 1L, 2L, false), tuple("b", 0L, 1L, false),
                        tuple("n", 1L, 2L, true));
        assertThat(r.stale()).isZero();
        assertThat(r.violations()).isEqualTo(3);
        assertThat(r.samples()).anyMatch(s -> s.startsWith("lost: the final GET a returned version 1, but version 2"));
    }

    @Test
    void shouldRequireExactIncrRepliesUntilOneFails() {
        History h = new History();
        h.incr("t0", "n", 1L, 10 * MS, 11 * MS, OK);
        h.incr("t0", "n", 2L, 20 * MS, 21 * MS, OK);
        h.incr("t0", "n", 4L, 30 * MS, 31 * MS, OK); // applied twice (a retried INCR): mismatch

        Result r = h.check();

        assertThat(r.incrMismatches()).as(r.report()).isEqualTo(1);
        assertThat(r.incrs()).isEqualTo(3);
        assertThat(r.samples()).singleElement().asString().startsWith("incr: INCR n by t0")
                .contains("expected exactly 3");
    }

    @Test
    void shouldBoundIncrRepliesAndResyncsAfterAFailure() {
        History h = new History();
        h.incr("t0", "n", 1L, 10 * MS, 11 * MS, OK);
        h.incr("t0", "n", 2L, 20 * MS, 21 * MS, OK);
        h.incr("t0", "n", null, 30 * MS, 31 * MS, "-ERR backend unavailable"); // 3 attempted, 2 acked
        h.readCounter("t0", "n", "3", 40 * MS, 41 * MS, OK); // applied: fine
        h.incr("t0", "n", 3L, 50 * MS, 51 * MS, OK); // 4 attempted, 3 acked: 3..4 fine
        h.incr("t0", "n", 5L, 60 * MS, 61 * MS, OK); // 5 attempted, 4 acked: 4..5 fine
        h.incr("t0", "n", 1L, 70 * MS, 71 * MS, OK); // the counter restarted empty: below 5 acked
        h.readCounter("t0", "n", null, 80 * MS, 81 * MS, OK); // missing = 0 < 5
        h.readCounter("t0", "n", "99", 90 * MS, 91 * MS, OK); // more than attempted
        h.finalCounter("n", "42"); // more than attempted

        Result r = h.check();

        assertThat(r.incrMismatches()).as(r.report()).isEqualTo(4);
        assertThat(r.lost()).isZero();
        assertThat(r.violations()).isEqualTo(4);
        assertThat(r.samples()).anyMatch(s -> s.contains("INCR n") && s.contains("expected 5..6"));
    }

    @Test
    void shouldReportMalformedAndFutureValues() {
        History h = new History();
        h.write("t0", "a", 1, 90 * MS, 100 * MS, OK);
        h.write("t0", "b", 1, 90 * MS, 100 * MS, OK);
        h.write("t0", "b", 2, 500 * MS, 510 * MS, OK);
        h.read("t0", "a", value("b", 1), 150 * MS, 151 * MS, OK); // another key's value
        h.read("t0", "a", "garbage", 160 * MS, 161 * MS, OK);
        h.read("t0", "b", value("b", 2), 170 * MS, 171 * MS, OK); // sent only at 500 ms
        h.read("t0", "b", value("b", 7), 180 * MS, 181 * MS, OK); // never written
        h.readCounter("t0", "n", "x", 190 * MS, 191 * MS, OK);
        h.finalRead("a", value("a", 9)); // never written
        h.finalRead("b", "junk");

        Result r = h.check();

        assertThat(r.malformed()).as(r.report()).isEqualTo(4);
        assertThat(r.future()).as(r.report()).isEqualTo(3);
        assertThat(r.violations()).isEqualTo(7);
    }

    @Test
    void shouldCountErrorsTheirTextsAndWhenTheyHappened() {
        History h = new History();
        h.begin(0);
        h.mark("kill", 1000 * MS);
        h.write("t0", "k", 1, 10 * MS, 11 * MS, OK);
        for (int i = 0; i < 5; i++) {
            h.read("t0", "k", null, (1001 + i) * MS, (1002 + i) * MS, "-ERR backend unavailable: pool main");
        }
        h.write("t1", "j", 1, 1100 * MS, 2100 * MS, "SocketTimeoutException: Read timed out");
        h.incr("t1", "n", null, 2200 * MS, 2250 * MS, "connect: ConnectException: Connection refused");
        for (int i = 0; i < 92; i++) {
            h.read("t0", "k", value("k", 1), (3000 + i) * MS, (3000 + i) * MS + 10_000, OK);
        }
        h.end(4000 * MS);

        Result r = h.check();

        assertThat(r.violations()).as(r.report()).isZero();
        assertThat(r.ops()).isEqualTo(100);
        assertThat(r.errors()).isEqualTo(7);
        assertThat(r.errorReplies()).isEqualTo(5);
        assertThat(r.exceptions()).isEqualTo(2);
        assertThat(r.errorRatio()).isEqualTo(0.07);
        assertThat(r.errorTexts()).containsExactly(Map.entry("-ERR backend unavailable: pool main", 5L),
                Map.entry("SocketTimeoutException: Read timed out", 1L),
                Map.entry("connect: ConnectException: Connection refused", 1L));
        assertThat(r.firstError()).isEqualTo(Duration.ofMillis(1002));
        assertThat(r.lastError()).isEqualTo(Duration.ofMillis(2250));
        assertThat(r.errorSpan()).isEqualTo(Duration.ofMillis(1248));
        assertThat(r.maxLatency()).isEqualTo(Duration.ofSeconds(1));
        assertThat(r.slowestOp()).startsWith("SET j 1 by t1 from +1.100 s to +2.100 s returned failed: SocketTimeout");
        assertThat(r.elapsed()).isEqualTo(Duration.ofSeconds(4));
        assertThat(r.marks()).singleElement().asString().isEqualTo("kill at +1.000 s");
        assertThat(r.toString()).doesNotContain("\n").contains("errors=7 (7.000%").contains("violations=0");
        assertThat(r.report()).contains("mark: kill at +1.000 s")
                .contains("error x5: -ERR backend unavailable: pool main");
    }

    @Test
    void shouldCountUnverifiedKeysAndProblemsAsViolations() {
        History h = new History();
        h.write("t0", "k", 1, 10 * MS, 11 * MS, OK);
        h.unverified("k", "SocketTimeoutException: Read timed out");
        h.problem("t3 did not stop");

        Result r = h.check();

        assertThat(r.unverified()).isEqualTo(1);
        assertThat(r.problems()).containsExactly("t3 did not stop");
        assertThat(r.violations()).isEqualTo(2);
        assertThat(r.report()).contains("unverified: the final GET k kept failing").contains("problem: t3 did not stop");
    }

    @Test
    void shouldRejectHistoriesItCannotCheck() {
        History twice = new History();
        twice.write("t0", "k", 1, 10 * MS, 11 * MS, OK);
        twice.write("t1", "k", 1, 20 * MS, 21 * MS, OK);
        assertThatThrownBy(twice::check).isInstanceOf(IllegalStateException.class).hasMessageContaining("written twice");

        History backwards = new History();
        backwards.write("t0", "k", 2, 10 * MS, 11 * MS, OK);
        backwards.write("t1", "k", 1, 20 * MS, 21 * MS, OK);
        assertThatThrownBy(backwards::check).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("one writer per key");

        assertThatThrownBy(() -> new History().incr("t0", "n", null, 0, 1, OK))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ReplicationChecker("x", new Store()::open).threads(0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---- full runs, threads and all, against in-memory stores ----

    private static ReplicationChecker checker(Store store) {
        return new ReplicationChecker("mem", store::open).threads(4).keysPerThread(20)
                .reconnectBackoff(Duration.ofMillis(5)).finalTimeout(Duration.ofSeconds(3));
    }

    @Test
    void shouldFindNothingWrongWithACorrectStore() {
        Store store = new Store();
        store.data.put("rc:0:3", "left over from an earlier run");
        ReplicationChecker checker = checker(store).duration(Duration.ofMillis(500));

        Result r = checker.run();

        assertThat(r.violations()).as(r.report()).isZero();
        assertThat(r.errors()).isZero();
        assertThat(r.errorTexts()).isEmpty();
        assertThat(r.firstError()).isNull();
        assertThat(r.ops()).isGreaterThan(1000);
        assertThat(r.ackedWrites()).isGreaterThan(300);
        assertThat(r.reads()).isGreaterThan(300);
        assertThat(r.incrs()).isGreaterThan(50);
        assertThat(r.ops()).isEqualTo(r.writes() + r.reads() + r.incrs());
        assertThat(r.verifiedKeys()).isEqualTo(4 * 21).isEqualTo(checker.keys().size());
        assertThat(r.keys()).isEqualTo(84);
        assertThat(checker.keys()).contains("rc:0:0", "rc:3:19", "rc:0:n", "rc:3:n").doesNotHaveDuplicates();
        assertThat(r.elapsed()).isBetween(Duration.ofMillis(450), Duration.ofSeconds(3));
    }

    @Test
    void shouldCountErrorRepliesAndBrokenConnectionsWithoutStopping() {
        Store store = new Store();
        store.failPercent = 2; // each failure: an error reply or a broken connection, applied or not

        Result r = checker(store).duration(Duration.ofMillis(500)).run();

        assertThat(r.violations()).as(r.report()).isZero();
        assertThat(r.errors()).as(r.report()).isGreaterThan(20);
        assertThat(r.errorReplies()).isPositive();
        assertThat(r.exceptions()).isPositive();
        assertThat(r.errorTexts()).containsKeys("-ERR injected", "SocketException: Connection reset");
        assertThat(r.errorRatio()).isBetween(0.005, 0.05);
        assertThat(r.ops()).as("the run went on").isGreaterThan(1000);
        assertThat(store.opened.get()).as("connections reopened").isGreaterThan(5);
    }

    @Test
    void shouldKeepGoingWhileTheStoreIsUnreachableAndTimeTheErrors() {
        Store store = new Store();
        Running run = checker(store).duration(Duration.ofSeconds(20)).start();
        LockSupport.parkNanos(200 * MS);
        run.mark("down");
        store.down.set(true);
        LockSupport.parkNanos(200 * MS);
        assertThat(run.errors()).isPositive();
        run.mark("up");
        store.down.set(false);
        LockSupport.parkNanos(200 * MS);
        long start = System.nanoTime();
        Result r = run.stop();

        assertThat(System.nanoTime() - start).as("stop() ends the run early").isLessThan(5_000 * MS);
        assertThat(r.violations()).as(r.report()).isZero();
        assertThat(r.errorTexts()).containsKey("connect: ConnectException: Connection refused");
        Duration down = r.marks().get(0).at();
        Duration up = r.marks().get(1).at();
        assertThat(r.firstError()).as(r.report()).isBetween(down, up);
        assertThat(r.lastError()).as(r.report()).isBetween(down, up.plusMillis(50));
        assertThat(r.elapsed()).isBetween(Duration.ofMillis(550), Duration.ofSeconds(5));
        assertThat(run.stop()).isSameAs(r);
    }

    @Test
    void shouldCatchAStoreThatLosesItsData() {
        Store store = new Store();
        Running run = checker(store).stepPause(Duration.ofMillis(1)).duration(Duration.ofSeconds(20)).start();
        LockSupport.parkNanos(300 * MS);
        store.down.set(true);
        store.data.clear(); // "restarted empty"
        LockSupport.parkNanos(20 * MS);
        store.down.set(false);
        LockSupport.parkNanos(60 * MS);
        Result r = run.stop();

        assertThat(r.errors()).as(r.report()).isPositive();
        assertThat(r.lost()).as(r.report()).isPositive();
        assertThat(r.stale()).as(r.report()).isPositive();
        assertThat(r.incrMismatches()).as(r.report()).isPositive();
        assertThat(r.violations()).isPositive();
    }

    @Test
    void shouldReportKeysTheFinalReadCannotReachAsUnverified() {
        Store store = new Store();
        Running run = checker(store).finalTimeout(Duration.ofMillis(300)).duration(Duration.ofSeconds(20)).start();
        LockSupport.parkNanos(100 * MS);
        store.down.set(true);
        long start = System.nanoTime();
        Result r = run.stop();

        assertThat(System.nanoTime() - start).as("bounded by the final timeout").isLessThan(3_000 * MS);
        assertThat(r.unverified()).as(r.report()).isEqualTo(84);
        assertThat(r.verifiedKeys()).isZero();
        assertThat(r.violations()).isEqualTo(84);
        assertThat(r.samples()).first().asString().startsWith("unverified: the final GET rc:0:0 kept failing")
                .contains("Connection refused");
    }

    @Test
    void shouldFailToStartWhenTheEndpointIsUnreachable() {
        Store store = new Store();
        store.down.set(true);
        assertThatThrownBy(() -> checker(store).start()).isInstanceOf(UncheckedIOException.class);
    }

    /**
     * A key-value store shared by every session of a test; each command takes a simulated round trip
     * of about 20 µs. While {@link #down}, connecting is refused and open sessions fail. With
     * {@link #failPercent}, that share of commands fails: half with an error reply, half with a
     * broken connection, and half of each after the command was applied.
     */
    private static final class Store {
        final Map<String, String> data = new ConcurrentHashMap<>();
        final AtomicBoolean down = new AtomicBoolean();
        final AtomicInteger opened = new AtomicInteger();
        volatile int failPercent;

        Session open() {
            if (down.get()) {
                throw new UncheckedIOException("cannot connect to mem", new ConnectException("Connection refused"));
            }
            opened.incrementAndGet();
            return new Session() {
                private boolean broken;

                @Override
                public void set(String key, String value) {
                    call(() -> data.put(key, value));
                }

                @Override
                public String get(String key) {
                    return call(() -> data.get(key));
                }

                @Override
                public long incr(String key) {
                    return Long.parseLong(call(() -> data.merge(key, "1",
                            (old, one) -> Long.toString(Long.parseLong(old) + 1))));
                }

                @Override
                public long del(String... keys) {
                    if (down.get()) {
                        throw new UncheckedIOException("write failed", new SocketException("Connection reset"));
                    }
                    long n = 0; // no failures injected: the checker's setup must not fail
                    for (String k : keys) {
                        n += data.remove(k) != null ? 1 : 0;
                    }
                    return n;
                }

                private <T> T call(Supplier<T> command) {
                    if (broken || down.get()) {
                        broken = true;
                        throw new UncheckedIOException("write failed", new SocketException("Connection reset"));
                    }
                    LockSupport.parkNanos(ROUND_TRIP_NANOS);
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    if (random.nextInt(100) >= failPercent) {
                        return command.get();
                    }
                    if (random.nextBoolean()) {
                        command.get(); // applied, but the client never learns it
                    }
                    if (random.nextBoolean()) {
                        throw new ErrorReply("ERR injected");
                    }
                    broken = true;
                    throw new UncheckedIOException("reading a reply failed", new SocketException("Connection reset"));
                }

                @Override
                public void close() {
                    broken = true;
                }
            };
        }
    }
}
