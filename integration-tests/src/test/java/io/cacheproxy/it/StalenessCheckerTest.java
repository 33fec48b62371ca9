package io.cacheproxy.it;

import static io.cacheproxy.it.StalenessChecker.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.cacheproxy.it.StalenessChecker.Endpoint;
import io.cacheproxy.it.StalenessChecker.History;
import io.cacheproxy.it.StalenessChecker.Result;
import io.cacheproxy.it.StalenessChecker.Session;
import io.cacheproxy.it.StalenessChecker.StaleRead;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The staleness checker itself, with no sockets: hand-built histories with known anomalies, and
 * full runs against in-memory stores that are linearizable or deliberately stale. If these pass,
 * a zero from {@link NearCacheIT} means something.
 */
class StalenessCheckerTest {
    private static final long MS = 1_000_000L;
    private static final long ROUND_TRIP_NANOS = 20_000L;

    // ---- hand-built histories: times in ms from an arbitrary origin ----

    @Test
    void shouldReportAReadOlderThanTheLatestAcknowledgedWrite() {
        History h = new History();
        h.write("k", 1, 90 * MS, 100 * MS, "w");
        h.write("k", 2, 190 * MS, 200 * MS, "w");
        h.read("k", value("k", 1), 250 * MS, 251 * MS, "r1");

        Result r = h.check();

        assertThat(r.stale()).isEqualTo(1);
        assertThat(r.violations()).isEqualTo(1);
        assertThat(r.maxStaleNanos()).isEqualTo(50 * MS);
        assertThat(r.samples()).singleElement().asString()
                .startsWith("stale: GET k by r1").contains("returned \"1@k\"").contains("version 2 was acknowledged");
    }

    @Test
    void shouldAcceptEitherVersionForAReadThatOverlapsTheWrite() {
        History h = new History();
        h.write("k", 1, 90 * MS, 100 * MS, "w");
        h.write("k", 2, 190 * MS, 200 * MS, "w");
        h.read("k", value("k", 1), 150 * MS, 151 * MS, "r1"); // before version 2 was sent
        h.read("k", value("k", 1), 195 * MS, 196 * MS, "r2"); // version 2 in flight
        h.read("k", value("k", 2), 195 * MS, 196 * MS, "r3"); // version 2 applied, not yet acknowledged
        h.read("k", value("k", 1), 200 * MS, 201 * MS, "r4"); // began at the very instant of the ack
        h.read("k", value("k", 2), 300 * MS, 301 * MS, "r5");

        Result r = h.check();

        assertThat(r.violations()).as(r.toString()).isZero();
        assertThat(r.regressions()).isZero();
        assertThat(r.reads()).isEqualTo(5);
        assertThat(r.writes()).isEqualTo(2);
    }

    @Test
    void shouldReportAMissingKeyAfterAnAcknowledgedWrite() {
        History h = new History();
        h.read("k", null, 50 * MS, 51 * MS, "r"); // before any write: fine
        h.write("k", 1, 90 * MS, 100 * MS, "w");
        h.read("k", null, 150 * MS, 151 * MS, "r");

        Result r = h.check();

        assertThat(r.stale()).as(r.toString()).isEqualTo(1);
        assertThat(r.samples()).singleElement().asString().contains("returned nil");
    }

    @Test
    void shouldReportAnotherKeysValueAndAVersionNotYetSent() {
        History h = new History();
        h.write("a", 1, 90 * MS, 100 * MS, "w");
        h.write("b", 1, 90 * MS, 100 * MS, "w");
        h.write("b", 2, 500 * MS, 510 * MS, "w");
        h.read("a", value("b", 1), 150 * MS, 151 * MS, "r"); // another key's value
        h.read("a", "garbage", 160 * MS, 161 * MS, "r");
        h.read("b", value("b", 2), 170 * MS, 171 * MS, "r"); // sent only at 500 ms
        h.read("b", value("b", 7), 180 * MS, 181 * MS, "r"); // never written

        Result r = h.check();

        assertThat(r.malformed()).as(r.toString()).isEqualTo(2);
        assertThat(r.future()).as(r.toString()).isEqualTo(2);
        assertThat(r.violations()).isEqualTo(4);
    }

