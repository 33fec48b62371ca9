package io.cacheproxy.config;

import java.util.Collection;
import java.util.Locale;

/** "Did you mean ...?" for misspelt keys, enum values and pool names. */
final class Suggestions {

    private static final int MAX_DISTANCE = 2;

    private Suggestions() {
    }

    /**
     * The candidate closest to {@code typed}: one equal to it apart from case, {@code -} and
     * {@code _} ({@code maxTtl} for {@code max-ttl}), else the nearest within edit distance 2;
     * {@code null} when none is close.
     */
    static String closest(String typed, Collection<String> candidates) {
        String t = normalize(typed);
        String best = null;
        int bestDistance = MAX_DISTANCE + 1;
        for (String c : candidates) {
            if (normalize(c).equals(t)) {
                return c;
            }
            int d = distance(typed.toLowerCase(Locale.ROOT), c.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best;
    }

    /** {@code "; did you mean `x`?"}, or empty. */
    static String didYouMean(String typed, Collection<String> candidates) {
        String c = closest(typed, candidates);
        return c == null ? "" : "; did you mean `" + c + "`?";
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
