package io.cacheproxy.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code pools.NAME.health}: the health probes that eject a failing node and bring it back.
 *
 * @param interval        {@code interval}: time between probes of each node; default 500ms; > 0
 * @param failuresToEject {@code failures-to-eject}: failed probes in a row that eject a node;
 *                        default 3; >= 1
 */
public record HealthConfig(Duration interval, int failuresToEject) {

    private static final HealthConfig DEFAULTS = new HealthConfig(Duration.ofMillis(500), 3);

    public HealthConfig {
        Objects.requireNonNull(interval, "interval");
        new Violations()
                .require(interval.isPositive(), "interval", Durations.format(interval), "> 0s")
                .require(failuresToEject >= 1, "failures-to-eject", failuresToEject, ">= 1")
                .throwIfAny();
    }

    /** Every 500ms, ejected after 3 failures. */
    public static HealthConfig defaults() {
        return DEFAULTS;
    }
}
