package io.cacheproxy.config;

import java.util.Objects;

/**
 * A host (name, IPv4 or IPv6 address without brackets) and a TCP port.
 *
 * <p>Port 0 is allowed here because a listen address may ask for any free port; backend nodes
 * require 1..65535, which {@link PoolConfig} checks. {@link #toString()} gives {@code host:port}
 * ({@code [::1]:7001} for IPv6), which {@link #parse} reads back.
 *
 * @param host a host name or address, never empty
 * @param port 0..65535
 */
public record HostAndPort(String host, int port) {

    public HostAndPort {
        Objects.requireNonNull(host, "host");
        new Violations()
                .require(!host.isEmpty() && !Violations.hasWhitespace(host) && !host.contains("["), "host", host,
                        "a host name or address")
                .require(port >= 0 && port <= 65535, "port", port, "0..65535")
                .throwIfAny();
    }

    /**
     * Parses {@code host:port}, or {@code [ipv6]:port}.
     *
     * @throws ConfigException (an {@link IllegalArgumentException}) naming the text and the
     *                         expected form
     */
    public static HostAndPort parse(String text) {
        String s = text.strip();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw invalid(text, "expected: [ipv6-address]:port, e.g. [::1]:6380");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw invalid(text, "expected: host:port, e.g. 127.0.0.1:6380");
            }
            if (s.indexOf(':') != colon) {
                throw invalid(text, "expected: an IPv6 address in brackets, e.g. [::1]:6380");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        if (host.isEmpty() || Violations.hasWhitespace(host)) {
            throw invalid(text, "expected: host:port with a host, e.g. 127.0.0.1:6380");
        }
        if (!port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
            throw invalid(text, "expected: host:port with a port 0..65535");
        }
        return new HostAndPort(host, Integer.parseInt(port));
    }

    private static ConfigException invalid(String text, String reason) {
        return ConfigException.of("address", text, reason);
    }

    /** Same as {@code new HostAndPort(host, port)}. */
    public static HostAndPort of(String host, int port) {
        return new HostAndPort(host, port);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
