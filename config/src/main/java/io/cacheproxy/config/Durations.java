package io.cacheproxy.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as the configuration writes them: a whole number and a unit, {@code 500ms},
 * {@code 10s}, {@code 1m}, {@code 2h}, {@code 1d} (also {@code us} and {@code ns}), case-insensitive.
 * A bare {@code 0} is allowed; any other number needs a unit, so {@code 500} is never guessed to be
 * milliseconds or seconds. {@link #format} writes the largest unit that is exact, so
 * {@code parse(format(d)).equals(d)} for every non-negative duration.
 */
public final class Durations {

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ns|us|ms|s|m|h|d)");
    private static final String EXPECTED =
            "expected: a whole number and a unit ms, s, m, h or d, e.g. 500ms or 10s";

    private Durations() {
    }

    /**
     * Parses {@code 500ms}, {@code 10s}, {@code 0} ...
     *
     * @throws ConfigException (an {@link IllegalArgumentException}) naming the text and the
     *                         expected form
     */
    public static Duration parse(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(s);
        if (!m.matches()) {
            String reason = s.matches("\\d+") ? "expected: a unit after the number (ms, s, m, h or d), e.g. " + s + "s"
                    : EXPECTED;
            throw ConfigException.of("duration", text, reason);
        }
        ChronoUnit unit = switch (m.group(2)) {
            case "ns" -> ChronoUnit.NANOS;
            case "us" -> ChronoUnit.MICROS;
            case "ms" -> ChronoUnit.MILLIS;
            case "s" -> ChronoUnit.SECONDS;
            case "m" -> ChronoUnit.MINUTES;
            case "h" -> ChronoUnit.HOURS;
            default -> ChronoUnit.DAYS;
        };
        try {
            return Duration.of(Long.parseLong(m.group(1)), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw ConfigException.of("duration", text, "expected: a shorter duration");
        }
    }

    /** The largest exact unit: {@code 0s}, {@code 500ms}, {@code 30s}, {@code 1m}, {@code 90s}, {@code 2h}. */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.isNegative()) {
            // Only for error messages: the file cannot hold negative durations.
            return d.equals(Duration.ofSeconds(Long.MIN_VALUE)) ? d.toString() : "-" + format(d.negated());
        }
        long nanos = d.getNano();
        long seconds = d.getSeconds();
        if (nanos == 0) {
            if (seconds % 86_400 == 0) {
                return seconds / 86_400 + "d";
            }
            if (seconds % 3_600 == 0) {
                return seconds / 3_600 + "h";
            }
            if (seconds % 60 == 0) {
                return seconds / 60 + "m";
            }
            return seconds + "s";
        }
        if (nanos % 1_000_000 == 0) {
            return d.toMillis() + "ms";
        }
        if (nanos % 1_000 == 0) {
            return seconds * 1_000_000 + nanos / 1_000 + "us";
        }
        return seconds * 1_000_000_000 + nanos + "ns";
    }
}
