package io.cacheproxy.proxy.server;

import io.cacheproxy.resp.RespRequest;

/**
 * Reads the timeout a blocking command asks Redis for, so the proxy's deadline for it is that
 * timeout plus the pool's command timeout rather than the command timeout alone.
 */
final class BlockingTimeouts {
    /** The command's timeout could not be read: the normal command deadline applies. */
    static final long UNKNOWN = -1;

    private BlockingTimeouts() {
    }

    /** The timeout in milliseconds; 0 = block forever; {@link #UNKNOWN} when not readable. */
    static long timeoutMillis(String command, RespRequest request) {
        try {
            return switch (command) {
                // timeout in seconds (may be fractional) as the last argument
                case "blpop", "brpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax" ->
                        seconds(request.argString(request.argCount() - 1));
                // timeout in seconds as the first argument
                case "blmpop", "bzmpop" -> seconds(request.argString(1));
                // WAIT numreplicas timeout-ms / WAITAOF numlocal numreplicas timeout-ms
                case "wait" -> Math.max(0, Long.parseLong(request.argString(2)));
                case "waitaof" -> Math.max(0, Long.parseLong(request.argString(3)));
                case "xread", "xreadgroup" -> blockOption(request);
                default -> UNKNOWN;
            };
        } catch (RuntimeException e) {
            return UNKNOWN;   // a malformed timeout: Redis will answer with the error
        }
    }

    private static long seconds(String value) {
        double seconds = Double.parseDouble(value);
        return seconds <= 0 ? 0 : (long) Math.ceil(seconds * 1000);
    }

    /** XREAD … BLOCK ms …: without BLOCK the command does not block (normal deadline). */
    private static long blockOption(RespRequest request) {
        for (int i = 1; i + 1 < request.argCount(); i++) {
            if (request.argEqualsIgnoreCase(i, BLOCK)) {
                return Math.max(0, Long.parseLong(request.argString(i + 1)));
            }
            if (request.argEqualsIgnoreCase(i, STREAMS)) {
                break;
            }
        }
        return UNKNOWN;
    }

    private static final byte[] BLOCK = {'B', 'L', 'O', 'C', 'K'};
    private static final byte[] STREAMS = {'S', 'T', 'R', 'E', 'A', 'M', 'S'};
}
