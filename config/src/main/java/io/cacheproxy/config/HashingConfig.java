package io.cacheproxy.config;

/**
 * {@code pools.NAME.hashing}: the ketama-style ring of a sharded pool ({@code {hash tags}} are
 * always honoured). Ignored by cluster and sentinel pools.
 *
 * @param vnodes {@code vnodes}: virtual nodes per node on the ring; default 160; 1..10000
 */
public record HashingConfig(int vnodes) {

    private static final HashingConfig DEFAULTS = new HashingConfig(160);

    public HashingConfig {
        new Violations().require(vnodes >= 1 && vnodes <= 10_000, "vnodes", vnodes, "1..10000").throwIfAny();
    }

    /** 160 virtual nodes. */
    public static HashingConfig defaults() {
        return DEFAULTS;
    }
}
