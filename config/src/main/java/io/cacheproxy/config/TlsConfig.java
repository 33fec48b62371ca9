package io.cacheproxy.config;

/**
 * {@code server.tls}: TLS for client connections. Paths are PEM files, resolved against the
 * working directory; they are not opened here, the server reports an unreadable file at start.
 *
 * @param enabled  {@code enabled}: default false
 * @param cert     {@code cert}: certificate chain file; required when enabled, else may be null
 * @param key      {@code key}: private key file (PKCS#8); required when enabled, else may be null
 * @param clientCa {@code client-ca}: CA file to verify client certificates against; null = clients
 *                 are not asked for a certificate
 */
public record TlsConfig(boolean enabled, String cert, String key, String clientCa) {

    private static final TlsConfig DEFAULTS = new TlsConfig(false, null, null, null);

    public TlsConfig {
        cert = emptyToNull(cert);
        key = emptyToNull(key);
        clientCa = emptyToNull(clientCa);
        new Violations()
                .requirePresent(!enabled || cert != null, "cert", "required when enabled is true")
                .requirePresent(!enabled || key != null, "key", "required when enabled is true")
                .throwIfAny();
    }

    /** Disabled, no files. */
    public static TlsConfig defaults() {
        return DEFAULTS;
    }

    static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
