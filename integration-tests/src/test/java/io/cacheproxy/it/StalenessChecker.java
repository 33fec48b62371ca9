package io.cacheproxy.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Drives concurrent writers and readers over a set of hot keys for a bounded time and checks the
 * recorded history for stale reads: the property an L1 near cache must never break.
 *
 * <p><b>The model.</b> Each key has exactly one writer thread, which writes increasing versions
 * ({@code SET key "<version>@<key>"}, see {@link #value}) and records for each write the instant it
 * was sent and the instant its reply arrived ({@link System#nanoTime()} after the reply: the
 * acknowledgement). Reader threads, each with a connection of its own and possibly through
 * different proxies, {@code GET} random keys and record the instant the read began, the instant it
 * ended and the value. A missing key reads as version 0.
 *
 * <p><b>What is reported.</b>
 * <ul>
 *   <li><i>stale</i>: a read returned a version older than the latest version acknowledged before
 *       the read began. This is the violation; a read that overlaps a write may return either
 *       version. Each stale read is also listed ({@link Result#staleReads()}) with its reader, its
 *       writer and how long after the acknowledgement it began, so that a test can hold reads
 *       through the proxy that did the write to the strict rule and bound the lag of others (an
 *       invalidation sent by Redis to another proxy arrives asynchronously).
 *   <li><i>malformed</i>: a value that is not {@code <version>@<same key>} (another key's value, garbage).
 *   <li><i>future</i>: a version whose write had not even been sent when the read ended.
 *   <li><i>regressions</i>, counted apart: one reader session read a version older than one it had
 *       already read for that key (monotonic reads). A single linearizable node never does this; a
 *       cache fed by asynchronous invalidations may, for a moment, while the newer write is not yet
 *       acknowledged, so tests decide whether to require zero.
 * </ul>
 * {@link Result#violations()} is stale + malformed + future.
 *
 * <p><b>Threads.</b> Recording goes through {@link History}, which is thread-safe; the check runs
 * once, after every thread has stopped. The first failure of any session (an exception) stops the
 * run and is reported in {@link Result#errors()}, so a test must require that list to be empty.
 * A history can also be built by hand ({@link History#write}, {@link History#read}) to test the
 * check itself.
 *
 * <pre>{@code
 * StalenessChecker.Result r = new StalenessChecker()
 *         .writer(endpointA, keys)
 *         .readers(endpointB, 4)
 *         .duration(Duration.ofSeconds(3))
 *         .run();
 * assertThat(r.violations()).as(r.toString()).isZero();
 * }</pre>
 */
public final class StalenessChecker {

    /** One client connection as the checker drives it; only ever used by one thread. */
    public interface Session extends AutoCloseable {
        void set(String key, String value);

        /** The value of {@code key}, or null when it does not exist. */
        String get(String key);

        @Override
        void close();
    }

    /** Where sessions go (a proxy, the backends directly); {@code name} labels threads in reports. */
    public record Endpoint(String name, Supplier<? extends Session> opener) {
        public Endpoint {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(opener, "opener");
        }
    }

    private record WriterSpec(Endpoint endpoint, List<String> keys) {
    }

    private record ReaderSpec(Endpoint endpoint, int threads) {
    }

    /** How many anomalies {@link Result#samples()} describes. */
    static final int MAX_SAMPLES = 10;
    /** How many stale reads {@link Result#staleReads()} lists (all of them are counted). */
    static final int MAX_STALE_READS = 100_000;

    private final List<WriterSpec> writers = new ArrayList<>();
    private final List<ReaderSpec> readers = new ArrayList<>();
    private final Set<String> keys = new LinkedHashSet<>();
    private Duration duration = Duration.ofSeconds(3);
    private Duration writePause = Duration.ZERO;

    /** The value written for {@code version} of {@code key}: {@code "<version>@<key>"}. */
    public static String value(String key, long version) {
        return version + "@" + key;
    }

    /** Adds one writer thread, the only one to write {@code keys}, cycling over them. */
    public StalenessChecker writer(Endpoint endpoint, List<String> keys) {
        Objects.requireNonNull(endpoint, "endpoint");
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("keys: [] (expected: at least one key)");
        }
        for (String key : keys) {
            if (!this.keys.add(key)) {
                throw new IllegalArgumentException("key: " + key + " (expected: written by one writer only)");
            }
        }
        writers.add(new WriterSpec(endpoint, List.copyOf(keys)));
        return this;
    }

    /** Adds {@code threads} reader threads, each with its own session of {@code endpoint}. */
    public StalenessChecker readers(Endpoint endpoint, int threads) {
        Objects.requireNonNull(endpoint, "endpoint");
        if (threads <= 0) {
            throw new IllegalArgumentException("threads: " + threads + " (expected: > 0)");
        }
        readers.add(new ReaderSpec(endpoint, threads));
        return this;
    }

    /** How long the readers and writers run; 3 s unless set. */
    public StalenessChecker duration(Duration duration) {
        if (!duration.isPositive() || duration.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("duration: " + duration + " (expected: > 0 and <= 1 min)");
        }
        this.duration = duration;
        return this;
    }

    /**
     * How long each writer pauses after each write, so that values stay unchanged long enough to be
     * cached and read many times; zero unless set.
     */
    public StalenessChecker writePause(Duration pause) {
        if (pause.isNegative()) {
            throw new IllegalArgumentException("writePause: " + pause + " (expected: >= 0)");
        }
        this.writePause = pause;
        return this;
    }

    /** Runs every writer and reader thread for {@link #duration}, then checks the history. */
    public Result run() {
        if (writers.isEmpty() || readers.isEmpty()) {
            throw new IllegalStateException("writers: " + writers.size() + ", readers: " + readers.size()
                    + " (expected: at least one of each)");
        }
        History history = new History();
        List<String> allKeys = List.copyOf(keys);
        AtomicBoolean stop = new AtomicBoolean();
        int threadCount = writers.size() + readers.stream().mapToInt(ReaderSpec::threads).sum();
        CountDownLatch ready = new CountDownLatch(threadCount);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < writers.size(); i++) {
            WriterSpec w = writers.get(i);
            String name = w.endpoint().name() + "/writer-" + i;
            threads.add(thread(name, w.endpoint(), history, stop, ready, go,
                    session -> write(name, session, w.keys(), history, stop)));
        }
        int r = 0;
        for (ReaderSpec spec : readers) {
            for (int i = 0; i < spec.threads(); i++) {
                String name = spec.endpoint().name() + "/reader-" + (r++);
                threads.add(thread(name, spec.endpoint(), history, stop, ready, go,
                        session -> read(name, session, allKeys, history, stop)));
            }
        }
        threads.forEach(Thread::start);
        try {
            if (!ready.await(30, TimeUnit.SECONDS)) {
                history.error("sessions did not open within 30 s");
                stop.set(true);
            }
            history.begin();
            go.countDown();
            long deadline = System.nanoTime() + duration.toNanos();
            while (!stop.get() && System.nanoTime() < deadline) {
                LockSupport.parkNanos(Math.min(10_000_000L, Math.max(1, deadline - System.nanoTime())));
            }
            stop.set(true);
            long joinDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            for (Thread t : threads) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
                if (t.isAlive()) {
                    history.error(t.getName() + " did not stop within 15 s of the end of the run");
                    t.interrupt();
                }
            }
        } catch (InterruptedException e) {
            stop.set(true);
            threads.forEach(Thread::interrupt);
            Thread.currentThread().interrupt();
            history.error("interrupted");
        }
        return history.check();
    }

    private interface Body {
        void run(Session session);
    }

    private static Thread thread(String name, Endpoint endpoint, History history, AtomicBoolean stop,
            CountDownLatch ready, CountDownLatch go, Body body) {
        Thread t = new Thread(() -> {
            Session session = null;
            try {
                session = endpoint.opener().get();
                ready.countDown();
                go.await();
                body.run(session);
            } catch (Throwable e) {
                if (session == null) {
                    ready.countDown();
                }
                if (!(e instanceof InterruptedException && stop.get())) {
                    history.error(name + ": " + e);
                }
                stop.set(true);
            } finally {
                if (session != null) {
                    try {
                        session.close();
                    } catch (RuntimeException e) {
                        history.error(name + " close: " + e);
                    }
                }
            }
        }, name);
        t.setDaemon(true);
        return t;
    }

    private void write(String name, Session session, List<String> keys, History history, AtomicBoolean stop) {
        Map<String, Long> versions = new HashMap<>();
        long pause = writePause.toNanos();
        int i = 0;
        while (!stop.get()) {
            String key = keys.get(i++ % keys.size());
            long version = versions.merge(key, 1L, Long::sum);
            long sent = System.nanoTime();
            try {
                session.set(key, value(key, version));
            } catch (RuntimeException e) {
                history.write(key, version, sent, History.UNACKNOWLEDGED, name);
                throw e;
            }
            history.write(key, version, sent, System.nanoTime(), name);
            if (pause > 0) {
                LockSupport.parkNanos(pause);
            }
        }
    }

    private static void read(String name, Session session, List<String> keys, History history, AtomicBoolean stop) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (!stop.get()) {
            String key = keys.get(random.nextInt(keys.size()));
            long start = System.nanoTime();
            String value = session.get(key);
            history.read(key, value, start, System.nanoTime(), name);
        }
    }

    /**
     * A thread-safe record of writes and reads, and the check over it. Times are
     * {@link System#nanoTime()} values; reports show them relative to the first event (or to
     * {@link #begin()}).
     */
    public static final class History {
        /** The ack time of a write whose reply never came: it may have happened, so it is never "acknowledged". */
        public static final long UNACKNOWLEDGED = Long.MAX_VALUE;

        private final Queue<Write> writes = new ConcurrentLinkedQueue<>();
        private final Queue<Read> reads = new ConcurrentLinkedQueue<>();
        private final Queue<String> errors = new ConcurrentLinkedQueue<>();
        private volatile long origin = Long.MIN_VALUE;

        void begin() {
            origin = System.nanoTime();
        }

        /** Records that {@code writer} wrote {@code version} of {@code key}, sent at {@code sentNanos}, acknowledged at {@code ackNanos}. */
        public void write(String key, long version, long sentNanos, long ackNanos, String writer) {
            if (version <= 0) {
                throw new IllegalArgumentException("version: " + version + " (expected: > 0; 0 is the missing key)");
            }
            writes.add(new Write(key, version, sentNanos, ackNanos, writer));
        }

        /** Records that {@code reader} read {@code value} (null: missing) of {@code key} between the two instants. */
        public void read(String key, String value, long startNanos, long endNanos, String reader) {
            reads.add(new Read(key, value, startNanos, endNanos, reader));
        }

        /** Records a failure that makes the run invalid (a session threw, a thread hung). */
        public void error(String message) {
            errors.add(message);
        }

        /** Checks every recorded read; call once recording has stopped. */
        public Result check() {
            List<Write> allWrites = List.copyOf(writes);
            List<Read> allReads = List.copyOf(reads);
            long t0 = origin != Long.MIN_VALUE ? origin : firstInstant(allWrites, allReads);

            Map<String, KeyWrites> byKey = new HashMap<>();
            Map<String, List<Write>> grouped = new HashMap<>();
            for (Write w : allWrites) {
                grouped.computeIfAbsent(w.key(), k -> new ArrayList<>()).add(w);
            }
            grouped.forEach((key, list) -> byKey.put(key, new KeyWrites(key, list)));

            List<String> samples = new ArrayList<>();
            long stale = 0;
            long malformed = 0;
            long future = 0;
            long regressions = 0;
            List<StaleRead> staleReads = new ArrayList<>();
            Map<String, List<Read>> byReader = new HashMap<>();
            for (Read r : allReads) {
                byReader.computeIfAbsent(r.reader(), k -> new ArrayList<>()).add(r);
            }
            for (List<Read> sessionReads : byReader.values()) {
                sessionReads.sort(Comparator.comparingLong(Read::startNanos));
                Map<String, Read> lastSeen = new HashMap<>();
                for (Read r : sessionReads) {
                    long version = parse(r.key(), r.value());
                    if (version < 0) {
                        malformed++;
                        sample(samples, () -> "malformed: " + describe(r, t0) + " is not <version>@" + r.key());
                        continue;
                    }
                    KeyWrites kw = byKey.get(r.key());
                    if (version > 0 && (kw == null || kw.sent(version) > r.endNanos())) {
                        future++;
                        long sent = kw == null ? Long.MAX_VALUE : kw.sent(version);
                        sample(samples, () -> "future: " + describe(r, t0) + (sent == Long.MAX_VALUE
                                ? ", a version never written"
                                : ", whose write was sent only at " + at(sent, t0)));
                    }
                    if (kw != null) {
                        Write latest = kw.latestAckedBefore(r.startNanos());
                        if (latest != null && latest.version() > version) {
                            stale++;
                            long behind = r.startNanos() - latest.ackNanos();
                            if (staleReads.size() < MAX_STALE_READS) {
                                staleReads.add(new StaleRead(r.key(), r.reader(), latest.writer(), version,
                                        latest.version(), behind));
                            }
                            sample(samples, () -> "stale: " + describe(r, t0) + ", but version " + latest.version()
                                    + " was acknowledged to " + latest.writer() + " at " + at(latest.ackNanos(), t0)
                                    + ", " + micros(behind) + " before the read began");
                        }
                    }
                    Read previous = lastSeen.get(r.key());
                    if (previous != null && parse(previous.key(), previous.value()) > version) {
                        regressions++;
                        sample(samples, () -> "regression: " + describe(r, t0) + " after the same session read "
                                + show(previous.value()) + " at " + at(previous.startNanos(), t0));
                    }
                    if (previous == null || parse(previous.key(), previous.value()) < version) {
                        lastSeen.put(r.key(), r);
                    }
                }
            }
            long acked = allWrites.stream().filter(w -> w.ackNanos() != UNACKNOWLEDGED).count();
            return new Result(allReads.size(), acked, stale, malformed, future, regressions, List.copyOf(staleReads),
                    byKey.size(), byReader.size(), List.copyOf(samples), List.copyOf(errors));
        }

        private static long firstInstant(List<Write> writes, List<Read> reads) {
            long first = Long.MAX_VALUE;
            for (Write w : writes) {
                first = Math.min(first, w.sentNanos());
            }
            for (Read r : reads) {
                first = Math.min(first, r.startNanos());
            }
            return first == Long.MAX_VALUE ? 0 : first;
        }

        private static void sample(List<String> samples, Supplier<String> text) {
            if (samples.size() < MAX_SAMPLES) {
                samples.add(text.get());
            }
        }

        /** The version in {@code value}: 0 for a missing key, -1 when it is not {@code <version>@<key>}. */
        static long parse(String key, String value) {
            if (value == null) {
                return 0;
            }
            int at = value.indexOf('@');
            if (at <= 0 || !value.substring(at + 1).equals(key)) {
                return -1;
            }
            try {
                long version = Long.parseLong(value.substring(0, at));
                return version < 0 ? -1 : version;
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        private static String describe(Read r, long t0) {
            return "GET " + r.key() + " by " + r.reader() + " from " + at(r.startNanos(), t0) + " to "
                    + at(r.endNanos(), t0) + " returned " + show(r.value());
        }

        private static String show(String value) {
            return value == null ? "nil" : '"' + value + '"';
        }

        private static String at(long nanos, long t0) {
            return String.format("+%.3f ms", (nanos - t0) / 1e6);
        }

        private static String micros(long nanos) {
            return String.format("%.1f µs", nanos / 1e3);
        }
    }

    private record Write(String key, long version, long sentNanos, long ackNanos, String writer) {
    }

    private record Read(String key, String value, long startNanos, long endNanos, String reader) {
    }

    /** One key's writes in acknowledgement order, which must also be version order (one writer per key). */
    private static final class KeyWrites {
        private final Write[] acked;
        private final long[] ackTimes;
        private final Map<Long, Long> sentByVersion = new HashMap<>();

        KeyWrites(String key, List<Write> writes) {
            Set<Long> versions = new HashSet<>();
            for (Write w : writes) {
                if (!versions.add(w.version())) {
                    throw new IllegalStateException("key " + key + ": version " + w.version()
                            + " written twice (expected: one writer per key, increasing versions)");
                }
                sentByVersion.put(w.version(), w.sentNanos());
            }
            this.acked = writes.stream().filter(w -> w.ackNanos() != History.UNACKNOWLEDGED)
                    .sorted(Comparator.comparingLong(Write::ackNanos)).toArray(Write[]::new);
            this.ackTimes = new long[acked.length];
            for (int i = 0; i < acked.length; i++) {
                ackTimes[i] = acked[i].ackNanos();
                if (i > 0 && acked[i].version() <= acked[i - 1].version()) {
                    throw new IllegalStateException("key " + key + ": version " + acked[i].version()
                            + " acknowledged after version " + acked[i - 1].version()
                            + " (expected: one writer per key, increasing versions)");
                }
            }
        }

        /** The last write acknowledged strictly before {@code nanos}, or null. */
        Write latestAckedBefore(long nanos) {
            int lo = 0;
            int hi = ackTimes.length; // first index with ackTimes[i] >= nanos
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (ackTimes[mid] < nanos) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo == 0 ? null : acked[lo - 1];
        }

        /** When the write of {@code version} was sent; {@link Long#MAX_VALUE} if it never was. */
        long sent(long version) {
            return sentByVersion.getOrDefault(version, Long.MAX_VALUE);
        }
    }

    /**
     * One stale read: {@code reader} read {@code version} of {@code key}, {@code lagNanos} after
     * {@code writer} had been acknowledged {@code latestVersion}. Reader and writer are thread names,
     * {@code <endpoint>/reader-<n>} and {@code <endpoint>/writer-<n>} when the checker ran them.
     */
    public record StaleRead(String key, String reader, String writer, long version, long latestVersion, long lagNanos) {

        /** The endpoint the reading session went through. */
        public String readerEndpoint() {
            return endpointOf(reader);
        }

        /** The endpoint the acknowledged write went through. */
        public String writerEndpoint() {
            return endpointOf(writer);
        }

        private static String endpointOf(String thread) {
            int slash = thread.lastIndexOf('/');
            return slash < 0 ? thread : thread.substring(0, slash);
        }

        @Override
        public String toString() {
            return String.format("%s read %s of %s %.1f µs after %s was acknowledged version %d", reader, version,
                    key, lagNanos / 1e3, writer, latestVersion);
        }
    }

    /**
     * What a run found.
     *
     * @param staleReads the stale reads (the first {@link #MAX_STALE_READS}; {@code stale} counts all)
     * @param samples    the first {@link #MAX_SAMPLES} anomalies of any kind, described
     * @param errors     failures that invalidate the run (a session threw, a thread hung)
     */
    public record Result(long reads, long writes, long stale, long malformed, long future, long regressions,
                         List<StaleRead> staleReads, int keys, int readers, List<String> samples, List<String> errors) {

        /** Reads that returned what they must not: stale + malformed + future. */
        public long violations() {
            return stale + malformed + future;
        }

        /** The largest lag of a stale read behind the acknowledgement it missed; 0 if none. */
        public long maxStaleNanos() {
            return staleReads.stream().mapToLong(StaleRead::lagNanos).max().orElse(0);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            b.append(String.format("reads=%d writes=%d keys=%d reader-sessions=%d violations=%d"
                            + " (stale=%d malformed=%d future=%d, worst stale %.1f µs behind) regressions=%d errors=%d",
                    reads, writes, keys, readers, violations(), stale, malformed, future, maxStaleNanos() / 1e3,
                    regressions, errors.size()));
            for (String s : samples) {
                b.append("\n  ").append(s);
            }
            for (String e : errors) {
                b.append("\n  error: ").append(e);
            }
            return b.toString();
        }
    }
}
