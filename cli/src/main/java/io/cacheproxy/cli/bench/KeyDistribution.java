package io.cacheproxy.cli.bench;

import java.util.SplittableRandom;

/**
 * Which key a request uses: an index in {@code [0, keys)}, named {@code key:<index>} on the wire.
 * Implementations are immutable and shared by all connections; each connection passes its own
 * random generator, so sampling needs no synchronization.
 */
sealed interface KeyDistribution permits KeyDistribution.Uniform, ZipfKeys {

    /** A key index in {@code [0, keys)}. */
    int next(SplittableRandom random);

    /** The number of distinct keys. */
    int keys();

    /** Every key equally likely. */
    record Uniform(int keys) implements KeyDistribution {
        public Uniform {
            if (keys < 1) {
                throw new IllegalArgumentException("keys: " + keys + " (expected: >= 1)");
            }
        }

        @Override
        public int next(SplittableRandom random) {
            return random.nextInt(keys);
        }
    }
}
