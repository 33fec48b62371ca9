package io.cacheproxy.proxy.tracking;

import io.cacheproxy.resp.RespRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a client asked for with {@code CLIENT TRACKING on [REDIRECT id] [PREFIX p …] [BCAST] [OPTIN]
 * [OPTOUT] [NOLOOP]}, checked as Redis checks it (same error texts). Immutable.
 *
 * @param redirect the client id invalidations go to; 0 for the client itself
 * @param prefixes BCAST prefixes (empty: every key)
 */
public record TrackingOptions(long redirect, List<byte[]> prefixes, boolean bcast, boolean optin, boolean optout,
                              boolean noloop) {

    /** A parse result: the options, or Redis's error for them. */
    public record Parsed(TrackingOptions options, String error) {
    }

    /** Parses the options after {@code CLIENT TRACKING on} (from argument 3). */
    public static Parsed parse(RespRequest request) {
        long redirect = 0;
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
                    if (redirect != 0) {
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
                    prefixes.add(request.argString(++i).getBytes(StandardCharsets.UTF_8));
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
        if (!bcast && !prefixes.isEmpty()) {
            return error("ERR PREFIX option requires BCAST mode to be enabled");
        }
        if (optin && optout) {
            return error("ERR You can't use both OPTIN and OPTOUT");
        }
        if (bcast && (optin || optout)) {
            return error("ERR OPTIN and OPTOUT are not compatible with BCAST");
        }
        return new Parsed(new TrackingOptions(redirect, List.copyOf(prefixes), bcast, optin, optout, noloop), null);
    }

    private static Parsed error(String message) {
        return new Parsed(null, message);
    }

    /** Whether a BCAST client wants invalidations of {@code key}. */
    boolean matches(byte[] key) {
        if (prefixes.isEmpty()) {
            return true;
        }
        for (byte[] prefix : prefixes) {
            if (key.length >= prefix.length && java.util.Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
                return true;
            }
        }
        return false;
    }
}
