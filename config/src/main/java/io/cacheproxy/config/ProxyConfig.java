package io.cacheproxy.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The whole configuration: one immutable snapshot. A reload builds a new one; nothing in it
 * changes after construction.
 *
 * <p>Besides what each section checks, this record checks what spans sections: at least one
 * pool; every route names a defined pool; the last route, and only it, is the default (no
 * prefix); no route is unreachable behind an earlier prefix; the admin listener does not take the
 * RESP listener's address.
 *
 * @param server       {@code server}: the RESP listener
 * @param admin        {@code admin}: the HTTP admin listener
 * @param auth         {@code auth}: client users; no users = no {@code AUTH} needed
 * @param pools        {@code pools}: the backend pools by name, in file order; at least one
 * @param routes       {@code routes}: key prefix to pool, first match wins, the last is the
 *                     default; when the file has none, one default route to the first pool
 * @param l1           {@code l1}: the near cache
 * @param invalidation {@code invalidation}: how L1 learns of writes made elsewhere
 */
public record ProxyConfig(ServerConfig server, AdminConfig admin, AuthConfig auth, Map<String, PoolConfig> pools,
                          List<RouteConfig> routes, L1Config l1, InvalidationConfig invalidation) {

    public ProxyConfig {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(auth, "auth");
        pools = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(pools, "pools")));
        routes = List.copyOf(Objects.requireNonNull(routes, "routes"));
        Objects.requireNonNull(l1, "l1");
        Objects.requireNonNull(invalidation, "invalidation");

        Violations v = new Violations();
        v.requirePresent(!pools.isEmpty(), "pools", "no pools defined");
        pools.forEach((name, pool) -> v.require(name.equals(pool.name()), "pools." + name, pool.name(),
                "the pool named by its key"));
        v.addAll(checkRoutes(routes, pools.keySet()));
        v.addAll(checkListeners(server, admin));
        v.throwIfAny();
    }

    /**
     * Every section at its defaults, these pools, and one route to the first pool.
     */
    public static ProxyConfig of(List<PoolConfig> pools) {
        Map<String, PoolConfig> byName = new LinkedHashMap<>();
        pools.forEach(p -> byName.put(p.name(), p));
        List<RouteConfig> routes = pools.isEmpty() ? List.of() : List.of(RouteConfig.defaultRoute(pools.get(0).name()));
        return new ProxyConfig(ServerConfig.defaults(), AdminConfig.defaults(), AuthConfig.none(), byName, routes,
                L1Config.defaults(), InvalidationConfig.defaults());
    }

    /** The pool called {@code name}, or {@code null}. */
    public PoolConfig pool(String name) {
        return pools.get(name);
    }

    /** The pool of the last (default) route. */
    public PoolConfig defaultPool() {
        return pools.get(routes.get(routes.size() - 1).pool());
    }

    public ProxyConfig withServer(ServerConfig newServer) {
        return new ProxyConfig(newServer, admin, auth, pools, routes, l1, invalidation);
    }

    public ProxyConfig withAdmin(AdminConfig newAdmin) {
        return new ProxyConfig(server, newAdmin, auth, pools, routes, l1, invalidation);
    }

    public ProxyConfig withAuth(AuthConfig newAuth) {
        return new ProxyConfig(server, admin, newAuth, pools, routes, l1, invalidation);
    }

    public ProxyConfig withL1(L1Config newL1) {
        return new ProxyConfig(server, admin, auth, pools, routes, newL1, invalidation);
    }

    public ProxyConfig withInvalidation(InvalidationConfig newInvalidation) {
        return new ProxyConfig(server, admin, auth, pools, routes, l1, newInvalidation);
    }

    /**
     * The route rules, with paths from the top of the file. {@code routes} may hold {@code null}
     * for entries the loader could not read; they are skipped.
     */
    static List<ConfigError> checkRoutes(List<RouteConfig> routes, Collection<String> poolNames) {
        List<ConfigError> errors = new ArrayList<>();
        if (routes.isEmpty()) {
            errors.add(new ConfigError("routes", "[]",
                    "expected: at least one route; leave routes out to send every key to the first pool"));
            return errors;
        }
        int defaultIndex = -1;
        boolean unreadable = false;
        for (int i = 0; i < routes.size(); i++) {
            RouteConfig r = routes.get(i);
            String at = "routes[" + i + "]";
            if (r == null) {
                unreadable = true;
                continue;
            }
            if (!poolNames.contains(r.pool())) {
                errors.add(new ConfigError(at + ".pool", r.pool(), "unknown pool; defined pools: "
                        + String.join(", ", poolNames) + Suggestions.didYouMean(r.pool(), poolNames)));
            }
            if (defaultIndex >= 0) {
                errors.add(new ConfigError(at, null, "unreachable: it comes after the default route routes["
                        + defaultIndex + "] (the one without prefix), which takes every key"));
                continue;
            }
            if (r.isDefault()) {
                defaultIndex = i;
                continue;
            }
            for (int j = 0; j < i; j++) {
                RouteConfig earlier = routes.get(j);
                if (earlier != null && !earlier.isDefault() && r.prefix().startsWith(earlier.prefix())) {
                    errors.add(new ConfigError(at + ".prefix", r.prefix(), "unreachable: routes[" + j
                            + "] with prefix `" + earlier.prefix() + "` matches these keys first"));
                    break;
                }
            }
        }
        if (defaultIndex < 0 && !unreadable) {
            String example = poolNames.isEmpty() ? "main" : poolNames.iterator().next();
            errors.add(new ConfigError("routes", null, "the last route must be the default, a route without"
                    + " prefix, e.g. - {pool: " + example + "}"));
        }
        return errors;
    }

    /** The admin listener must not take the RESP listener's port. */
    static List<ConfigError> checkListeners(ServerConfig server, AdminConfig admin) {
        HostAndPort a = admin.listen();
        HostAndPort s = server.listen();
        boolean clash = a.port() != 0 && a.port() == s.port()
                && (a.host().equalsIgnoreCase(s.host()) || isWildcard(a.host()) || isWildcard(s.host()));
        return clash
                ? List.of(new ConfigError("admin.listen", a.toString(), "expected: another address than server.listen " + s))
                : List.of();
    }

    private static boolean isWildcard(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("0.0.0.0") || h.equals("::") || h.equals("*");
    }
}
