package io.cacheproxy.config;

import java.util.Objects;

/**
 * One entry of {@code routes}: keys starting with {@code prefix} go to {@code pool}. Routes are
 * tried in order and the first match wins; the last route has no prefix and takes every other
 * key. {@link ProxyConfig} checks the order and that the pool exists.
 *
 * @param prefix {@code prefix}: key prefix (bytes compared as UTF-8), or {@code null} for the
 *               default route; never empty
 * @param pool   {@code pool}: name of a pool under {@code pools}; required
 */
public record RouteConfig(String prefix, String pool) {

    public RouteConfig {
        Violations v = new Violations();
        v.require(prefix == null || !prefix.isEmpty(), "prefix", "", "a non-empty prefix, or no prefix for the default route");
        v.requirePresent(pool != null, "pool", "required: the name of a pool");
        v.throwIfAny();
    }

    /** The route for every key not matched before it. */
    public static RouteConfig defaultRoute(String pool) {
        return new RouteConfig(null, pool);
    }

    public boolean isDefault() {
        return prefix == null;
    }
}
