package io.cacheproxy.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Hit ratio of an L1 built like the proxy's {@code NearCache} (Caffeine W-TinyLFU bounded by bytes) against
 * a plain LRU with the same byte budget, on one synthetic workload: Zipf-distributed keys, a share of reads
 * and writes, fixed-size values. A plain {@code main} program, not JMH: it measures hits, not time.
 *
 * <p><b>Model.</b> Keys are {@code key:0000000} … (11 bytes); key {@code i} has rank {@code i + 1} in a
 * Zipf distribution with exponent {@code skew}, sampled from a precomputed CDF ({@link ZipfKeys}). An op is
 * a read with probability {@code reads}, else a write; both pick their key from the same distribution. A
 * read is a hit if the cache holds the key; on a miss the key is filled (the reply of {@code GET} is
 * {@code $100\r\n} + value + {@code \r\n}). A write removes the key from the cache. An entry weighs what
 * the proxy's {@code Entry} counts for one GET variant: 64 + key length + 80 + reply length (263 bytes
 * for 100-byte values), so the budgets are percentages of {@code keys ×} that weight. Both caches see the
 * same op sequence (same seed).
 *
 * <p><b>Fill policies.</b> {@code every miss fills}: no admission in front of the cache. {@code hot keys,
 * min-reads-per-second N}: a miss fills only when a copy of the proxy's {@code HotKeySketch} (count-min
 * sketches of reads and invalidations, 4 × 16384 counters each, halved once per second) admits the key,
 * with the proxy's key hash; time advances by {@code 1 / rate} seconds per op, so this policy depends on
 * the simulated request rate. The copy can drift from {@code proxy}'s class (benchmarks must not depend
 * on {@code proxy}, STYLE.md §1).
 *
 * <p><b>Not modelled.</b> L1's expiry ({@code l1.max-ttl}, the keys' TTLs), refresh-ahead (a hot key's
 * reads are re-sent after an invalidation, so the read after a write can be a hit in the proxy), several
 * variants per key, fill races, and concurrency. Caffeine's admission breaks some frequency ties with
 * {@code ThreadLocalRandom}, so W-TinyLFU figures can differ in the last digits between runs; LRU figures
 * are exact.
 *
 * <p><b>Static top-K</b> is the Zipf optimum under the independent reference model: the share of reads
 * that go to the K most popular keys that fit in the budget, times the chance that a read's previous op
 * on the same key was not a write (a write always costs the next read its hit).
 *
 * <p>Run: {@code ./mvnw -B -pl benchmarks -am package -DskipTests && java -cp benchmarks/target/benchmarks.jar
 * io.cacheproxy.benchmarks.HitRatioSimulation [ops=20000000] [warmup=5000000] [keys=1000000] [skew=0.99]
 * [reads=0.95] [value=100] [budgets=1,5,10,25] [min-reads=20] [rate=100000] [seed=42] [threads=N]}
 * ({@code min-reads=} with no value: only "every miss fills").
 */
public final class HitRatioSimulation {
    private static final int ENTRY_OVERHEAD = 64;
    private static final int VARIANT_OVERHEAD = 80;
    private static final int KEY_DIGITS = 7;
    private static final int KEY_LENGTH = "key:".length() + KEY_DIGITS;

    private HitRatioSimulation() {
    }

    /** What the simulation runs; every field has a default (see {@link #parse}). */
    record Settings(long ops, long warmup, int keys, double skew, double reads, int valueSize, double[] budgetPercents,
                    int[] minReads, double rate, long seed, int threads) {
        Settings {
            require(ops > 0, "ops", ops, "> 0");
            require(warmup >= 0, "warmup", warmup, ">= 0");
            require(keys > 0 && keys <= 10_000_000, "keys", keys, "1..10000000");
            require(skew > 0, "skew", skew, "> 0");
            require(reads > 0 && reads <= 1, "reads", reads, "(0, 1]");
            require(valueSize >= 0, "value", valueSize, ">= 0");
            for (double p : budgetPercents) {
                require(p > 0 && p <= 100, "budgets", p, "(0, 100]");
            }
            for (int n : minReads) {
                require(n >= 1, "min-reads", n, ">= 1");
            }
            require(rate > 0, "rate", rate, "> 0");
            require(threads > 0, "threads", threads, "> 0");
        }

        /** The bytes L1 counts for one key's GET reply: entry and variant bookkeeping, key, reply. */
        int entryWeight() {
            return ENTRY_OVERHEAD + KEY_LENGTH + VARIANT_OVERHEAD + replyLength(valueSize);
        }

        long keyspaceBytes() {
            return (long) keys * entryWeight();
        }
    }

