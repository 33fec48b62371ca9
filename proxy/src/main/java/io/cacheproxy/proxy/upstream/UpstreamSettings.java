package io.cacheproxy.proxy.upstream;

import io.cacheproxy.resp.RespLimits;
import java.time.Duration;
import java.util.Objects;

/**
 * How to talk to the nodes of one pool.
 *
 * @param connectTimeout      how long a TCP connect (plus handshake) may take
 * @param commandTimeout      the deadline of every forwarded request
 * @param password            AUTH password of the nodes, or null
 * @param replyLimits         limits for scanning backend replies
 * @param blockingConnections connections for blocking commands this proxy may have to each node,
 *                            over all event loops ({@code pools.NAME.blocking-connections})
 * @param readonly            send {@code READONLY} after the handshake, so cluster replicas serve
 *                            reads (harmless on masters)
 */
public record UpstreamSettings(Duration connectTimeout, Duration commandTimeout, String password, RespLimits replyLimits,
                               int blockingConnections, boolean readonly) {

    public UpstreamSettings(Duration connectTimeout, Duration commandTimeout, String password, RespLimits replyLimits,
                            int blockingConnections) {
        this(connectTimeout, commandTimeout, password, replyLimits, blockingConnections, false);
    }

    public UpstreamSettings {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        Objects.requireNonNull(replyLimits, "replyLimits");
        if (commandTimeout.isNegative() || commandTimeout.isZero()) {
            throw new IllegalArgumentException("commandTimeout: " + commandTimeout + " (expected: > 0)");
        }
        if (blockingConnections <= 0) {
            throw new IllegalArgumentException("blockingConnections: " + blockingConnections + " (expected: > 0)");
        }
    }
}
