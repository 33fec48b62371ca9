package io.cacheproxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * {@code server}: the client-facing RESP listener.
 *
 * @param listen          {@code listen}: address for clients; default {@code 127.0.0.1:6380};
 *                        port 0 picks a free port
 * @param maxClients      {@code max-clients}: connections accepted at once; default 10000
 * @param idleTimeout     {@code idle-timeout}: close a client idle this long; default 0 = never
 * @param limits          {@code limits}: per-request and per-client buffer limits
 * @param tls             {@code tls}: TLS for clients; default off
 * @param ioThreads       {@code io-threads}: Netty event loops; default 1 (what measured best on
 *                        small machines, see DESIGN.md); 0 = one per core; at most 1024
 * @param transport       {@code transport}: {@code auto} (io_uring, else epoll, else nio),
 *                        {@code io_uring}, {@code epoll} or {@code nio}; default auto
 * @param shutdownTimeout {@code shutdown-timeout}: how long SIGTERM waits for in-flight requests
 *                        before closing connections; default 10s
 */
public record ServerConfig(HostAndPort listen, int maxClients, Duration idleTimeout, LimitsConfig limits,
                           TlsConfig tls, int ioThreads, String transport, Duration shutdownTimeout) {

    /** The values {@code server.transport} accepts. */
    public static final List<String> TRANSPORTS = List.of("auto", "io_uring", "epoll", "nio");

    private static final ServerConfig DEFAULTS = new ServerConfig(new HostAndPort("127.0.0.1", 6380), 10_000,
            Duration.ZERO, LimitsConfig.defaults(), TlsConfig.defaults(), 1, "auto", Duration.ofSeconds(10));

    public ServerConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        new Violations()
                .require(maxClients > 0, "max-clients", maxClients, ">= 1")
                .require(!idleTimeout.isNegative(), "idle-timeout", Durations.format(idleTimeout), ">= 0s (0 = never)")
                .require(ioThreads >= 0 && ioThreads <= 1024, "io-threads", ioThreads, "0 (one per core) to 1024")
                .require(TRANSPORTS.contains(transport), "transport", transport, "one of " + String.join(", ", TRANSPORTS))
                .require(!shutdownTimeout.isNegative(), "shutdown-timeout", Durations.format(shutdownTimeout), ">= 0s")
                .throwIfAny();
    }

    /** Every key at its default. */
    public static ServerConfig defaults() {
        return DEFAULTS;
    }

    public ServerConfig withListen(HostAndPort newListen) {
        return new ServerConfig(newListen, maxClients, idleTimeout, limits, tls, ioThreads, transport, shutdownTimeout);
    }
}
