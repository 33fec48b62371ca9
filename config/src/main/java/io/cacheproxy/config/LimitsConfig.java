package io.cacheproxy.config;

/**
 * {@code server.limits}: what one client may make the proxy buffer. Requests over a limit are a
 * protocol error (the connection is closed after the error, as Redis does).
 *
 * @param maxBulk            {@code max-bulk}: largest bulk string in a request, bytes; default
 *                           512mb (Redis's {@code proto-max-bulk-len}); 1..2147483647
 * @param maxArgs            {@code max-args}: most elements in a request array; default 1048576
 * @param maxInline          {@code max-inline}: longest inline command line, bytes; default 64kb
 *                           (Redis's limit)
 * @param clientOutputBuffer {@code client-output-buffer}: replies queued for one client before it
 *                           is disconnected, bytes; default 64mb; 0 = unlimited
 */
public record LimitsConfig(long maxBulk, int maxArgs, int maxInline, long clientOutputBuffer) {

    private static final LimitsConfig DEFAULTS = new LimitsConfig(512L << 20, 1_048_576, 64 << 10, 64L << 20);

    public LimitsConfig {
        new Violations()
                .require(maxBulk > 0 && maxBulk <= Integer.MAX_VALUE, "max-bulk", Sizes.format(maxBulk),
                        "1b to 2147483647b (under 2gb)")
                .require(maxArgs > 0, "max-args", maxArgs, ">= 1")
                .require(maxInline > 0, "max-inline", Sizes.format(maxInline), ">= 1b")
                .require(clientOutputBuffer >= 0, "client-output-buffer", Sizes.format(clientOutputBuffer),
                        ">= 0 (0 = unlimited)")
                .throwIfAny();
    }

    /** 512mb, 1048576, 64kb, 64mb. */
    public static LimitsConfig defaults() {
        return DEFAULTS;
    }
}