    /** How misses fill the cache: {@code minReads} 0 is "every miss fills", else the hot-key sketch's threshold. */
    record FillPolicy(int minReads) {
        String describe(Settings s) {
            return minReads == 0 ? "every miss fills"
                    : String.format(Locale.ROOT, "hot keys only: min-reads-per-second %d at %,.0f ops/s", minReads,
                    s.rate());
        }
    }

    /** The counts of one (policy, budget) run over the measured ops. */
    record Result(FillPolicy policy, long budget, long reads, long hotReads, long tinyLfuHits, long lruHits) {
    }

    public static void main(String[] args) throws Exception {
        Settings s = parse(args);
        long started = System.nanoTime();
        ZipfKeys zipf = new ZipfKeys(s.keys(), s.skew());
        int[] hashes = keyHashes(s.keys());

        List<FillPolicy> policies = new ArrayList<>();
        policies.add(new FillPolicy(0));
        for (int n : s.minReads()) {
            policies.add(new FillPolicy(n));
        }
        List<Future<Result>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(s.threads())) {
            for (FillPolicy policy : policies) {
                for (double percent : s.budgetPercents()) {
                    long budget = Math.round(s.keyspaceBytes() * percent / 100);
                    futures.add(pool.submit(() -> run(s, policy, budget, zipf, hashes)));
                }
            }
        }

