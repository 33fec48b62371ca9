package io.cacheproxy.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code pools.NAME.timeouts}: deadlines towards the pool's nodes. Every request has one, so a
 * slow or dead node yields an error reply, never a hang.
 *
 * @param connect {@code connect}: opening a connection to a node; default 1s; > 0
 * @param command {@code command}: from sending a command to its reply; default 1s; > 0 (blocking
 *                commands add their own timeout to it)
 */
public record TimeoutsConfig(Duration connect, Duration command) {

    private static final TimeoutsConfig DEFAULTS = new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(1));

    public TimeoutsConfig {
        Objects.requireNonNull(connect, "connect");
        Objects.requireNonNull(command, "command");
        new Violations()
                .require(connect.isPositive(), "connect", Durations.format(connect), "> 0s")
                .require(command.isPositive(), "command", Durations.format(command), "> 0s")
                .throwIfAny();
    }

    /** 1s and 1s. */
    public static TimeoutsConfig defaults() {
        return DEFAULTS;
    }
}
