package io.cacheproxy.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as the configuration writes them: {@code 64mb}, {@code 512kb}, {@code 1gb},
 * {@code 64b}, or a bare number of bytes ({@code 100}); case-insensitive, binary units
 * ({@code 1kb = 1024} bytes, as Redis's {@code 1kb}). Redis's decimal {@code 1k} is refused rather
 * than silently read as 1000 or 1024. {@link #format} writes the largest exact unit.
 */
public final class Sizes {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([a-z]*)");
    private static final String EXPECTED = "expected: a whole number of bytes with an optional unit b, kb, mb, gb"
            + " or tb (1kb = 1024 bytes), e.g. 64mb";
    private static final String[] UNITS = {"b", "kb", "mb", "gb", "tb"};

    private Sizes() {
    }

    /**
     * Parses {@code 64mb}, {@code 100} ... into a number of bytes.
     *
     * @throws ConfigException (an {@link IllegalArgumentException}) naming the text and the
     *                         expected form
     */
    public static long parse(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw ConfigException.of("size", text, EXPECTED);
        }
        int shift = switch (m.group(2)) {
            case "", "b" -> 0;
            case "kb" -> 10;
            case "mb" -> 20;
            case "gb" -> 30;
            case "tb" -> 40;
            default -> -1;
        };
        if (shift < 0) {
            throw ConfigException.of("size", text, EXPECTED);
        }
        try {
            long n = Long.parseLong(m.group(1));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw ConfigException.of("size", text, "expected: a smaller size");
        }
    }

    /** The largest exact unit: {@code 0}, {@code 64b}, {@code 1536b}... {@code 512kb}, {@code 256mb}, {@code 1gb}. */
    public static String format(long bytes) {
        if (bytes == 0) {
            return "0";
        }
        if (bytes < 0) {
            return Long.toString(bytes);
        }
        int unit = 0;
        while (unit < UNITS.length - 1 && (bytes & 1023) == 0) {
            bytes >>= 10;
            unit++;
        }
        return bytes + UNITS[unit];
    }
}
