package io.cacheproxy.proxy.tracking;

import io.cacheproxy.resp.RespRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What a client asked for with {@code CLIENT TRACKING on|off [REDIRECT id] [PREFIX p …] [BCAST]
 * [OPTIN] [OPTOUT] [NOLOOP]}, checked in Redis 7's order with its error texts. Immutable.
 *
 * @param redirect the client id invalidations go to; {@link #NO_REDIRECT} for the client itself
 * @param prefixes BCAST prefixes, sorted; BCAST without PREFIX has the one empty prefix (every key),
 *                 as Redis lists it
 */
public record TrackingOptions(long redirect, List<byte[]> prefixes, boolean bcast, boolean optin, boolean optout,
                              boolean noloop) {
    public static final long NO_REDIRECT = Long.MIN_VALUE;

    /** A parse result: whether tracking is to be on, the options, or Redis's error for them. */
    public record Parsed(boolean on, TrackingOptions options, String error) {
    }

    /** Parses {@code CLIENT TRACKING on|off [options]} (the mode is argument 2). */
    public static Parsed parse(RespRequest request) {
        String mode = request.argString(2).toLowerCase(Locale.ROOT);
        long redirect = NO_REDIRECT;
        List<byte[]> prefixes = new ArrayList<>();
        boolean bcast = false;
        boolean optin = false;
        boolean optout = false;
        boolean noloop = false;
        int argc = request.argCount();
        for (int i = 3; i < argc; i++) {
            String option = request.argString(i).toLowerCase(Locale.ROOT);
            boolean more = i + 1 < argc;
            switch (option) {
                case "redirect" -> {
                    if (!more) {
                        return error("ERR syntax error");
                    }
                    if (redirect != NO_REDIRECT) {
                        return error("ERR A client can only redirect to a single other client");
                    }
                    try {
                        redirect = Long.parseLong(request.argString(++i));
                    } catch (NumberFormatException e) {
                        return error("ERR value is not an integer or out of range");
                    }
                }
                case "prefix" -> {
                    if (!more) {
                        return error("ERR syntax error");
                    }
                    prefixes.add(request.argBytes(++i));
                }
                case "bcast" -> bcast = true;
                case "optin" -> optin = true;
                case "optout" -> optout = true;
                case "noloop" -> noloop = true;
                default -> {
                    return error("ERR syntax error");
                }
            }
        }
        boolean on;
        if (mode.equals("on")) {
            on = true;
        } else if (mode.equals("off")) {
            on = false;
        } else {
            return error("ERR syntax error");
        }
        if (on) {
            if (!bcast && !prefixes.isEmpty()) {
                return error("ERR PREFIX option requires BCAST mode to be enabled");
            }
            if (bcast && (optin || optout)) {
                return error("ERR OPTIN and OPTOUT are not compatible with BCAST");
            }
            if (optin && optout) {
                return error("ERR You can't specify both OPTIN mode and OPTOUT mode");
            }
        }
        return new Parsed(on, new TrackingOptions(redirect, sorted(prefixes), bcast, optin, optout, noloop), null);
    }

    private static Parsed error(String message) {
        return new Parsed(false, null, message);
    }

    private static List<byte[]> sorted(List<byte[]> prefixes) {
        List<byte[]> out = new ArrayList<>(prefixes);
        out.sort(Arrays::compareUnsigned);
        return List.copyOf(out);
    }

    /** These options, re-enabled over {@code now}: as Redis, prefixes add up, flags and the redirect are replaced. */
    TrackingOptions over(TrackingOptions now) {
        if (now == null) {
            return bcast && prefixes.isEmpty() ? withPrefixes(List.of(new byte[0])) : this;
        }
        List<byte[]> merged = new ArrayList<>(now.prefixes);
        if (bcast && prefixes.isEmpty() && merged.isEmpty()) {
            merged.add(new byte[0]);
        }
        for (byte[] p : prefixes) {
            if (merged.stream().noneMatch(m -> Arrays.equals(m, p))) {
                merged.add(p);
            }
        }
        return new TrackingOptions(redirect, sorted(merged), bcast, optin, optout, noloop);
    }

    private TrackingOptions withPrefixes(List<byte[]> p) {
        return new TrackingOptions(redirect, p, bcast, optin, optout, noloop);
    }

    /**
     * Redis's refusal of overlapping prefixes (one a prefix of another), among the new ones and
     * against those already registered ({@code now}); null when they do not overlap.
     */
    String overlap(TrackingOptions now) {
        for (int i = 0; i < prefixes.size(); i++) {
            byte[] p = prefixes.get(i);
            if (now != null) {
                for (byte[] existing : now.prefixes) {
                    if (!Arrays.equals(existing, p) && (startsWith(existing, p) || startsWith(p, existing))) {
                        return "ERR Prefix '" + text(p) + "' overlaps with an existing prefix '" + text(existing)
                                + "'. Prefixes for a single client must not overlap.";
                    }
                }
            }
            for (int j = i + 1; j < prefixes.size(); j++) {
                byte[] q = prefixes.get(j);
                if (startsWith(p, q) || startsWith(q, p)) {
                    return "ERR Prefix '" + text(p) + "' overlaps with another provided prefix '" + text(q)
                            + "'. Prefixes for a single client must not overlap.";
                }
            }
        }
        return null;
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Whether a BCAST client wants invalidations of {@code key}. */
    boolean matches(byte[] key) {
        for (byte[] prefix : prefixes) {
            if (startsWith(key, prefix)) {
                return true;
            }
        }
        return false;
    }

    /** The redirect as CLIENT GETREDIR and TRACKINGINFO show it: 0 for none. */
    public long shownRedirect() {
        return redirect == NO_REDIRECT ? 0 : redirect;
    }
}
