package io.cacheproxy.config;

import java.util.Objects;

/**
 * {@code invalidation.broadcast}: every proxy publishes the keys it writes on a pub/sub channel
 * of each backend and drops them from its L1 when another proxy publishes them. It covers writes
 * that tracking cannot see, such as from proxies whose backends do not support tracking.
 *
 * @param enabled {@code enabled}: default true
 * @param channel {@code channel}: the pub/sub channel; default {@code __cacheproxy:invalidate}
 */
public record BroadcastConfig(boolean enabled, String channel) {

    private static final BroadcastConfig DEFAULTS = new BroadcastConfig(true, "__cacheproxy:invalidate");

    public BroadcastConfig {
        Objects.requireNonNull(channel, "channel");
        new Violations().require(!channel.isEmpty() && !Violations.hasWhitespace(channel), "channel", channel,
                "a channel name without spaces").throwIfAny();
    }

    /** Enabled on {@code __cacheproxy:invalidate}. */
    public static BroadcastConfig defaults() {
        return DEFAULTS;
    }
}
