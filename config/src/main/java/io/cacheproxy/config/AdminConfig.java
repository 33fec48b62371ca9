package io.cacheproxy.config;

import java.util.Objects;

/**
 * {@code admin}: the HTTP endpoint for {@code /metrics}, {@code /health}, {@code /ready},
 * {@code /status} and the topology and reload operations.
 *
 * @param listen {@code listen}: default {@code 127.0.0.1:9121}; port 0 picks a free port
 * @param token  {@code token}: when set, {@code POST /nodes}, {@code DELETE /nodes/...} and
 *               {@code POST /reload} need {@code Authorization: Bearer <token>}; the read-only
 *               endpoints stay open. Null (or empty in the file, e.g. an unset
 *               <code>${CACHEPROXY_ADMIN_TOKEN:-}</code>) = no token needed, the default
 */
public record AdminConfig(HostAndPort listen, String token) {

    private static final AdminConfig DEFAULTS = new AdminConfig(new HostAndPort("127.0.0.1", 9121), null);

    public AdminConfig {
        Objects.requireNonNull(listen, "listen");
        token = TlsConfig.emptyToNull(token);
    }

    /** Listens on {@code 127.0.0.1:9121}, no token. */
    public static AdminConfig defaults() {
        return DEFAULTS;
    }

    /** Keeps the token out of logs. */
    @Override
    public String toString() {
        return "AdminConfig[listen=" + listen + ", token=" + (token == null ? "null" : "****") + "]";
    }
}
