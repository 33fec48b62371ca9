package io.cacheproxy.cli.bench;

import java.util.SplittableRandom;

/**
 * Zipf key popularity: the key of rank {@code r} (1 = hottest) is drawn with probability proportional
 * to {@code 1 / r^exponent}.
 *
 * <p>Sampling is by rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to generate
 * variates from monotone discrete distributions", ACM TOMACS 6(3), 1996), the method of Apache Commons
 * RNG's {@code RejectionInversionZipfSampler}: constant time and memory for any number of keys, a few
 * {@code log}/{@code exp} calls per sample and rarely a second try. A precomputed CDF would cost 8 MB
 * and a binary search with about twenty cache misses per request for a million keys.
 *
 * <p>Rank {@code r} then becomes key index {@code (r - 1) * multiplier mod keys}. The multiplier is
 * coprime to {@code keys}, so this is a bijection (every key still exists, and {@code --prefill}
 * covers them all), and the hot keys are spread over the key space, and so over shards and hash slots,
 * instead of being {@code key:0}, {@code key:1}, ...
 */
final class ZipfKeys implements KeyDistribution {

    /** 2^64 / golden ratio: its residues mod n are spread evenly, so consecutive ranks land far apart. */
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final int keys;
    private final double exponent;
    private final double hIntegralX1;
    private final double hIntegralN;
    private final double s;
    private final long multiplier;

    /**
     * @param keys     the number of keys, >= 1
     * @param exponent the Zipf exponent, > 0 (0.99 is the YCSB default; larger is more skewed)
     */
    ZipfKeys(int keys, double exponent) {
        if (keys < 1) {
            throw new IllegalArgumentException("keys: " + keys + " (expected: >= 1)");
        }
        if (!(exponent > 0) || Double.isInfinite(exponent)) {
            throw new IllegalArgumentException("exponent: " + exponent + " (expected: > 0)");
        }
        this.keys = keys;
        this.exponent = exponent;
        this.hIntegralX1 = hIntegral(1.5) - 1;
        this.hIntegralN = hIntegral(keys + 0.5);
        this.s = 2 - hIntegralInverse(hIntegral(2.5) - h(2));
        this.multiplier = coprimeMultiplier(keys);
    }

    @Override
    public int keys() {
        return keys;
    }

    double exponent() {
        return exponent;
    }

    @Override
    public int next(SplittableRandom random) {
        return scramble(nextRank(random) - 1);
    }

    /** A rank in {@code [1, keys]}, 1 the most popular. */
    int nextRank(SplittableRandom random) {
        for (;;) {
            // u is uniform in (hIntegralX1, hIntegralN]
            double u = hIntegralN + random.nextDouble() * (hIntegralX1 - hIntegralN);
            double x = hIntegralInverse(u);
            int k = (int) (x + 0.5);
            if (k < 1) {
                k = 1;
            } else if (k > keys) {
                k = keys;
            }
            if (k - x <= s || u >= hIntegral(k + 0.5) - h(k)) {
                return k;
            }
        }
    }

    /** The key index of the zero-based rank {@code index}: a bijection on {@code [0, keys)}. */
    int scramble(int index) {
        return (int) (index * multiplier % keys);
    }

    private static long coprimeMultiplier(int n) {
        long m = Long.remainderUnsigned(GOLDEN, n);
        while (gcd(m, n) != 1) {
            m = (m + 1) % n;
        }
        return m;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** H(x) = integral of h from 1 to x, shifted so that it is defined for exponent 1 too. */
    private double hIntegral(double x) {
        double logX = Math.log(x);
        return helper2((1 - exponent) * logX) * logX;
    }

    /** h(x) = 1 / x^exponent. */
    private double h(double x) {
        return Math.exp(-exponent * Math.log(x));
    }

    private double hIntegralInverse(double x) {
        double t = x * (1 - exponent);
        if (t < -1) {
            t = -1; // rounding can take t just below -1, where log1p is undefined
        }
        return Math.exp(helper1(t) * x);
    }

    /** log(1 + x) / x, accurate near 0. */
    private static double helper1(double x) {
        return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
    }

    /** (exp(x) - 1) / x, accurate near 0. */
    private static double helper2(double x) {
        return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
    }

    @Override
    public String toString() {
        return "zipf(" + exponent + ") over " + keys + " keys";
    }
}