        System.out.printf(Locale.ROOT, "workload: zipf %.2f over %,d keys, %.0f%% reads / %.0f%% writes, %d-byte values%n",
                s.skew(), s.keys(), s.reads() * 100, (1 - s.reads()) * 100, s.valueSize());
        System.out.printf(Locale.ROOT, "entry weight %d B (64 + %d key + 80 + %d reply), keyspace %,d B%n",
                s.entryWeight(), KEY_LENGTH, replyLength(s.valueSize()), s.keyspaceBytes());
        System.out.printf(Locale.ROOT, "ops: %,d warm-up + %,d measured, seed %d; %s%n", s.warmup(), s.ops(), s.seed(),
                Runtime.version());
        int i = 0;
        for (FillPolicy policy : policies) {
            System.out.println();
            Result first = futures.get(i).get();
            System.out.printf(Locale.ROOT, "fill: %s%s%n", policy.describe(s), policy.minReads() == 0 ? ""
                    : String.format(Locale.ROOT, " (reads of keys the sketch admits: %.2f%%)",
                    100.0 * first.hotReads() / first.reads()));
            System.out.printf(Locale.ROOT, "%15s %8s %9s %10s %8s %8s %13s%n",
                    "budget (B)", "keyspace", "entries", "W-TinyLFU", "LRU", "diff", "static top-K");
            for (int b = 0; b < s.budgetPercents().length; b++) {
                Result r = futures.get(i++).get();
                long entries = r.budget() / s.entryWeight();
                double tiny = (double) r.tinyLfuHits() / r.reads();
                double lru = (double) r.lruHits() / r.reads();
                double optimum = zipf.topShare(entries) * s.reads();
                System.out.printf(Locale.ROOT, "%,15d %7.0f%% %,9d %9.2f%% %7.2f%% %+7.2f %12.2f%%%n",
                        r.budget(), s.budgetPercents()[b], entries, tiny * 100, lru * 100, (tiny - lru) * 100,
                        optimum * 100);
            }
        }
        System.out.printf(Locale.ROOT, "%n(diff in percentage points; %.1f s)%n", (System.nanoTime() - started) / 1e9);
    }

    /** One (policy, budget) run: both caches over the same op sequence. */
    private static Result run(Settings s, FillPolicy policy, long budget, ZipfKeys zipf, int[] hashes) {
        byte[] reply = new byte[replyLength(s.valueSize())];
        Cache<Integer, byte[]> tinyLfu = Caffeine.newBuilder()
                .maximumWeight(budget)
                .weigher((Integer key, byte[] value) -> weight(value))
                .executor(Runnable::run)
                .build();
        LruCache lru = new LruCache(budget);
        SimulatedHotKeySketch sketch = policy.minReads() == 0 ? null : new SimulatedHotKeySketch(policy.minReads());
        SplittableRandom random = new SplittableRandom(s.seed());
        double nanosPerOp = 1e9 / s.rate();
        long reads = 0;
        long hotReads = 0;
        long tinyLfuHits = 0;
        long lruHits = 0;
        long total = s.warmup() + s.ops();
        for (long op = 0; op < total; op++) {
            if (op == s.warmup()) {
                reads = hotReads = tinyLfuHits = lruHits = 0;
            }
            boolean read = random.nextDouble() < s.reads();
            int key = zipf.sample(random.nextDouble());
            Integer boxed = key;
            if (read) {
                boolean hot = sketch == null || sketch.recordReadAndAdmit(hashes[key], (long) (op * nanosPerOp));
                reads++;
                if (hot) {
                    hotReads++;
                }
                if (tinyLfu.getIfPresent(boxed) != null) {
                    tinyLfuHits++;
                } else if (hot) {
                    tinyLfu.put(boxed, reply);
                }
                if (lru.get(boxed)) {
                    lruHits++;
                } else if (hot) {
                    lru.put(boxed, reply);
                }
            } else {
                tinyLfu.invalidate(boxed);
                lru.remove(boxed);
                if (sketch != null) {
                    sketch.recordInvalidation(hashes[key]);
                }
            }
        }
        return new Result(policy, budget, reads, hotReads, tinyLfuHits, lruHits);
    }

    /** The bytes of a GET reply of a {@code valueSize}-byte value: {@code $<n>\r\n<value>\r\n}. */
    static int replyLength(int valueSize) {
        return 1 + Integer.toString(valueSize).length() + 2 + valueSize + 2;
    }

    /** What the proxy's {@code Entry} weighs with one GET variant holding {@code reply}. */
    static int weight(byte[] reply) {
        return ENTRY_OVERHEAD + KEY_LENGTH + VARIANT_OVERHEAD + reply.length;
    }

    /**
     * Zipf-distributed keys: key {@code i} has rank {@code i + 1} and probability proportional to
     * {@code (i + 1)^-skew}. Sampled by inversion of the exact CDF, with a guide table (Chen and Asau 1974)
     * that gives the first candidate in O(1), so a sample reads one or two cache lines of the CDF instead of
     * a binary search's twenty. Immutable, shared by all runs.
     */
    static final class ZipfKeys {
        private final double[] cdf;
        private final int[] guide;

        ZipfKeys(int keys, double skew) {
            cdf = new double[keys];
            double sum = 0;
            for (int i = 0; i < keys; i++) {
                sum += Math.pow(i + 1, -skew);
                cdf[i] = sum;
            }
            for (int i = 0; i < keys; i++) {
                cdf[i] /= sum;
            }
            cdf[keys - 1] = 1.0;
            guide = new int[keys];
            int i = 0;
            for (int j = 0; j < keys; j++) {
                double lower = (double) j / keys;
                while (cdf[i] <= lower) {
                    i++;
                }
                guide[j] = i;
            }
        }

        /** The key whose CDF interval holds {@code u} in [0, 1): the first {@code i} with {@code cdf[i] > u}. */
        int sample(double u) {
            int i = guide[(int) (u * guide.length)];
            while (cdf[i] <= u) {
                i++;
            }
            return i;
        }

        /** The share of samples that are one of the {@code k} most popular keys. */
        double topShare(long k) {
            return k <= 0 ? 0 : cdf[(int) Math.min(k, cdf.length) - 1];
        }
    }

    /** The proxy's {@code CacheKey} hash of each key's bytes ({@code key:0000000} …). */
    static int[] keyHashes(int keys) {
        int[] hashes = new int[keys];
        byte[] key = "key:0000000".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < keys; i++) {
            for (int d = key.length - 1, n = i; d >= key.length - KEY_DIGITS; d--, n /= 10) {
                key[d] = (byte) ('0' + n % 10);
            }
            hashes[i] = spread(Arrays.hashCode(key));
        }
        return hashes;
    }

    /** Murmur3's finaliser, as {@code CacheKey} applies it. */
    private static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }

    /** Least recently used first out, bounded by the same weights as the Caffeine cache. */
    static final class LruCache {
        private final long maximumWeight;
        private final LinkedHashMap<Integer, byte[]> map = new LinkedHashMap<>(1024, 0.75f, true);
        private long weightedSize;

        LruCache(long maximumWeight) {
            this.maximumWeight = maximumWeight;
        }

        /** Whether the key is held; a hit makes it the most recently used. */
        boolean get(Integer key) {
            return map.get(key) != null;
        }

        void put(Integer key, byte[] value) {
            byte[] old = map.put(key, value);
            weightedSize += weight(value) - (old == null ? 0 : weight(old));
            Iterator<Map.Entry<Integer, byte[]>> eldest = map.entrySet().iterator();
            while (weightedSize > maximumWeight && eldest.hasNext()) {
                weightedSize -= weight(eldest.next().getValue());
                eldest.remove();
            }
        }

        void remove(Integer key) {
            byte[] old = map.remove(key);
            if (old != null) {
                weightedSize -= weight(old);
            }
        }
    }

    /**
     * A single-threaded copy of the proxy's {@code HotKeySketch}: reads and invalidations counted in two
     * count-min sketches (4 rows of 16384 counters), halved every second of simulated time; a key is
     * admitted when its read estimate reaches {@code minReads} and exceeds its invalidation estimate.
     */
    static final class SimulatedHotKeySketch {
        private static final int BITS = 14;
        private static final int WIDTH = 1 << BITS;
        private static final int DEPTH = 4;
        private static final int[] SEEDS = {0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F};
        private static final long AGING_PERIOD_NANOS = 1_000_000_000L;

        private final int[] reads = new int[WIDTH * DEPTH];
        private final int[] invalidations = new int[WIDTH * DEPTH];
        private final int minReads;
        private long nextAgingNanos = AGING_PERIOD_NANOS;

        SimulatedHotKeySketch(int minReads) {
            this.minReads = Math.max(1, minReads);
        }

        /** Counts a read at {@code nowNanos} and returns whether the key may be filled. */
        boolean recordReadAndAdmit(int hash, long nowNanos) {
            if (nowNanos - nextAgingNanos >= 0) {
                nextAgingNanos = nowNanos + AGING_PERIOD_NANOS;
                for (int i = 0; i < reads.length; i++) {
                    reads[i] >>>= 1;
                    invalidations[i] >>>= 1;
                }
            }
            int estimate = increment(reads, hash);
            return estimate >= minReads && estimate > estimate(invalidations, hash);
        }

        void recordInvalidation(int hash) {
            increment(invalidations, hash);
        }

        private static int increment(int[] counters, int hash) {
            int min = Integer.MAX_VALUE;
            for (int row = 0; row < DEPTH; row++) {
                int i = index(hash, row);
                int v = counters[i];
                if (v != Integer.MAX_VALUE) {
                    counters[i] = ++v;
                }
                min = Math.min(min, v);
            }
            return min;
        }

        private static int estimate(int[] counters, int hash) {
            int min = Integer.MAX_VALUE;
            for (int row = 0; row < DEPTH; row++) {
                min = Math.min(min, counters[index(hash, row)]);
            }
            return min;
        }

        private static int index(int hash, int row) {
            int h = hash * SEEDS[row];
            return row * WIDTH + (h >>> (32 - BITS));
        }
    }

    /** Parses {@code name=value} arguments over the defaults of the workload in the class Javadoc. */
    static Settings parse(String[] args) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("ops", "20000000");
        values.put("warmup", "5000000");
        values.put("keys", "1000000");
        values.put("skew", "0.99");
        values.put("reads", "0.95");
        values.put("value", "100");
        values.put("budgets", "1,5,10,25");
        values.put("min-reads", "20");
        values.put("rate", "100000");
        values.put("seed", "42");
        values.put("threads", Integer.toString(Runtime.getRuntime().availableProcessors()));
        for (String arg : args) {
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            if (eq < 0 || !values.containsKey(name)) {
                throw new IllegalArgumentException("argument: " + arg + " (expected: name=value, name one of "
                        + values.keySet() + ")");
            }
            values.put(name, arg.substring(eq + 1));
        }
        return new Settings(Long.parseLong(values.get("ops")), Long.parseLong(values.get("warmup")),
                Integer.parseInt(values.get("keys")), Double.parseDouble(values.get("skew")),
                Double.parseDouble(values.get("reads")), Integer.parseInt(values.get("value")),
                Arrays.stream(list(values.get("budgets"))).mapToDouble(Double::parseDouble).toArray(),
                Arrays.stream(list(values.get("min-reads"))).mapToInt(Integer::parseInt).toArray(),
                Double.parseDouble(values.get("rate")), Long.parseLong(values.get("seed")),
                Integer.parseInt(values.get("threads")));
    }

    private static String[] list(String value) {
        return value.isBlank() ? new String[0] : value.split(",");
    }

    private static void require(boolean ok, String name, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: " + expected + ")");
        }
    }
}
