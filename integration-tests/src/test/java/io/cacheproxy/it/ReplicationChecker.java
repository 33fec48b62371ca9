package io.cacheproxy.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A bounded-time load generator and history checker for failover tests: several client threads,
 * each writing and reading keys of its own, while a test kills, restarts or freezes nodes; then a
 * check that no acknowledged write was lost and no read was older than the latest acknowledged
 * write. Unlike {@link StalenessChecker}, failures of single commands do not stop the run: error
 * replies and connection errors are counted (a failover produces a brief burst of them), the
 * connection is opened again, and the traffic goes on.
 *
 * <p><b>The model.</b> Thread {@code t} owns the keys {@code rc:<t>:0 .. rc:<t>:<keysPerThread-1>}
 * and the counter {@code rc:<t>:n} (see {@link #keyPrefix}); nothing else writes them, and
 * {@link #start()} deletes them first. Each step it picks one of its keys and
 * <ul>
 *   <li>about 45% of steps {@code SET key "<version>@<key>"} ({@link #value}) with the key's next
 *       version (1, 2, 3 ...). An {@code +OK} reply acknowledges the write; an error reply, a timeout
 *       or a broken connection leaves its outcome unknown: that version may show up later, but is
 *       never required to;</li>
 *   <li>about 45% {@code GET key}; a missing key is version 0;</li>
 *   <li>about 10% {@code INCR rc:<t>:n}, or, after an INCR failed, a {@code GET} of the counter to
 *       resynchronise.</li>
 * </ul>
 * Every command is recorded with its start and end ({@link System#nanoTime()}) and its outcome:
 * {@code null} for success, an error reply as received (starting with {@code -}), or the
 * exception (root cause class and message; {@code connect: } first when opening the connection
 * failed). After an exception the connection is closed and a new one opened for the next step,
 * pausing {@link #reconnectBackoff} when that fails, so a dead endpoint is not hammered.
 *
 * <p><b>What is checked</b> (after the run, over the whole history, {@link History#check()}):
 * <ul>
 *   <li><i>stale</i>: a successful GET returned a version older than the latest version of that key
 *       acknowledged before the GET began. A GET that overlaps a write may return either version;
 *       a version whose write failed may be returned, as long as it is not older than the latest
 *       acknowledged one (a failed write applied late, over a newer acknowledged one, is stale:
 *       {@link StaleRead#unacknowledged()} tells those apart);</li>
 *   <li><i>malformed</i>: a value that is not {@code <version>@<same key>} (or, for a counter, not an
 *       integer);</li>
 *   <li><i>future</i>: a version whose SET had not been sent when the GET ended, or never was;</li>
 *   <li><i>incr mismatches</i>: while none of its INCRs has failed, a counter's n-th INCR must return
 *       exactly n; once one failed (it may or may not have been applied), every INCR reply and
 *       every GET of the counter must lie between the number of acknowledged INCRs and the number
 *       of attempted ones;</li>
 *   <li><i>lost</i>: at the end, every key is read again (retrying errors for up to
 *       {@link #finalTimeout}); a key whose final version is older than its latest acknowledged one,
 *       or a counter below its acknowledged INCRs, lost a write. A final value never written is
 *       malformed or future, a counter above its attempted INCRs an incr mismatch;</li>
 *   <li><i>unverified</i>: keys the final read could not read at all, and <i>problems</i>: things
 *       that make the run unverifiable (a thread that hung, a crash in the checker). Both count as
 *       violations, so that a run that could not be checked never passes.</li>
 * </ul>
 * {@link Result} also has the error count, ratio and distinct texts, the instants of the first
 * and last error relative to the start (to measure a burst), labelled {@linkplain Running#mark
 * marks} the test sets when it injects faults, and the slowest command (to bound hangs).
 *
 * <pre>{@code
 * ReplicationChecker.Running run = new ReplicationChecker(proxy.host(), proxy.port())
 *         .threads(6).keysPerThread(50).duration(Duration.ofSeconds(8))
 *         .start();
 * Thread.sleep(2000);
 * run.mark("kill node B");
 * nodeB.kill();
 * ...
 * ReplicationChecker.Result r = run.await();
 * assertThat(r.violations()).as(r.report()).isZero();
 * assertThat(r.errorRatio()).as(r.report()).isLessThanOrEqualTo(0.01);
 * }</pre>
 */
public final class ReplicationChecker {

    /**
     * One client connection as the checker drives it; only ever used by one thread. An error reply
     * throws {@link ErrorReply}; any other exception means the connection is broken (it is closed
     * and a new one opened).
     */
    public interface Session extends AutoCloseable {
        void set(String key, String value);

        /** The value of {@code key}, or null when it does not exist. */
        String get(String key);

        long incr(String key);

        /** Deletes {@code keys}; returns how many existed. */
        long del(String... keys);

        @Override
        void close();
    }

    /** An error reply, e.g. {@code ERR backend unavailable: ...}; {@link #getMessage()} is its text without the {@code -}. */
    public static final class ErrorReply extends RuntimeException {
        public ErrorReply(String text) {
            super(text, null, false, false);
        }
    }

    /** Share of steps that SET (the rest: {@value #INCR_PERCENT}% counter steps, the others GET). */
    static final int WRITE_PERCENT = 45;
    static final int INCR_PERCENT = 10;
    /** How many anomalies {@link Result#samples()} describes. */
    static final int MAX_SAMPLES = 10;
    /** How many stale reads and lost writes {@link Result} lists (all of them are counted). */
    static final int MAX_DETAILS = 20;
    /** Distinct error texts kept apart; further ones are counted under {@value #OTHER_ERRORS}. */
    static final int MAX_ERROR_TEXTS = 50;
    static final String OTHER_ERRORS = "(other errors)";

    private final String name;
    private final String host;
    private final int port;
    private final Supplier<? extends Session> opener;
    private int threads = 6;
    private int keysPerThread = 50;
    private String keyPrefix = "rc:";
    private Duration duration = Duration.ofSeconds(10);
    private Duration socketTimeout = Duration.ofSeconds(3);
    private Duration reconnectBackoff = Duration.ofMillis(50);
    private Duration stepPause = Duration.ZERO;
    private Duration finalTimeout = Duration.ofSeconds(15);

    /** Drives {@code host:port} over {@link RawRedisClient} connections (RESP2) with a {@link #socketTimeout}. */
    public ReplicationChecker(String host, int port) {
        this.name = host + ":" + port;
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.opener = null;
    }

    /** Drives sessions from {@code opener} ({@code name} labels threads); {@link #socketTimeout} is then the opener's business. */
    public ReplicationChecker(String name, Supplier<? extends Session> opener) {
        this.name = Objects.requireNonNull(name, "name");
        this.host = null;
        this.port = 0;
        this.opener = Objects.requireNonNull(opener, "opener");
    }

    /** The value written for {@code version} of {@code key}: {@code "<version>@<key>"}. */
    public static String value(String key, long version) {
        return version + "@" + key;
    }

    /** Client threads, each with a connection and keys of its own; 6 unless set. */
    public ReplicationChecker threads(int threads) {
        if (threads <= 0 || threads > 256) {
            throw new IllegalArgumentException("threads: " + threads + " (expected: 1..256)");
        }
        this.threads = threads;
        return this;
    }

    /** SET/GET keys per thread (the counter comes on top); 50 unless set. */
    public ReplicationChecker keysPerThread(int keys) {
        if (keys <= 0 || keys > 100_000) {
            throw new IllegalArgumentException("keysPerThread: " + keys + " (expected: 1..100000)");
        }
        this.keysPerThread = keys;
        return this;
    }

    /** The start of every key's name; {@code rc:} unless set (two checkers on one pool need two prefixes). */
    public ReplicationChecker keyPrefix(String prefix) {
        this.keyPrefix = Objects.requireNonNull(prefix, "prefix");
        return this;
    }

    /** How long the traffic runs unless {@link Running#stop()} ends it sooner; 10 s unless set. */
    public ReplicationChecker duration(Duration duration) {
        if (!duration.isPositive() || duration.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("duration: " + duration + " (expected: > 0 and <= 10 min)");
        }
        this.duration = duration;
        return this;
    }

    /**
     * The read timeout of each connection (host/port checkers only): a command without a reply for
     * this long fails with {@code SocketTimeoutException} and the connection is replaced. 3 s unless
     * set; keep it above the proxy's command timeout so that the proxy's own error comes first.
     */
    public ReplicationChecker socketTimeout(Duration timeout) {
        if (!timeout.isPositive()) {
            throw new IllegalArgumentException("socketTimeout: " + timeout + " (expected: > 0)");
        }
        this.socketTimeout = timeout;
        return this;
    }

    /** How long a thread waits after opening a connection failed before it tries again; 50 ms unless set. */
    public ReplicationChecker reconnectBackoff(Duration backoff) {
        if (backoff.isNegative()) {
            throw new IllegalArgumentException("reconnectBackoff: " + backoff + " (expected: >= 0)");
        }
        this.reconnectBackoff = backoff;
        return this;
    }

    /** How long each thread pauses after each step (to slow the traffic down); zero unless set. */
    public ReplicationChecker stepPause(Duration pause) {
        if (pause.isNegative()) {
            throw new IllegalArgumentException("stepPause: " + pause + " (expected: >= 0)");
        }
        this.stepPause = pause;
        return this;
    }

    /** How long the final read of every key may retry errors in all; 15 s unless set. */
    public ReplicationChecker finalTimeout(Duration timeout) {
        if (!timeout.isPositive()) {
            throw new IllegalArgumentException("finalTimeout: " + timeout + " (expected: > 0)");
        }
        this.finalTimeout = timeout;
        return this;
    }

    /** The SET/GET keys of thread {@code thread}. */
    public List<String> keysOf(int thread) {
        List<String> keys = new ArrayList<>(keysPerThread);
        for (int i = 0; i < keysPerThread; i++) {
            keys.add(keyPrefix + thread + ":" + i);
        }
        return keys;
    }

    /** The INCR counter of thread {@code thread}. */
    public String counterOf(int thread) {
        return keyPrefix + thread + ":n";
    }

    /** Every key the run uses, counters included (e.g. to check that they spread over all nodes). */
    public List<String> keys() {
        List<String> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            all.addAll(keysOf(t));
            all.add(counterOf(t));
        }
        return all;
    }

    /** {@link #start()}, then {@link Running#await()}. */
    public Result run() {
        try (Running running = start()) {
            return running.await();
        }
    }

    /**
     * Deletes every key, opens one connection per thread and starts the traffic; returns at once.
     * Fails (and starts nothing) when the endpoint cannot be reached or the keys cannot be deleted.
     */
    public Running start() {
        Supplier<? extends Session> sessions = opener != null ? opener : rawOpener(host, port, socketTimeout);
        List<String> all = keys();
        try (Session setup = sessions.get()) {
            for (int i = 0; i < all.size(); i += 100) {
                setup.del(all.subList(i, Math.min(all.size(), i + 100)).toArray(String[]::new));
            }
        }
        List<Session> opened = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                opened.add(sessions.get());
            }
        } catch (RuntimeException e) {
            opened.forEach(ReplicationChecker::closeQuietly);
            throw e;
        }
        Running running = new Running(sessions, all.size());
        for (int t = 0; t < threads; t++) {
            running.add(new Worker(running, name + "/t" + t, keysOf(t), counterOf(t), opened.get(t)));
        }
        running.launch();
        return running;
    }

    private static Supplier<Session> rawOpener(String host, int port, Duration timeout) {
        return () -> new RawSession(RawRedisClient.connect(host, port).timeout(timeout));
    }

    static void closeQuietly(Session session) {
        if (session != null) {
            try {
                session.close();
            } catch (RuntimeException e) {
                // the connection is being discarded anyway
            }
        }
    }

    /** How an exception is reported: the root cause's class and message (stable across connections). */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /** A run in progress: the test injects faults meanwhile, then calls {@link #await()} or {@link #stop()}. */
    public final class Running implements AutoCloseable {
        private final History history = new History();
        private final Supplier<? extends Session> sessions;
        private final int keyCount;
        private final List<Worker> workers = new ArrayList<>();
        private final Set<Session> openSessions = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final CountDownLatch go = new CountDownLatch(1);
        private final LongAdder ops = new LongAdder();
        private final LongAdder errors = new LongAdder();
        private long origin;
        private long deadline;
        private Result result;

        private Running(Supplier<? extends Session> sessions, int keyCount) {
            this.sessions = sessions;
            this.keyCount = keyCount;
        }

        private void add(Worker worker) {
            workers.add(worker);
            openSessions.add(worker.session);
        }

        private void launch() {
            for (Worker w : workers) {
                w.thread.start();
            }
            origin = System.nanoTime();
            deadline = origin + duration.toNanos();
            history.begin(origin);
            go.countDown();
        }

        /** Time since the traffic started. */
        public Duration elapsed() {
            return Duration.ofNanos(System.nanoTime() - origin);
        }

        /** Records {@code label} at this instant (e.g. "kill node B"); {@link Result#marks()} lists them. */
        public void mark(String label) {
            history.mark(label, System.nanoTime());
        }

        /** Commands completed so far (successful or not). */
        public long ops() {
            return ops.sum();
        }

        /** Commands failed so far. */
        public long errors() {
            return errors.sum();
        }

        /** Whether the traffic still runs. */
        public boolean isRunning() {
            return !stop.get() && System.nanoTime() - deadline < 0;
        }

        /** Waits for the end of the {@link #duration}, then stops, verifies and checks; the same result every call. */
        public synchronized Result await() {
            if (result == null) {
                try {
                    long left;
                    while (!stop.get() && (left = deadline - System.nanoTime()) > 0) {
                        Thread.sleep(Math.max(1, Math.min(50, TimeUnit.NANOSECONDS.toMillis(left))));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    history.problem("interrupted while waiting for the end of the run");
                }
            }
            return finish();
        }

        /** Stops the traffic now (the {@link #duration} need not be over), verifies and checks. */
        public synchronized Result stop() {
            return finish();
        }

        /** {@link #stop()}: a try-with-resources block never leaves threads running. */
        @Override
        public void close() {
            stop();
        }

        private Result finish() {
            if (result != null) {
                return result;
            }
            stop.set(true);
            long joinNanos = socketTimeout.toNanos() + reconnectBackoff.toNanos() + stepPause.toNanos()
                    + TimeUnit.SECONDS.toNanos(10);
            long joinDeadline = System.nanoTime() + joinNanos;
            for (Worker w : workers) {
                join(w.thread, joinDeadline);
                if (w.thread.isAlive()) {
                    history.problem(w.name + " did not stop within " + Duration.ofNanos(joinNanos).toMillis()
                            + " ms of the end of the run (stuck in " + w.thread.getState() + ")");
                    closeQuietly(w.session); // unblocks a read on a socket
                    w.thread.interrupt();
                    join(w.thread, System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
                }
            }
            history.end(System.nanoTime());
            openSessions.forEach(ReplicationChecker::closeQuietly);
            verifyFinal();
            result = history.check();
            return result;
        }

        private void join(Thread t, long until) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /**
         * Reads every key once more, retrying errors (on new connections) until {@link #finalTimeout};
         * keys not read by then are unverified (without a further try, so a frozen endpoint cannot
         * hold the test for one socket timeout per key).
         */
        private void verifyFinal() {
            long until = System.nanoTime() + finalTimeout.toNanos();
            Session session = null;
            String lastError = null;
            try {
                for (Worker w : workers) {
                    List<String> all = new ArrayList<>(w.keys);
                    all.add(w.counter);
                    for (String key : all) {
                        while (true) {
                            if (System.nanoTime() - until >= 0) {
                                history.unverified(key, "final timeout of " + finalTimeout.toMillis()
                                        + " ms reached; last error: " + lastError);
                                break;
                            }
                            try {
                                if (session == null) {
                                    session = sessions.get();
                                }
                                String value = session.get(key);
                                if (key.equals(w.counter)) {
                                    history.finalCounter(key, value);
                                } else {
                                    history.finalRead(key, value);
                                }
                                break;
                            } catch (ErrorReply e) {
                                lastError = "-" + e.getMessage();
                            } catch (RuntimeException e) {
                                lastError = describe(e);
                                closeQuietly(session);
                                session = null;
                            }
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                        }
                    }
                }
            } finally {
                closeQuietly(session);
            }
        }
    }

    private enum Op { SET, GET, INCR, COUNTER_GET }

    /** One client thread: its keys, their versions, its counter and its connection. */
    private final class Worker implements Runnable {
        private final Running running;
        private final String name;
        private final List<String> keys;
        private final String counter;
        private final long[] versions;
        private final Thread thread;
        private Session session;
        private boolean resync;

        Worker(Running running, String name, List<String> keys, String counter, Session session) {
            this.running = running;
            this.name = name;
            this.keys = keys;
            this.counter = counter;
            this.versions = new long[keys.size()];
            this.session = session;
            this.thread = new Thread(this, name);
            this.thread.setDaemon(true);
        }

        @Override
        public void run() {
            try {
                running.go.await();
                long pause = stepPause.toNanos();
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (!running.stop.get() && System.nanoTime() - running.deadline < 0) {
                    int dice = random.nextInt(100);
                    if (dice < INCR_PERCENT) {
                        step(resync ? Op.COUNTER_GET : Op.INCR, counter, 0);
                    } else {
                        int i = random.nextInt(keys.size());
                        if (dice < INCR_PERCENT + WRITE_PERCENT) {
                            step(Op.SET, keys.get(i), ++versions[i]);
                        } else {
                            step(Op.GET, keys.get(i), 0);
                        }
                    }
                    if (pause > 0) {
                        LockSupport.parkNanos(pause);
                    }
                }
            } catch (InterruptedException e) {
                if (!running.stop.get()) {
                    running.history.problem(name + " interrupted");
                }
            } catch (Throwable e) {
                running.history.problem(name + " crashed: " + e);
            } finally {
                closeQuietly(session);
            }
        }

        private void step(Op op, String key, long version) {
            long start = System.nanoTime();
            String value = null;
            Long count = null;
            String error = null;
            if (session == null) {
                try {
                    session = running.sessions.get();
                    running.openSessions.add(session);
                } catch (RuntimeException e) {
                    error = "connect: " + describe(e);
                }
            }
            if (error == null) {
                try {
                    switch (op) {
                        case SET -> session.set(key, value(key, version));
                        case GET, COUNTER_GET -> value = session.get(key);
                        case INCR -> count = session.incr(key);
                    }
                } catch (ErrorReply e) {
                    error = "-" + e.getMessage();
                } catch (RuntimeException e) {
                    error = describe(e);
                    running.openSessions.remove(session);
                    closeQuietly(session);
                    session = null;
                }
            }
            long end = System.nanoTime();
            switch (op) {
                case SET -> running.history.write(name, key, version, start, end, error);
                case GET -> running.history.read(name, key, value, start, end, error);
                case INCR -> running.history.incr(name, key, count, start, end, error);
                case COUNTER_GET -> running.history.readCounter(name, key, value, start, end, error);
            }
            if (op == Op.INCR && error != null) {
                resync = true;
            } else if (op == Op.COUNTER_GET && error == null) {
                resync = false;
            }
            running.ops.increment();
            if (error != null) {
                running.errors.increment();
                if (error.startsWith("connect: ")) {
                    LockSupport.parkNanos(reconnectBackoff.toNanos());
                }
            }
        }
    }

    /** A {@link Session} over a {@link RawRedisClient}. */
    private static final class RawSession implements Session {
        private final RawRedisClient client;

        RawSession(RawRedisClient client) {
            this.client = client;
        }

        @Override
        public void set(String key, String value) {
            String reply = call("SET", key, value);
            if (!reply.equals("+OK\r\n")) {
                throw unexpected("SET", reply);
            }
        }

        @Override
        public String get(String key) {
            String reply = call("GET", key);
            if (reply.equals("$-1\r\n") || reply.equals("_\r\n")) {
                return null;
            }
            int crlf = reply.indexOf("\r\n");
            if (reply.startsWith("$") && crlf > 0 && reply.endsWith("\r\n")
                    && reply.length() == crlf + 2 + Integer.parseInt(reply.substring(1, crlf)) + 2) {
                return reply.substring(crlf + 2, reply.length() - 2);
            }
            throw unexpected("GET", reply);
        }

        @Override
        public long incr(String key) {
            return integer("INCR", call("INCR", key));
        }

        @Override
        public long del(String... keys) {
            String[] args = new String[keys.length + 1];
            args[0] = "DEL";
            System.arraycopy(keys, 0, args, 1, keys.length);
            return integer("DEL", call(args));
        }

        private String call(String... args) {
            String reply = client.callString(args);
            if (reply.startsWith("-")) {
                throw new ErrorReply(reply.substring(1, reply.length() - 2));
            }
            return reply;
        }

        private static long integer(String command, String reply) {
            if (reply.startsWith(":") && reply.endsWith("\r\n")) {
                try {
                    return Long.parseLong(reply.substring(1, reply.length() - 2));
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            throw unexpected(command, reply);
        }

        /** A reply of the wrong shape: the connection may be out of step, so it is treated as broken. */
        private static IllegalStateException unexpected(String command, String reply) {
            return new IllegalStateException("unexpected reply to " + command + ": "
                    + RawRedisClient.escape(reply.getBytes(StandardCharsets.UTF_8), 60));
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /**
     * A thread-safe record of commands and final reads, and the check over it. Times are
     * {@link System#nanoTime()} values; reports show them relative to {@link #begin} (else to the
     * first event). {@code error} is null for a success, an error reply as received (starting with
     * {@code -}), or a description of the exception. A history can be built by hand to test the check.
     */
    public static final class History {
        private final Queue<Event> events = new ConcurrentLinkedQueue<>();
        private final Queue<FinalRead> finals = new ConcurrentLinkedQueue<>();
        private final Queue<Mark> marks = new ConcurrentLinkedQueue<>();
        private final Queue<String> problems = new ConcurrentLinkedQueue<>();
        private final Map<String, String> unverified = new LinkedHashMap<>(); // guarded by itself
        private volatile long origin = Long.MIN_VALUE;
        private volatile long end = Long.MIN_VALUE;

        /** The instant the traffic started: reported times are relative to it. */
        public void begin(long nanos) {
            origin = nanos;
        }

        /** The instant the traffic stopped (for {@link Result#elapsed()}). */
        public void end(long nanos) {
            end = nanos;
        }

        /** {@code thread} sent {@code SET key <version>} at {@code start}; its outcome came at {@code end}. */
        public void write(String thread, String key, long version, long start, long end, String error) {
            if (version <= 0) {
                throw new IllegalArgumentException("version: " + version + " (expected: > 0; 0 is the missing key)");
            }
            events.add(new Event(Op.SET, thread, key, version, null, start, end, error));
        }

        /** {@code thread}'s {@code GET key} returned {@code value} (null: missing; ignored when {@code error} is set). */
        public void read(String thread, String key, String value, long start, long end, String error) {
            long version = error != null ? 0 : parse(key, value);
            events.add(new Event(Op.GET, thread, key, version, version < 0 ? value : null, start, end, error));
        }

        /** {@code thread}'s {@code INCR key} returned {@code value} (null when {@code error} is set). */
        public void incr(String thread, String key, Long value, long start, long end, String error) {
            if ((value == null) == (error == null)) {
                throw new IllegalArgumentException("value: " + value + ", error: " + error + " (expected: exactly one)");
            }
            events.add(new Event(Op.INCR, thread, key, value == null ? 0 : value, null, start, end, error));
        }

        /** {@code thread}'s {@code GET} of its counter {@code key} returned {@code value} (null: missing). */
        public void readCounter(String thread, String key, String value, long start, long end, String error) {
            long count = error != null ? 0 : parseCount(value);
            events.add(new Event(Op.COUNTER_GET, thread, key, count, count < 0 ? value : null, start, end, error));
        }

        /** After the run, {@code GET key} returned {@code value} (null: missing). */
        public void finalRead(String key, String value) {
            finals.add(new FinalRead(key, value, false));
        }

        /** After the run, {@code GET} of the counter {@code key} returned {@code value} (null: missing). */
        public void finalCounter(String key, String value) {
            finals.add(new FinalRead(key, value, true));
        }

        /** After the run, {@code key} could not be read; {@code lastError} is why. */
        public void unverified(String key, String lastError) {
            synchronized (unverified) {
                unverified.put(key, String.valueOf(lastError));
            }
        }

        /** A labelled instant, e.g. when a fault was injected. */
        public void mark(String label, long nanos) {
            marks.add(new Mark(label, nanos));
        }

        /** Something that makes the run unverifiable (a thread hung or crashed). */
        public void problem(String message) {
            problems.add(message);
        }

        /** Checks the whole history; call once recording has stopped. */
        public Result check() {
            List<Event> all = new ArrayList<>(events);
            all.sort(Comparator.comparingLong(Event::start));
            long t0 = origin != Long.MIN_VALUE ? origin : all.isEmpty() ? 0 : all.get(0).start();
            Check c = new Check(t0);

            // counts, errors, latency
            Map<String, List<Event>> writesByKey = new HashMap<>();
            Map<String, List<Event>> countersByKey = new LinkedHashMap<>();
            Set<String> keys = new HashSet<>();
            long lastEnd = t0;
            for (Event e : all) {
                keys.add(e.key());
                lastEnd = Math.max(lastEnd, e.end());
                switch (e.op()) {
                    case SET -> {
                        c.writes++;
                        if (e.error() == null) {
                            c.ackedWrites++;
                        }
                        writesByKey.computeIfAbsent(e.key(), k -> new ArrayList<>()).add(e);
                    }
                    case GET -> c.reads++;
                    case INCR -> {
                        c.incrs++;
                        countersByKey.computeIfAbsent(e.key(), k -> new ArrayList<>()).add(e);
                    }
                    case COUNTER_GET -> {
                        c.reads++;
                        countersByKey.computeIfAbsent(e.key(), k -> new ArrayList<>()).add(e);
                    }
                }
                if (e.error() != null) {
                    c.error(e);
                }
                if (c.slowest == null || e.end() - e.start() > c.slowest.end() - c.slowest.start()) {
                    c.slowest = e;
                }
            }
            Map<String, KeyWrites> byKey = new HashMap<>();
            writesByKey.forEach((key, list) -> byKey.put(key, new KeyWrites(key, list)));

            // reads of SET keys
            for (Event r : all) {
                if (r.op() == Op.GET && r.error() == null) {
                    c.checkRead(r, byKey.get(r.key()));
                }
            }

            // counters, in the order their one thread sent the commands
            Map<String, Counter> counters = new HashMap<>();
            countersByKey.forEach((key, list) -> counters.put(key, c.checkCounter(key, list)));

            // final reads
            for (FinalRead f : finals) {
                keys.add(f.key());
                if (f.counter()) {
                    c.checkFinalCounter(f, counters.getOrDefault(f.key(), new Counter()));
                } else {
                    c.checkFinal(f, byKey.get(f.key()));
                }
            }
            Map<String, String> unreadable;
            synchronized (unverified) {
                unreadable = new LinkedHashMap<>(unverified);
            }
            unreadable.forEach((key, error) -> {
                keys.add(key);
                c.sample(() -> "unverified: the final GET " + key + " kept failing: " + error);
            });

            long stopped = end != Long.MIN_VALUE ? end : lastEnd;
            List<Mark> markList = new ArrayList<>(marks);
            markList.sort(Comparator.comparingLong(Mark::nanos));
            return new Result(all.size(), c.writes, c.ackedWrites, c.reads, c.incrs,
                    c.errors, c.errorReplies, c.errorTexts(), c.relative(c.firstError), c.relative(c.lastError),
                    c.stale, c.malformed, c.future, c.lost, c.incrMismatches, unreadable.size(),
                    List.copyOf(c.staleReads), List.copyOf(c.lostWrites), keys.size(), finals.size(),
                    c.slowest == null ? Duration.ZERO : Duration.ofNanos(c.slowest.end() - c.slowest.start()),
                    c.slowest == null ? "" : c.describe(c.slowest),
                    Duration.ofNanos(Math.max(0, stopped - t0)),
                    markList.stream().map(m -> new Result.Marked(m.label(), Duration.ofNanos(m.nanos() - t0))).toList(),
                    List.copyOf(c.samples), List.copyOf(problems));
        }
    }

    /**
     * One command. {@code version}: for SET the version written, for GET the version read (0: missing;
     * -1: malformed, and then {@code value} holds what was read), for INCR its reply, for a counter's
     * GET the count read (-1: malformed, see {@code value}). Values are parsed when recorded, so that
     * long runs keep no strings.
     */
    private record Event(Op op, String thread, String key, long version, String value, long start, long end,
                         String error) {
    }

    private record FinalRead(String key, String value, boolean counter) {
    }

    private record Mark(String label, long nanos) {
    }

    /** A counter's INCRs as its thread saw them. */
    private static final class Counter {
        long attempted;
        long acked;
    }

    /** The state of one {@link History#check()}. */
    private static final class Check {
        final long t0;
        long writes;
        long ackedWrites;
        long reads;
        long incrs;
        long errors;
        long errorReplies;
        long firstError = Long.MAX_VALUE;
        long lastError = Long.MIN_VALUE;
        final Map<String, Long> texts = new HashMap<>();
        Event slowest;
        long stale;
        long malformed;
        long future;
        long lost;
        long incrMismatches;
        final List<StaleRead> staleReads = new ArrayList<>();
        final List<LostWrite> lostWrites = new ArrayList<>();
        final List<String> samples = new ArrayList<>();

        Check(long t0) {
            this.t0 = t0;
        }

        void error(Event e) {
            errors++;
            if (e.error().startsWith("-")) {
                errorReplies++;
            }
            firstError = Math.min(firstError, e.end());
            lastError = Math.max(lastError, e.end());
            String text = texts.containsKey(e.error()) || texts.size() < MAX_ERROR_TEXTS ? e.error() : OTHER_ERRORS;
            texts.merge(text, 1L, Long::sum);
        }

        /** Distinct error texts, most frequent first. */
        Map<String, Long> errorTexts() {
            Map<String, Long> sorted = new LinkedHashMap<>();
            texts.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .forEach(en -> sorted.put(en.getKey(), en.getValue()));
            return Collections.unmodifiableMap(sorted);
        }

        Duration relative(long nanos) {
            return nanos == Long.MAX_VALUE || nanos == Long.MIN_VALUE ? null : Duration.ofNanos(nanos - t0);
        }

        void checkRead(Event r, KeyWrites kw) {
            long version = r.version();
            if (version < 0) {
                malformed++;
                sample(() -> "malformed: " + describe(r) + " is not <version>@" + r.key());
                return;
            }
            if (version > 0 && (kw == null || kw.sent(version) > r.end())) {
                future++;
                long sent = kw == null ? Long.MAX_VALUE : kw.sent(version);
                sample(() -> "future: " + describe(r) + (sent == Long.MAX_VALUE
                        ? ", a version never written" : ", whose SET was sent only at " + at(sent)));
            }
            Event latest = kw == null ? null : kw.latestAckedBefore(r.start());
            if (latest != null && latest.version() > version) {
                stale++;
                long lag = r.start() - latest.end();
                boolean unacked = version > 0 && kw.isUnacknowledged(version);
                if (staleReads.size() < MAX_DETAILS) {
                    staleReads.add(new StaleRead(r.key(), r.thread(), version, latest.version(), Duration.ofNanos(lag),
                            Duration.ofNanos(r.start() - t0), unacked));
                }
                sample(() -> "stale: " + describe(r) + ", but version " + latest.version() + " was acknowledged at "
                        + at(latest.end()) + ", " + millis(lag) + " before the GET began"
                        + (unacked ? " (the version read is a SET whose outcome was unknown)" : ""));
            }
        }

        Counter checkCounter(String key, List<Event> list) {
            list.sort(Comparator.comparingLong(Event::start));
            Counter n = new Counter();
            boolean failed = false;
            for (Event e : list) {
                if (e.op() == Op.INCR) {
                    n.attempted++;
                    if (e.error() != null) {
                        failed = true;
                        continue;
                    }
                    n.acked++;
                    long value = e.version();
                    if (!failed && value != n.attempted) {
                        incrMismatch(e, value, "expected exactly " + n.attempted + " (no INCR of it failed before)");
                    } else if (failed && (value < n.acked || value > n.attempted)) {
                        incrMismatch(e, value, "expected " + n.acked + ".." + n.attempted
                                + " (acknowledged..attempted INCRs; one failed before)");
                    }
                } else if (e.error() == null) {
                    long value = e.version();
                    if (value < 0) {
                        malformed++;
                        sample(() -> "malformed: " + describe(e) + " is not an integer");
                    } else if (value < n.acked || value > n.attempted) {
                        incrMismatch(e, value, "expected " + n.acked + ".." + n.attempted
                                + " (acknowledged..attempted INCRs)");
                    }
                }
            }
            return n;
        }

        private void incrMismatch(Event e, long value, String expected) {
            incrMismatches++;
            sample(() -> "incr: " + describe(e) + " (" + value + "), " + expected);
        }

        void checkFinal(FinalRead f, KeyWrites kw) {
            long version = parse(f.key(), f.value());
            if (version < 0) {
                malformed++;
                sample(() -> "malformed: the final GET " + f.key() + " returned " + show(f.value())
                        + ", not <version>@" + f.key());
                return;
            }
            if (version > 0 && (kw == null || kw.sent(version) == Long.MAX_VALUE)) {
                future++;
                sample(() -> "future: the final GET " + f.key() + " returned " + show(f.value())
                        + ", a version never written");
            }
            Event latest = kw == null ? null : kw.latestAcked();
            if (latest != null && latest.version() > version) {
                lost(f.key(), version, latest.version(), latest.end(), false);
            }
        }

        void checkFinalCounter(FinalRead f, Counter n) {
            long value = parseCount(f.value());
            if (value < 0) {
                malformed++;
                sample(() -> "malformed: the final GET " + f.key() + " returned " + show(f.value())
                        + ", not an integer");
            } else if (value < n.acked) {
                lost(f.key(), value, n.acked, Long.MIN_VALUE, true);
            } else if (value > n.attempted) {
                incrMismatches++;
                sample(() -> "incr: the final GET " + f.key() + " returned " + value + ", but only "
                        + n.attempted + " INCRs were sent");
            }
        }

        private void lost(String key, long version, long acked, long ackedAt, boolean counter) {
            lost++;
            if (lostWrites.size() < MAX_DETAILS) {
                lostWrites.add(new LostWrite(key, version, acked, counter,
                        ackedAt == Long.MIN_VALUE ? null : Duration.ofNanos(ackedAt - t0)));
            }
            sample(() -> "lost: the final GET " + key + " returned " + (counter ? "count " : "version ") + version
                    + ", but " + (counter ? acked + " INCRs were" : "version " + acked + " was") + " acknowledged"
                    + (ackedAt == Long.MIN_VALUE ? "" : " at " + at(ackedAt)));
        }

        void sample(Supplier<String> text) {
            if (samples.size() < MAX_SAMPLES) {
                samples.add(text.get());
            }
        }

        String describe(Event e) {
            String command = switch (e.op()) {
                case SET -> "SET " + e.key() + " " + e.version();
                case GET, COUNTER_GET -> "GET " + e.key();
                case INCR -> "INCR " + e.key();
            };
            String outcome = e.error() != null ? "failed: " + e.error() : switch (e.op()) {
                case SET -> "OK";
                case INCR -> Long.toString(e.version());
                case GET -> e.version() < 0 ? show(e.value()) : show(e.version() == 0 ? null : value(e.key(), e.version()));
                case COUNTER_GET -> e.version() < 0 ? show(e.value()) : Long.toString(e.version());
            };
            return command + " by " + e.thread() + " from " + at(e.start()) + " to " + at(e.end()) + " returned "
                    + outcome;
        }

        private String at(long nanos) {
            return String.format("+%.3f s", (nanos - t0) / 1e9);
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
            return version <= 0 ? -1 : version;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A counter's value: 0 for a missing key, -1 when it is not a non-negative integer. */
    static long parseCount(String value) {
        if (value == null) {
            return 0;
        }
        try {
            long n = Long.parseLong(value);
            return n < 0 ? -1 : n;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String show(String value) {
        return value == null ? "nil" : '"' + value + '"';
    }

    static String millis(long nanos) {
        return String.format("%.3f ms", nanos / 1e6);
    }

    /** One key's SETs: acknowledged ones in acknowledgement order (which must be version order), and when each version was sent. */
    private static final class KeyWrites {
        private final Event[] acked;
        private final long[] ackTimes;
        private final Map<Long, Event> byVersion = new HashMap<>();

        KeyWrites(String key, List<Event> writes) {
            for (Event w : writes) {
                if (byVersion.put(w.version(), w) != null) {
                    throw new IllegalStateException("key " + key + ": version " + w.version()
                            + " written twice (expected: one writer per key, increasing versions)");
                }
            }
            this.acked = writes.stream().filter(w -> w.error() == null)
                    .sorted(Comparator.comparingLong(Event::end)).toArray(Event[]::new);
            this.ackTimes = new long[acked.length];
            for (int i = 0; i < acked.length; i++) {
                ackTimes[i] = acked[i].end();
                if (i > 0 && acked[i].version() <= acked[i - 1].version()) {
                    throw new IllegalStateException("key " + key + ": version " + acked[i].version()
                            + " acknowledged after version " + acked[i - 1].version()
                            + " (expected: one writer per key, increasing versions)");
                }
            }
        }

        /** The last SET acknowledged strictly before {@code nanos}, or null. */
        Event latestAckedBefore(long nanos) {
            int lo = 0;
            int hi = ackTimes.length;
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

        Event latestAcked() {
            return acked.length == 0 ? null : acked[acked.length - 1];
        }

        /** When the SET of {@code version} was sent; {@link Long#MAX_VALUE} if it never was. */
        long sent(long version) {
            Event w = byVersion.get(version);
            return w == null ? Long.MAX_VALUE : w.start();
        }

        boolean isUnacknowledged(long version) {
            Event w = byVersion.get(version);
            return w != null && w.error() != null;
        }
    }

    /**
     * A GET by {@code thread} that returned {@code version} of {@code key} although
     * {@code expectedVersion} had been acknowledged {@code lag} before the GET began, {@code at} after
     * the start; {@code unacknowledged} when the version read is a SET whose outcome was unknown.
     */
    public record StaleRead(String key, String thread, long version, long expectedVersion, Duration lag, Duration at,
                            boolean unacknowledged) {
        @Override
        public String toString() {
            return String.format("%s read version %d of %s at +%.3f s, %.3f ms after version %d was acknowledged%s",
                    thread, version, key, at.toNanos() / 1e9, lag.toNanos() / 1e6, expectedVersion,
                    unacknowledged ? " (an unacknowledged version)" : "");
        }
    }

    /**
     * A key whose final value ({@code finalVersion}; for a counter, its count) is older than
     * {@code ackedVersion}, the latest acknowledged (for a counter, the acknowledged INCRs), which was
     * acknowledged {@code ackedAt} after the start (null for counters).
     */
    public record LostWrite(String key, long finalVersion, long ackedVersion, boolean counter, Duration ackedAt) {
        @Override
        public String toString() {
            return key + ": final " + (counter ? "count " : "version ") + finalVersion + " < acknowledged "
                    + ackedVersion + (ackedAt == null ? "" : String.format(" (at +%.3f s)", ackedAt.toNanos() / 1e9));
        }
    }

    /**
     * What a run found. Counts of commands cover the traffic only (not the final reads): {@code ops}
     * = {@code writes} (SET) + {@code reads} (GET, counters' included) + {@code incrs}.
     *
     * @param errorReplies how many of the {@code errors} were error replies (the others: exceptions)
     * @param errorTexts   distinct error texts, most frequent first, with their counts
     * @param firstError   when the first failed command ended, relative to the start; null if none
     * @param lastError    when the last failed command ended, relative to the start; null if none
     * @param unverified   keys the final read could not read within the final timeout
     * @param staleReads   the first {@link #MAX_DETAILS} stale reads ({@code stale} counts all)
     * @param lostWrites   the first {@link #MAX_DETAILS} lost writes ({@code lost} counts all)
     * @param keys         distinct keys in the history
     * @param verifiedKeys keys read by the final verification
     * @param maxLatency   the longest command, successful or not
     * @param slowestOp    that command, described
     * @param elapsed      how long the traffic ran
     * @param marks        the labels set with {@link Running#mark}, and when
     * @param samples      the first {@link #MAX_SAMPLES} anomalies of any kind, described
     * @param problems     what made the run unverifiable (a thread hung or crashed)
     */
    public record Result(long ops, long writes, long ackedWrites, long reads, long incrs,
                         long errors, long errorReplies, Map<String, Long> errorTexts, Duration firstError,
                         Duration lastError, long stale, long malformed, long future, long lost, long incrMismatches,
                         long unverified, List<StaleRead> staleReads, List<LostWrite> lostWrites, int keys,
                         int verifiedKeys, Duration maxLatency, String slowestOp, Duration elapsed,
                         List<Marked> marks, List<String> samples, List<String> problems) {

        /** A {@link Running#mark} label and when it was set, relative to the start. */
        public record Marked(String label, Duration at) {
            @Override
            public String toString() {
                return String.format("%s at +%.3f s", label, at.toNanos() / 1e9);
            }
        }

        /** Failed commands that were exceptions (timeouts, broken or refused connections). */
        public long exceptions() {
            return errors - errorReplies;
        }

        /** errors / ops; 0 when there were no ops. */
        public double errorRatio() {
            return ops == 0 ? 0 : (double) errors / ops;
        }

        /** From the first error to the last; zero when there were none. */
        public Duration errorSpan() {
            return firstError == null ? Duration.ZERO : lastError.minus(firstError);
        }

        /**
         * stale + malformed + future + lost + incr mismatches, plus unverified keys and problems
         * (a run that could not be checked must not pass).
         */
        public long violations() {
            return stale + malformed + future + lost + incrMismatches + unverified + problems.size();
        }

        /** One line: counts, errors, violations, the slowest command. */
        @Override
        public String toString() {
            return String.format("ops=%d (writes=%d acked=%d reads=%d incrs=%d) in %.3f s, errors=%d (%.3f%%, replies=%d"
                            + " exceptions=%d, first %s last %s) violations=%d (stale=%d malformed=%d future=%d lost=%d"
                            + " incr=%d unverified=%d problems=%d) keys=%d verified=%d max-latency=%.1f ms",
                    ops, writes, ackedWrites, reads, incrs, elapsed.toNanos() / 1e9, errors, errorRatio() * 100,
                    errorReplies, exceptions(), when(firstError), when(lastError), violations(), stale, malformed,
                    future, lost, incrMismatches, unverified, problems.size(), keys, verifiedKeys,
                    maxLatency.toNanos() / 1e6);
        }

        /** {@link #toString()}, then marks, error texts, the slowest command, anomalies and problems, one per line. */
        public String report() {
            StringBuilder b = new StringBuilder(toString());
            for (Marked m : marks) {
                b.append("\n  mark: ").append(m);
            }
            errorTexts.forEach((text, count) -> b.append("\n  error x").append(count).append(": ").append(text));
            if (!slowestOp.isEmpty()) {
                b.append("\n  slowest: ").append(slowestOp);
            }
            for (String s : samples) {
                b.append("\n  ").append(s);
            }
            for (String p : problems) {
                b.append("\n  problem: ").append(p);
            }
            return b.toString();
        }

        private static String when(Duration d) {
            return d == null ? "-" : String.format("+%.3f s", d.toNanos() / 1e9);
        }
    }
}
