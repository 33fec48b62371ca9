package io.cacheproxy.routing;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Key-prefix routes to pools: the first route whose prefix starts the key wins; the default route
 * (no prefix) takes every other key and every command without keys. Immutable.
 *
 * @param <P> what a route leads to (the proxy's pool object)
 */
public final class RouteTable<P> {
    private final byte[][] prefixes;
    private final List<P> targets;
    private final P defaultTarget;
    private final List<P> distinctTargets;

    private RouteTable(byte[][] prefixes, List<P> targets, P defaultTarget) {
        this.prefixes = prefixes;
        this.targets = targets;
        this.defaultTarget = defaultTarget;
        List<P> all = new ArrayList<>();
        for (P t : targets) {
            if (!all.contains(t)) {
                all.add(t);
            }
        }
        if (!all.contains(defaultTarget)) {
            all.add(defaultTarget);
        }
        this.distinctTargets = List.copyOf(all);
    }

    /** A route: {@code prefix} null means the default route. */
    public record Route<P>(String prefix, P target) {
        public Route {
            Objects.requireNonNull(target, "target");
        }
    }

    /** @param routes in order; exactly one, the last, has no prefix */
    public static <P> RouteTable<P> of(List<Route<P>> routes) {
        if (routes.isEmpty() || routes.get(routes.size() - 1).prefix() != null) {
            throw new IllegalArgumentException("routes: " + routes + " (expected: the last route has no prefix)");
        }
        List<Route<P>> prefixed = routes.subList(0, routes.size() - 1);
        byte[][] prefixes = new byte[prefixed.size()][];
        List<P> targets = new ArrayList<>();
        for (int i = 0; i < prefixed.size(); i++) {
            String prefix = prefixed.get(i).prefix();
            if (prefix == null) {
                throw new IllegalArgumentException("routes[" + i + "].prefix: null (expected: only the last route has no prefix)");
            }
            prefixes[i] = prefix.getBytes(StandardCharsets.UTF_8);
            targets.add(prefixed.get(i).target());
        }
        return new RouteTable<>(prefixes, List.copyOf(targets), routes.get(routes.size() - 1).target());
    }

    public P defaultTarget() {
        return defaultTarget;
    }

    /** Every distinct target, the default last. */
    public List<P> targets() {
        return distinctTargets;
    }

    /** The target for the key {@code buf[offset, offset+length)}. */
    public P targetFor(ByteBuf buf, int offset, int length) {
        for (int r = 0; r < prefixes.length; r++) {
            byte[] prefix = prefixes[r];
            if (prefix.length <= length && startsWith(buf, offset, prefix)) {
                return targets.get(r);
            }
        }
        return defaultTarget;
    }

    private static boolean startsWith(ByteBuf buf, int offset, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if (buf.getByte(offset + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
