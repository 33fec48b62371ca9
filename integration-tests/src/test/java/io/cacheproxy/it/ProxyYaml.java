package io.cacheproxy.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds proxy configuration YAML for tests: both listeners on 127.0.0.1 port 0, then pools and
 * routes.
 *
 * <pre>{@code
 * new ProxyYaml().pool("main", "admin-commands: pass", redis).toString()
 * }</pre>
 */
public final class ProxyYaml {
    private final Map<String, String> pools = new LinkedHashMap<>();
    private final List<String> routes = new ArrayList<>();
    private final List<String> sections = new ArrayList<>();
    private String adminToken;

    /**
     * Adds a sharded pool of {@code nodes}; {@code options} are extra YAML lines of the pool
     * (e.g. {@code "admin-commands: pass"}, {@code "timeouts: {command: 500ms}"}), one per line.
     */
    public ProxyYaml pool(String name, String options, RedisFixture... nodes) {
        StringBuilder b = new StringBuilder();
        b.append("  ").append(name).append(":\n");
        b.append("    type: sharded\n");
        b.append("    nodes: [");
        for (int i = 0; i < nodes.length; i++) {
            b.append(i == 0 ? "" : ", ").append(nodes[i].address());
        }
        b.append("]\n");
        if (options != null && !options.isBlank()) {
            for (String line : options.split("\n")) {
                b.append("    ").append(line).append('\n');
            }
        }
        pools.put(name, b.toString());
        return this;
    }

    /** Adds a route; a null prefix is the default route (put it last). */
    public ProxyYaml route(String prefix, String pool) {
        routes.add(prefix == null ? "  - {pool: " + pool + "}\n" : "  - {prefix: \"" + prefix + "\", pool: " + pool + "}\n");
        return this;
    }

    /** Sets {@code admin.token}: then the admin endpoint's changes need {@code Authorization: Bearer token}. */
    public ProxyYaml adminToken(String token) {
        this.adminToken = token;
        return this;
    }

    /** Adds a top-level section verbatim (e.g. {@code "l1:\n  enabled: false\n"}). */
    public ProxyYaml section(String yaml) {
        sections.add(yaml.endsWith("\n") ? yaml : yaml + "\n");
        return this;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append("server:\n  listen: 127.0.0.1:0\n");
        b.append("admin:\n  listen: 127.0.0.1:0\n");
        if (adminToken != null) {
            b.append("  token: \"").append(adminToken).append("\"\n");
        }
        b.append("pools:\n").append(String.join("", pools.values()));
        if (!routes.isEmpty()) {
            b.append("routes:\n").append(String.join("", routes));
        }
        b.append(sections.stream().collect(Collectors.joining()));
        return b.toString();
    }
}
