package io.cacheproxy.config;

import java.util.Objects;

/**
 * {@code admin}: the HTTP endpoint for {@code /metrics}, {@code /health}, {@code /ready},
 * {@code /status} and the topology and reload operations.
 *
 * @param listen {@code listen}: default {@code 127.0.0.1:9121}; port 0 picks a free port
 */
public record AdminConfig(HostAndPort listen) {

    private static final AdminConfig DEFAULTS = new AdminConfig(new HostAndPort("127.0.0.1", 9121));

    public AdminConfig {
        Objects.requireNonNull(listen, "listen");
    }

    /** Listens on {@code 127.0.0.1:9121}. */
    public static AdminConfig defaults() {
        return DEFAULTS;
    }
}
