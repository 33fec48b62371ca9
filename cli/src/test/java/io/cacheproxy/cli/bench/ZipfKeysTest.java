package io.cacheproxy.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ZipfKeysTest {

    private static final int SAMPLES = 1_000_000;

    /**
     * Draws {@value #SAMPLES} ranks with a fixed seed and compares the frequency of a few ranks with
     * r^-s / H(n, s): each must be within 5 standard deviations of a binomial count, so a correct
     * sampler fails about once in two million runs and a wrong one (an off-by-one rank, a wrong
     * exponent) fails every time.
     */
    @ParameterizedTest(name = "n={0} s={1} seed={2}")
    @CsvSource({
        "1000000, 0.99, 1",
        "1000, 0.99, 2",
        "1000, 1.0, 3",
        "100, 0.5, 4",
        "10000, 1.2, 5",
        "50, 2.0, 6",
        "10, 0.01, 7",
    })
    void shouldDrawRanksAsOftenAsZipfsLawPredicts(int n, double s, long seed) {
        ZipfKeys zipf = new ZipfKeys(n, s);
        SplittableRandom random = new SplittableRandom(seed);
        int[] ranks = {1, 2, 3, 5, 10, 100};
        long[] counts = new long[ranks.length];
        for (int i = 0; i < SAMPLES; i++) {
            int rank = zipf.nextRank(random);
            assertThat(rank).isBetween(1, n);
            for (int j = 0; j < ranks.length; j++) {
                if (rank == ranks[j]) {
                    counts[j]++;
                }
            }
        }
        double harmonic = 0;
        for (int k = n; k >= 1; k--) { // smallest terms first, for accuracy
            harmonic += Math.pow(k, -s);
        }
        for (int j = 0; j < ranks.length; j++) {
            if (ranks[j] > n) {
                continue;
            }
            double p = Math.pow(ranks[j], -s) / harmonic;
            double expected = p * SAMPLES;
            double sd = Math.sqrt(SAMPLES * p * (1 - p));
            assertThat((double) counts[j]).as("rank %d (seed %d): expected %.0f", ranks[j], seed, expected)
                    .isBetween(expected - 5 * sd, expected + 5 * sd);
        }
    }

    @Test
    void shouldAlwaysDrawTheOnlyKey() {
        ZipfKeys zipf = new ZipfKeys(1, 0.99);
        SplittableRandom random = new SplittableRandom(8);
        for (int i = 0; i < 1_000; i++) {
            assertThat(zipf.next(random)).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 10, 64, 1000, 999_983, 1_000_000})
    void scrambleShouldBeABijectionOnTheKeySpace(int n) {
        ZipfKeys zipf = new ZipfKeys(n, 0.99);
        BitSet seen = new BitSet(n);
        for (int i = 0; i < n; i++) {
            int key = zipf.scramble(i);
            assertThat(key).isBetween(0, n - 1);
            assertThat(seen.get(key)).as("key %d seen twice", key).isFalse();
            seen.set(key);
        }
        assertThat(seen.cardinality()).isEqualTo(n);
    }

    @Test
    void shouldSpreadTheHottestKeysOverTheKeySpace() {
        int n = 1_000_000;
        ZipfKeys zipf = new ZipfKeys(n, 0.99);
        BitSet buckets = new BitSet(100);
        for (int rank = 0; rank < 100; rank++) {
            buckets.set(zipf.scramble(rank) / (n / 100));
        }
        assertThat(buckets.cardinality()).as("percentiles of the key space holding the 100 hottest keys")
                .isGreaterThan(50);
    }

    @Test
    void shouldRejectBadParameters() {
        assertThatThrownBy(() -> new ZipfKeys(0, 0.99)).hasMessage("keys: 0 (expected: >= 1)");
        assertThatThrownBy(() -> new ZipfKeys(10, 0)).hasMessage("exponent: 0.0 (expected: > 0)");
        assertThatThrownBy(() -> new ZipfKeys(10, Double.NaN)).hasMessage("exponent: NaN (expected: > 0)");
    }

    @Test
    void uniformKeysShouldCoverTheKeySpaceEvenly() {
        KeyDistribution uniform = new KeyDistribution.Uniform(10);
        SplittableRandom random = new SplittableRandom(9);
        int[] counts = new int[10];
        for (int i = 0; i < 100_000; i++) {
            counts[uniform.next(random)]++;
        }
        // expected 10,000 each, sd ~95
        assertThat(java.util.Arrays.stream(counts).boxed().toList()).allSatisfy(c -> assertThat(c).isBetween(9_500, 10_500));
    }
}
