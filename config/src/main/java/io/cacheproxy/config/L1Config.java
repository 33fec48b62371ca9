package io.cacheproxy.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code l1}: the in-process near cache of hot keys' replies.
 *
 * @param enabled   {@code enabled}: default true
 * @param maxMemory {@code max-memory}: bytes the cached replies may take; default 256mb; > 0
 * @param maxTtl    {@code max-ttl}: an entry never outlives this, nor the key's TTL in Redis;
 *                  default 30s; > 0
 * @param hotKeys   {@code hot-keys}: which keys may enter
 */
public record L1Config(boolean enabled, long maxMemory, Duration maxTtl, HotKeysConfig hotKeys) {

    private static final L1Config DEFAULTS = new L1Config(true, 256L << 20, Duration.ofSeconds(30),
            HotKeysConfig.defaults());

    public L1Config {
        Objects.requireNonNull(maxTtl, "maxTtl");
        Objects.requireNonNull(hotKeys, "hotKeys");
        new Violations()
                .require(maxMemory > 0, "max-memory", Sizes.format(maxMemory), "> 0, e.g. 256mb")
                .require(maxTtl.isPositive(), "max-ttl", Durations.format(maxTtl), "> 0s, e.g. 30s")
                .throwIfAny();
    }

    /** Enabled, 256mb, 30s, 20 reads per second. */
    public static L1Config defaults() {
        return DEFAULTS;
    }

    /** The defaults, switched off. */
    public static L1Config disabled() {
        return new L1Config(false, DEFAULTS.maxMemory, DEFAULTS.maxTtl, DEFAULTS.hotKeys);
    }
}
