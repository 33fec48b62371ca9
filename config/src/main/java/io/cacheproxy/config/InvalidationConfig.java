package io.cacheproxy.config;

import java.util.Objects;

/**
 * {@code invalidation}: how writes made elsewhere reach L1. With both ways off, L1 entries are
 * only bounded by {@code l1.max-ttl} for writes that do not pass through this proxy.
 *
 * @param tracking  {@code tracking}: server-assisted invalidation with Redis {@code CLIENT
 *                  TRACKING}; default true
 * @param broadcast {@code broadcast}: the pub/sub channel between proxies
 */
public record InvalidationConfig(boolean tracking, BroadcastConfig broadcast) {

    private static final InvalidationConfig DEFAULTS = new InvalidationConfig(true, BroadcastConfig.defaults());

    public InvalidationConfig {
        Objects.requireNonNull(broadcast, "broadcast");
    }

    /** Tracking on, broadcast on {@code __cacheproxy:invalidate}. */
    public static InvalidationConfig defaults() {
        return DEFAULTS;
    }
}
