package io.cacheproxy.cli.bench;

import io.cacheproxy.config.Durations;
import io.cacheproxy.config.HostAndPort;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * What one {@code cacheproxy bench} run does, validated. Messages name the command-line option:
 * {@code --clients: 0 (expected: >= 1)}.
 *
 * @param target       where the load goes
 * @param clients      connections, each with its own pipeline
 * @param pipeline     requests in flight per connection
 * @param threads      Netty event loop threads that run all connections
 * @param transport    {@code auto}, {@code io_uring}, {@code epoll} or {@code nio}
 * @param duration     how long the measured interval lasts; ignored when {@code requests > 0}
 * @param requests     measured requests to send in all, or 0 to run for {@code duration}
 * @param warmup       how long requests are sent, unmeasured, before the measured interval
 * @param keys         keyspace size: keys are {@code key:0} ... {@code key:<keys-1>}
 * @param distribution key popularity
 * @param zipfExponent the Zipf exponent (used with {@link Distribution#ZIPF})
 * @param readRatio    the fraction of requests that are GET; the others are SET
 * @param valueSize    bytes per SET value
 * @param prefill      SET every key once before the warmup, so GETs hit
 */
public record BenchPlan(HostAndPort target, int clients, int pipeline, int threads, String transport,
        Duration duration, long requests, Duration warmup, int keys, Distribution distribution,
        double zipfExponent, double readRatio, int valueSize, boolean prefill) {

    /** Larger values would not fit in one Redis bulk string. */
    static final int MAX_VALUE_SIZE = 512 * 1024 * 1024;
    /** Deeper pipelines only queue requests in socket buffers. */
    static final int MAX_PIPELINE = 65_536;

    /** Key popularity. */
    public enum Distribution {
        UNIFORM, ZIPF;

        /** {@code uniform} or {@code zipf}, case-insensitive. */
        public static Distribution parse(String text) {
            for (Distribution d : values()) {
                if (d.name().equalsIgnoreCase(text.strip())) {
                    return d;
                }
            }
            throw new IllegalArgumentException(invalid("--distribution", text, "uniform or zipf"));
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public BenchPlan {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(distribution, "distribution");
        require(target.port() > 0, "--target", target, "host:port with a port 1..65535");
        require(clients >= 1, "--clients", clients, ">= 1");
        require(pipeline >= 1 && pipeline <= MAX_PIPELINE, "--pipeline", pipeline, "1 to " + MAX_PIPELINE);
        require(threads >= 1, "--threads", threads, ">= 1");
        require(requests >= 0, "--requests", requests, ">= 1");
        if (requests == 0) {
            Objects.requireNonNull(duration, "duration");
            require(duration.toNanos() > 0, "--duration", Durations.format(duration), "> 0, e.g. 10s");
        }
        require(!warmup.isNegative(), "--warmup", Durations.format(warmup), ">= 0, e.g. 2s");
        require(keys >= 1, "--keys", keys, ">= 1");
        require(zipfExponent > 0 && zipfExponent <= 100, "--zipf-exponent", zipfExponent, "> 0 and <= 100, e.g. 0.99");
        require(readRatio >= 0 && readRatio <= 1, "--read-ratio", readRatio, "0.0 to 1.0");
        require(valueSize >= 0 && valueSize <= MAX_VALUE_SIZE, "--value-size", valueSize, "0 to " + MAX_VALUE_SIZE);
    }

    /** Whether the run ends after {@link #requests()} requests rather than after {@link #duration()}. */
    public boolean countsRequests() {
        return requests > 0;
    }

    KeyDistribution keyDistribution() {
        return switch (distribution) {
            case UNIFORM -> new KeyDistribution.Uniform(keys);
            case ZIPF -> new ZipfKeys(keys, zipfExponent);
        };
    }

    private static void require(boolean ok, String option, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(invalid(option, value, expected));
        }
    }

    /** {@code option: value (expected: expected)}. */
    static String invalid(String option, Object value, String expected) {
        return option + ": " + value + " (expected: " + expected + ")";
    }
}