    @Test
    void shouldCountAReadGoingBackwardsWithinOneSessionAsARegression() {
        History h = new History();
        h.write("k", 1, 90 * MS, 100 * MS, "w");
        h.write("k", 2, 190 * MS, 250 * MS, "w");
        h.read("k", value("k", 2), 200 * MS, 201 * MS, "same");
        h.read("k", value("k", 1), 210 * MS, 211 * MS, "same"); // not stale (2 not acknowledged), but backwards
        h.read("k", value("k", 1), 220 * MS, 221 * MS, "other"); // another session: fine

        Result r = h.check();

        assertThat(r.violations()).as(r.toString()).isZero();
        assertThat(r.regressions()).isEqualTo(1);
        assertThat(r.samples()).singleElement().asString().startsWith("regression: GET k by same");
    }

    @Test
    void shouldIgnoreAnUnacknowledgedWriteForStalenessButNotForFutureValues() {
        History h = new History();
        h.write("k", 1, 90 * MS, 100 * MS, "w");
        h.write("k", 2, 190 * MS, History.UNACKNOWLEDGED, "w"); // the writer's connection failed
        h.read("k", value("k", 1), 300 * MS, 301 * MS, "r");
        h.read("k", value("k", 2), 310 * MS, 311 * MS, "r");

        Result r = h.check();

        assertThat(r.violations()).as(r.toString()).isZero();
        assertThat(r.writes()).isEqualTo(1);
    }

    @Test
    void shouldListEachStaleReadWithItsEndpointsAndLag() {
        History h = new History();
        h.write("k", 1, 90 * MS, 100 * MS, "A/writer-0");
        h.write("k", 2, 190 * MS, 200 * MS, "A/writer-0");
        h.read("k", value("k", 1), 205 * MS, 206 * MS, "B/reader-3");
        h.read("k", value("k", 1), 230 * MS, 231 * MS, "A/reader-1");

        Result r = h.check();

        assertThat(r.stale()).isEqualTo(2);
        assertThat(r.staleReads()).extracting(StaleRead::readerEndpoint, StaleRead::writerEndpoint,
                        StaleRead::version, StaleRead::latestVersion, StaleRead::lagNanos)
                .containsExactlyInAnyOrder(tuple("B", "A", 1L, 2L, 5 * MS), tuple("A", "A", 1L, 2L, 30 * MS));
        assertThat(r.maxStaleNanos()).isEqualTo(30 * MS);
    }

    @Test
    void shouldRejectAHistoryWithTwoWritersOfOneKey() {
        History h = new History();
        h.write("k", 2, 90 * MS, 100 * MS, "w1");
        h.write("k", 1, 190 * MS, 200 * MS, "w2");
        assertThatThrownBy(h::check).isInstanceOf(IllegalStateException.class).hasMessageContaining("one writer per key");
        assertThatThrownBy(() -> new StalenessChecker().writer(endpoint("a", Store.linearizable()), List.of("x"))
                .writer(endpoint("b", Store.linearizable()), List.of("y", "x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key: x");
    }

    @Test
    void shouldRecordConcurrentlyWithoutLosingEvents() throws InterruptedException {
        History h = new History();
        Thread[] threads = new Thread[8];
        for (int t = 0; t < threads.length; t++) {
            String key = "k" + t;
            threads[t] = new Thread(() -> {
                for (int v = 1; v <= 10_000; v++) {
                    long now = System.nanoTime();
                    h.write(key, v, now, now + 1, "w-" + key);
                    h.read(key, value(key, v), now + 2, now + 3, "r-" + key);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        Result r = h.check();
        assertThat(r.reads()).isEqualTo(80_000);
        assertThat(r.writes()).isEqualTo(80_000);
        assertThat(r.violations()).as(r.toString()).isZero();
    }

    // ---- full runs, threads and all, against in-memory stores ----

    private static final List<String> KEYS = IntStream.range(0, 8).mapToObj(i -> "key:" + i).toList();

    private static Result runAgainst(Store store) {
        return new StalenessChecker()
                .writer(endpoint("w", store), KEYS.subList(0, 4))
                .writer(endpoint("w", store), KEYS.subList(4, 8))
                .readers(endpoint("r", store), 4)
                .writePause(Duration.ofMillis(1))
                .duration(Duration.ofMillis(400))
                .run();
    }

    @Test
    void shouldFindNothingWrongWithALinearizableStore() {
        Result r = runAgainst(Store.linearizable());

        assertThat(r.errors()).isEmpty();
        assertThat(r.violations()).as(r.toString()).isZero();
        assertThat(r.regressions()).as(r.toString()).isZero();
        assertThat(r.reads()).as(r.toString()).isGreaterThan(1000);
        assertThat(r.writes()).as(r.toString()).isGreaterThan(50);
    }

    @Test
    void shouldCatchACacheThatIsNeverInvalidated() {
        Result r = runAgainst(Store.neverInvalidated());

        assertThat(r.errors()).isEmpty();
        assertThat(r.stale()).as(r.toString()).isGreaterThan(0);
        assertThat(r.samples()).isNotEmpty().allMatch(s -> s.startsWith("stale: ") || s.startsWith("regression: "));
    }

    @Test
    void shouldCatchInvalidationsThatArriveAfterTheWriteIsAcknowledged() {
        ScheduledExecutorService late = Executors.newSingleThreadScheduledExecutor();
        try {
            Result r = runAgainst(Store.invalidatedLate(late, Duration.ofMillis(5)));

            assertThat(r.errors()).isEmpty();
            assertThat(r.stale()).as(r.toString()).isGreaterThan(0);
            assertThat(r.maxStaleNanos()).as(r.toString()).isLessThan(Duration.ofMillis(100).toNanos());
        } finally {
            late.shutdownNow();
        }
    }

    @Test
    void shouldStopAndReportWhenASessionFails() {
        Store broken = new Store() {
            @Override
            public void set(String key, String value) {
                throw new IllegalStateException("connection reset");
            }

            @Override
            public String get(String key) {
                return null;
            }
        };
        long start = System.nanoTime();
        Result r = new StalenessChecker()
                .writer(endpoint("w", broken), KEYS)
                .readers(endpoint("r", Store.linearizable()), 2)
                .duration(Duration.ofSeconds(30))
                .run();

        assertThat(r.errors()).singleElement().asString().contains("w/writer-0").contains("connection reset");
        assertThat(System.nanoTime() - start).as("the run stops at the first failure")
                .isLessThan(Duration.ofSeconds(10).toNanos());
        assertThat(r.toString()).contains("errors=1").contains("connection reset");
    }

    /** Sessions of {@code store}; each call takes a simulated round trip of about 20 µs, as over loopback. */
    private static Endpoint endpoint(String name, Store store) {
        return new Endpoint(name, () -> new Session() {
            @Override
            public void set(String key, String value) {
                LockSupport.parkNanos(ROUND_TRIP_NANOS);
                store.set(key, value);
            }

            @Override
            public String get(String key) {
                LockSupport.parkNanos(ROUND_TRIP_NANOS);
                return store.get(key);
            }

            @Override
            public void close() {
            }
        });
    }

    /** A key-value store shared by every session of a test. */
    private interface Store {
        void set(String key, String value);

        String get(String key);

        /** One map: every read sees every write that completed before it. */
        static Store linearizable() {
            Map<String, String> map = new ConcurrentHashMap<>();
            return new Store() {
                @Override
                public void set(String key, String value) {
                    map.put(key, value);
                }

                @Override
                public String get(String key) {
                    return map.get(key);
                }
            };
        }

        /** A near cache without invalidation: the first value read is served forever. */
        static Store neverInvalidated() {
            Map<String, String> backing = new ConcurrentHashMap<>();
            Map<String, String> cache = new ConcurrentHashMap<>();
            return new Store() {
                @Override
                public void set(String key, String value) {
                    backing.put(key, value);
                }

                @Override
                public String get(String key) {
                    String cached = cache.get(key);
                    if (cached != null) {
                        return cached;
                    }
                    String v = backing.get(key);
                    if (v != null) {
                        cache.put(key, v);
                    }
                    return v;
                }
            };
        }

        /** A near cache whose invalidations arrive {@code delay} after the write is acknowledged. */
        static Store invalidatedLate(ScheduledExecutorService executor, Duration delay) {
            Map<String, String> backing = new ConcurrentHashMap<>();
            Map<String, String> cache = new ConcurrentHashMap<>();
            return new Store() {
                @Override
                public void set(String key, String value) {
                    backing.put(key, value);
                    executor.schedule(() -> cache.remove(key), delay.toNanos(), TimeUnit.NANOSECONDS);
                }

                @Override
                public String get(String key) {
                    return cache.computeIfAbsent(key, backing::get);
                }
            };
        }
    }
}
