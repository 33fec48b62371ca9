package io.cacheproxy.config;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Maps one parsed YAML tree onto a {@link ProxyConfig}, collecting every error; used once per
 * {@link ConfigLoader#parse}. A value that cannot be read is reported and replaced by its
 * default so that the rest can still be checked; a record whose inputs already failed is not
 * built, so one mistake is not reported twice.
 */
final class TreeMapper {

    private static final Pattern VAR_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final String MASK = "****";

    private final Map<String, String> env;
    private final List<ConfigError> errors = new ArrayList<>();

    TreeMapper(Map<String, String> env) {
        this.env = env;
    }

    ProxyConfig map(JsonNode root, String source) {
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new ConfigException(source, List.of(new ConfigError("pools", null, "no pools defined")));
        }
        if (!root.isObject()) {
            throw new ConfigException(source, List.of(new ConfigError("", text(root),
                    "expected: a mapping of sections (server, admin, auth, pools, routes, l1, invalidation)")));
        }
        Section top = new Section("", (ObjectNode) root);
        ServerConfig server = server(section(top, "server"));
        AdminConfig admin = admin(section(top, "admin"));
        AuthConfig auth = auth(section(top, "auth"));

        Map<String, PoolConfig> pools = new LinkedHashMap<>();
        Set<String> poolNames = new LinkedHashSet<>();
        JsonNode poolsNode = top.get("pools");
        if (poolsNode == null || (poolsNode.isObject() && poolsNode.isEmpty())) {
            error("pools", null, "no pools defined");
        } else if (!poolsNode.isObject()) {
            error("pools", text(poolsNode), "expected: a mapping of pool names to pools, e.g. main: {nodes: [...]}");
        } else {
            for (Map.Entry<String, JsonNode> e : poolsNode.properties()) {
                poolNames.add(e.getKey());
                PoolConfig pool = pool(e.getKey(), e.getValue(), "pools." + e.getKey());
                if (pool != null) {
                    pools.put(e.getKey(), pool);
                }
            }
        }

        List<RouteConfig> routes = routes(top, poolNames);
        L1Config l1 = l1(section(top, "l1"));
        InvalidationConfig invalidation = invalidation(section(top, "invalidation"));
        top.finish();

        ProxyConfig.checkListeners(server, admin).forEach(this::add);
        if (errors.isEmpty()) {
            try {
                return new ProxyConfig(server, admin, auth, pools, routes, l1, invalidation);
            } catch (ConfigException e) {
                e.errors().forEach(this::add);
            }
        }
        throw new ConfigException(source, errors);
    }

    // ---- sections ----

    private ServerConfig server(Section s) {
        ServerConfig d = ServerConfig.defaults();
        HostAndPort listen = address(s, "listen", d.listen());
        int maxClients = integer(s, "max-clients", d.maxClients());
        Duration idleTimeout = duration(s, "idle-timeout", d.idleTimeout());
        LimitsConfig limits = limits(section(s, "limits"));
        TlsConfig tls = tls(section(s, "tls"));
        int ioThreads = integer(s, "io-threads", d.ioThreads());
        String transport = choice(s, "transport", ServerConfig.TRANSPORTS, d.transport());
        Duration shutdownTimeout = duration(s, "shutdown-timeout", d.shutdownTimeout());
        s.finish();
        return build(s, () -> new ServerConfig(listen, maxClients, idleTimeout, limits, tls, ioThreads, transport,
                shutdownTimeout), d);
    }

    private LimitsConfig limits(Section s) {
        LimitsConfig d = LimitsConfig.defaults();
        long maxBulk = size(s, "max-bulk", d.maxBulk());
        int maxArgs = integer(s, "max-args", d.maxArgs());
        int maxInline = intSize(s, "max-inline", d.maxInline());
        long clientOutputBuffer = size(s, "client-output-buffer", d.clientOutputBuffer());
        s.finish();
        return build(s, () -> new LimitsConfig(maxBulk, maxArgs, maxInline, clientOutputBuffer), d);
    }

    private TlsConfig tls(Section s) {
        boolean enabled = bool(s, "enabled", false);
        String cert = string(s, "cert", null);
        String key = string(s, "key", null);
        String clientCa = string(s, "client-ca", null);
        s.finish();
        return build(s, () -> new TlsConfig(enabled, cert, key, clientCa), TlsConfig.defaults());
    }

    private AdminConfig admin(Section s) {
        HostAndPort listen = address(s, "listen", AdminConfig.defaults().listen());
        String token = string(s, "token", null);
        s.finish();
        return build(s, () -> new AdminConfig(listen, token), AdminConfig.defaults());
    }

    private AuthConfig auth(Section s) {
        JsonNode usersNode = s.get("users");
        List<UserConfig> users = new ArrayList<>();
        boolean allRead = true;
        if (usersNode != null && !usersNode.isArray()) {
            error(s.pathOf("users"), text(usersNode), "expected: a list of users, e.g. - {name: app, password: ...}");
            allRead = false;
        } else if (usersNode != null) {
            for (int i = 0; i < usersNode.size(); i++) {
                String path = s.pathOf("users") + "[" + i + "]";
                Section u = elementSection(usersNode.get(i), path, "a user, e.g. {name: app, password: ...}");
                if (u == null) {
                    allRead = false;
                    continue;
                }
                String name = string(u, "name", null);
                String password = string(u, "password", null);
                List<String> commands = stringList(u, "commands", UserConfig.DEFAULT_COMMANDS);
                List<String> keys = stringList(u, "keys", UserConfig.DEFAULT_KEYS);
                u.finish();
                UserConfig user = build(u, () -> new UserConfig(name, password, commands, keys), null);
                if (user == null) {
                    allRead = false;
                } else {
                    users.add(user);
                }
            }
        }
        s.finish();
        return allRead ? build(s, () -> new AuthConfig(users), AuthConfig.none()) : AuthConfig.none();
    }

    private PoolConfig pool(String name, JsonNode node, String path) {
        boolean nameOk = PoolConfig.isValidName(name);
        if (node != null && !node.isNull() && !node.isObject()) {
            error(path, text(node), "expected: a pool, e.g. {type: sharded, nodes: [127.0.0.1:7001]}");
            return null;
        }
        Section p = new Section(path, node == null || node.isNull() ? null : (ObjectNode) node);
        String typeName = choice(p, "type", names(PoolType.values()), PoolType.SHARDED.configName());
        PoolType type = PoolType.fromConfigName(typeName);
        List<HostAndPort> nodes = nodes(p);
        HashingConfig hashing = hashing(section(p, "hashing"));
        ReplicationConfig replication = replication(section(p, "replication"));
        TimeoutsConfig timeouts = timeouts(section(p, "timeouts"));
        HealthConfig health = health(section(p, "health"));
        int blockingConnections = integer(p, "blocking-connections", PoolConfig.DEFAULT_BLOCKING_CONNECTIONS);
        String password = string(p, "password", null);
        boolean tls = bool(p, "tls", false);
        AdminCommands adminCommands = AdminCommands.fromConfigName(
                choice(p, "admin-commands", names(AdminCommands.values()), AdminCommands.DENY.configName()));
        String masterName = string(p, "master-name", null);
        p.finish();
        if (!nameOk) {
            // Reported last: an error at the pool's own path would hide those under it.
            error(path, null, "expected: a pool name of letters, digits, - and _");
            return null;
        }
        if (hasErrorAt(p.pathOf("type")) || hasErrorAt(p.pathOf("nodes"))) {
            return null;
        }
        return build(p, () -> new PoolConfig(name, type, nodes, hashing, replication, timeouts, health,
                blockingConnections, password, tls, adminCommands, masterName), null);
    }

    private List<HostAndPort> nodes(Section p) {
        String path = p.pathOf("nodes");
        JsonNode n = p.get("nodes");
        if (n == null) {
            error(path, null, "required: a list of host:port, e.g. [127.0.0.1:7001, 127.0.0.1:7002]");
            return List.of();
        }
        if (!n.isArray()) {
            error(path, text(n), "expected: a list of host:port, e.g. [127.0.0.1:7001, 127.0.0.1:7002]");
            return List.of();
        }
        List<HostAndPort> nodes = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String at = path + "[" + i + "]";
            String t = scalarOf(n.get(i), at, "expected: host:port, e.g. 127.0.0.1:7001");
            if (t != null) {
                HostAndPort hp = parseAddress(t, at);
                if (hp != null) {
                    nodes.add(hp);
                }
            }
        }
        return nodes;
    }

    private HashingConfig hashing(Section s) {
        int vnodes = integer(s, "vnodes", HashingConfig.defaults().vnodes());
        s.finish();
        return build(s, () -> new HashingConfig(vnodes), HashingConfig.defaults());
    }

    private ReplicationConfig replication(Section s) {
        ReplicationConfig d = ReplicationConfig.defaults();
        int factor = integer(s, "factor", d.factor());
        List<String> acks = new java.util.ArrayList<>(names(WriteAck.values()));
        acks.add("quorum");     // = majority
        WriteAck writeAck = WriteAck.fromConfigName(choice(s, "write-ack", acks, d.writeAck().configName()));
        ReadFrom readFrom = ReadFrom.fromConfigName(choice(s, "read-from", names(ReadFrom.values()), d.readFrom().configName()));
        s.finish();
        return build(s, () -> new ReplicationConfig(factor, writeAck, readFrom), d);
    }

    private TimeoutsConfig timeouts(Section s) {
        TimeoutsConfig d = TimeoutsConfig.defaults();
        Duration connect = duration(s, "connect", d.connect());
        Duration command = duration(s, "command", d.command());
        s.finish();
        return build(s, () -> new TimeoutsConfig(connect, command), d);
    }

    private HealthConfig health(Section s) {
        HealthConfig d = HealthConfig.defaults();
        Duration interval = duration(s, "interval", d.interval());
        int failures = integer(s, "failures-to-eject", d.failuresToEject());
        s.finish();
        return build(s, () -> new HealthConfig(interval, failures), d);
    }

    /** The routes, or one default route to the first pool when the file has none. */
    private List<RouteConfig> routes(Section top, Set<String> poolNames) {
        JsonNode n = top.get("routes");
        if (n == null) {
            return poolNames.isEmpty() ? List.of() : List.of(RouteConfig.defaultRoute(poolNames.iterator().next()));
        }
        if (!n.isArray()) {
            error("routes", text(n), "expected: a list of routes, e.g. - {prefix: \"session:\", pool: sessions}");
            return List.of();
        }
        List<RouteConfig> routes = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            Section r = elementSection(n.get(i), "routes[" + i + "]", "a route, e.g. {prefix: \"session:\", pool: sessions}");
            if (r == null) {
                routes.add(null);
                continue;
            }
            String prefix = string(r, "prefix", null);
            String pool = string(r, "pool", null);
            r.finish();
            routes.add(hasErrorAt(r.path) ? null : build(r, () -> new RouteConfig(prefix, pool), null));
        }
        if (!poolNames.isEmpty()) {
            ProxyConfig.checkRoutes(routes, poolNames).forEach(this::add);
        }
        return routes.contains(null) ? List.of() : routes;
    }

    private L1Config l1(Section s) {
        L1Config d = L1Config.defaults();
        boolean enabled = bool(s, "enabled", d.enabled());
        long maxMemory = size(s, "max-memory", d.maxMemory());
        Duration maxTtl = duration(s, "max-ttl", d.maxTtl());
        HotKeysConfig hotKeys = hotKeys(section(s, "hot-keys"));
        s.finish();
        return build(s, () -> new L1Config(enabled, maxMemory, maxTtl, hotKeys), d);
    }

    private HotKeysConfig hotKeys(Section s) {
        int min = integer(s, "min-reads-per-second", HotKeysConfig.defaults().minReadsPerSecond());
        s.finish();
        return build(s, () -> new HotKeysConfig(min), HotKeysConfig.defaults());
    }

    private InvalidationConfig invalidation(Section s) {
        InvalidationConfig d = InvalidationConfig.defaults();
        boolean tracking = bool(s, "tracking", d.tracking());
        BroadcastConfig broadcast = broadcast(section(s, "broadcast"));
        s.finish();
        return build(s, () -> new InvalidationConfig(tracking, broadcast), d);
    }

    private BroadcastConfig broadcast(Section s) {
        BroadcastConfig d = BroadcastConfig.defaults();
        boolean enabled = bool(s, "enabled", d.enabled());
        String channel = string(s, "channel", d.channel());
        s.finish();
        return build(s, () -> new BroadcastConfig(enabled, channel), d);
    }

    // ---- values ----

    /** The mapping under {@code key}; absent, null or of the wrong type gives an empty section. */
    private Section section(Section parent, String key) {
        JsonNode n = parent.get(key);
        String path = parent.pathOf(key);
        if (n != null && !n.isObject()) {
            error(path, text(n), "expected: a mapping (key: value lines, or {key: value, ...})");
            n = null;
        }
        return new Section(path, (ObjectNode) n);
    }

    /** A list element that must be a mapping, or null (reported). */
    private Section elementSection(JsonNode n, String path, String expected) {
        if (n == null || !n.isObject()) {
            error(path, n == null ? null : text(n), "expected: " + expected);
            return null;
        }
        return new Section(path, (ObjectNode) n);
    }

    private int integer(Section s, String key, int def) {
        String t = scalar(s, key, "expected: a whole number");
        if (t == null) {
            return def;
        }
        try {
            return Integer.parseInt(t.strip());
        } catch (NumberFormatException e) {
            error(s.pathOf(key), t, t.strip().matches("-?\\d+")
                    ? "expected: a whole number from -2147483648 to 2147483647" : "expected: a whole number");
            return def;
        }
    }

    private boolean bool(Section s, String key, boolean def) {
        String t = scalar(s, key, "expected: true or false");
        if (t == null) {
            return def;
        }
        return switch (t.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                error(s.pathOf(key), t, "expected: true or false");
                yield def;
            }
        };
    }

    private String string(Section s, String key, String def) {
        String t = scalar(s, key, "expected: a string");
        return t == null && !hasErrorAt(s.pathOf(key)) ? def : t;
    }

    private Duration duration(Section s, String key, Duration def) {
        String t = scalar(s, key, "expected: a duration, e.g. 500ms or 10s");
        if (t == null) {
            return def;
        }
        try {
            return Durations.parse(t);
        } catch (ConfigException e) {
            error(s.pathOf(key), t, e.errors().get(0).reason());
            return def;
        }
    }

    private long size(Section s, String key, long def) {
        String t = scalar(s, key, "expected: a size, e.g. 64mb");
        if (t == null) {
            return def;
        }
        try {
            return Sizes.parse(t);
        } catch (ConfigException e) {
            error(s.pathOf(key), t, e.errors().get(0).reason());
            return def;
        }
    }

    private int intSize(Section s, String key, int def) {
        long size = size(s, key, def);
        if (size > Integer.MAX_VALUE) {
            error(s.pathOf(key), s.text(key), "expected: a size under 2gb");
            return def;
        }
        return (int) size;
    }

    private HostAndPort address(Section s, String key, HostAndPort def) {
        String t = scalar(s, key, "expected: host:port, e.g. 127.0.0.1:6380");
        if (t == null) {
            return def;
        }
        HostAndPort hp = parseAddress(t, s.pathOf(key));
        return hp == null ? def : hp;
    }

    private HostAndPort parseAddress(String t, String path) {
        try {
            return HostAndPort.parse(t);
        } catch (ConfigException e) {
            error(path, t, e.errors().get(0).reason());
            return null;
        }
    }

    /** One of {@code allowed} (case-insensitive), returned as spelt in {@code allowed}. */
    private String choice(Section s, String key, List<String> allowed, String def) {
        String t = scalar(s, key, "expected: one of " + String.join(", ", allowed));
        if (t == null) {
            return def;
        }
        for (String a : allowed) {
            if (a.equalsIgnoreCase(t.strip())) {
                return a;
            }
        }
        error(s.pathOf(key), t, "expected: one of " + String.join(", ", allowed) + Suggestions.didYouMean(t, allowed));
        return def;
    }

    private List<String> stringList(Section s, String key, List<String> def) {
        JsonNode n = s.get(key);
        String path = s.pathOf(key);
        if (n == null) {
            return def;
        }
        if (!n.isArray()) {
            error(path, text(n), "expected: a list of strings, e.g. [\"a\", \"b\"]");
            return def;
        }
        List<String> values = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String t = scalarOf(n.get(i), path + "[" + i + "]", "expected: a string");
            if (t == null) {
                return def;
            }
            values.add(t);
        }
        return values;
    }

    /** The scalar at {@code key} as text with variables expanded; null if absent or reported. */
    private String scalar(Section s, String key, String expected) {
        JsonNode n = s.get(key);
        return n == null ? null : scalarOf(n, s.pathOf(key), expected);
    }

    private String scalarOf(JsonNode n, String path, String expected) {
        if (n.isNull()) {
            error(path, null, expected);
            return null;
        }
        if (!n.isValueNode()) {
            error(path, text(n), expected);
            return null;
        }
        return n.isTextual() ? expand(n.textValue(), path, true) : n.asText();
    }

    /**
     * Expands {@code ${VAR}} and {@code ${VAR:-default}} (default also when VAR is empty, as in
     * the shell); <code>$${</code> is a literal <code>${</code>. Returns null after reporting, if asked to.
     */
    private String expand(String raw, String path, boolean report) {
        if (raw.indexOf("${") < 0) {
            return raw;
        }
        StringBuilder out = new StringBuilder(raw.length());
        Set<String> unset = new TreeSet<>();
        int i = 0;
        while (i < raw.length()) {
            if (raw.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (raw.startsWith("${", i)) {
                int close = raw.indexOf('}', i + 2);
                if (close < 0) {
                    if (report) {
                        add(new ConfigError(path, raw, "unterminated ${ (write $${ for a literal ${)"));
                    }
                    return null;
                }
                String expr = raw.substring(i + 2, close);
                int sep = expr.indexOf(":-");
                String name = sep < 0 ? expr : expr.substring(0, sep);
                String fallback = sep < 0 ? null : expr.substring(sep + 2);
                if (!VAR_NAME.matcher(name).matches()) {
                    if (report) {
                        add(new ConfigError(path, raw, "expected: ${NAME} or ${NAME:-default}, NAME of letters,"
                                + " digits and _ (write $${ for a literal ${)"));
                    }
                    return null;
                }
                String value = env.get(name);
                if (value == null || (fallback != null && value.isEmpty())) {
                    value = fallback;
                }
                if (value == null) {
                    unset.add(name);
                } else {
                    out.append(value);
                }
                i = close + 1;
            } else {
                out.append(raw.charAt(i++));
            }
        }
        if (!unset.isEmpty()) {
            if (report) {
                String names = String.join(", ", unset);
                add(new ConfigError(path, raw, (unset.size() == 1 ? "environment variable " + names + " is not set"
                        : "environment variables " + names + " are not set")
                        + " (write ${" + unset.iterator().next() + ":-default} for a default)"));
            }
            return null;
        }
        return out.toString();
    }

    // ---- errors ----

    /**
     * Builds a record; its constructor's errors are rebased onto {@code s} and reported with the
     * value as written in the file, and {@code fallback} is returned instead.
     */
    private <T> T build(Section s, Supplier<T> constructor, T fallback) {
        try {
            return constructor.get();
        } catch (ConfigException e) {
            for (ConfigError err : e.errors()) {
                String value = err.value() == null ? null : s.valueAt(err.path(), err.value());
                error(ConfigError.join(s.path, err.path()), value, err.reason());
            }
            return fallback;
        }
    }

    /** Reports a problem, masking passwords and the admin token, unless that key already has one. */
    private void error(String path, String value, String reason) {
        boolean secret = (path.endsWith("password") || path.equals("admin.token")) && value != null && !value.isEmpty();
        add(new ConfigError(path, secret ? MASK : value, reason));
    }

    /** Adds {@code e} unless its key, or a key above it, already has an error. */
    private void add(ConfigError e) {
        for (ConfigError earlier : errors) {
            if (!e.path().isEmpty() && (earlier.path().equals(e.path()) || isUnder(e.path(), earlier.path()))) {
                return;
            }
        }
        errors.add(e);
    }

    /** Whether {@code path} or a key above or below it already has an error. */
    private boolean hasErrorAt(String path) {
        for (ConfigError e : errors) {
            String p = e.path();
            if (p.equals(path) || isUnder(path, p) || isUnder(p, path)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isUnder(String path, String ancestor) {
        return !ancestor.isEmpty() && path.length() > ancestor.length() && path.startsWith(ancestor)
                && (path.charAt(ancestor.length()) == '.' || path.charAt(ancestor.length()) == '[');
    }

    private static String text(JsonNode n) {
        return n.isValueNode() ? n.asText() : n.toString();
    }

    private static List<String> names(Enum<?>[] values) {
        return Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
    }

    /** One mapping of the file: its path, and which keys were asked for (the others are unknown). */
    private final class Section {
        final String path;
        final ObjectNode node;
        final Set<String> known = new LinkedHashSet<>();

        Section(String path, ObjectNode node) {
            this.path = path;
            this.node = node;
        }

        String pathOf(String key) {
            return ConfigError.join(path, key);
        }

        /** The value of {@code key}; null when absent or written with no value. */
        JsonNode get(String key) {
            known.add(key);
            JsonNode v = node == null ? null : node.get(key);
            return v == null || v.isNull() ? null : v;
        }

        /** The text of {@code key} as written, for error messages. */
        String text(String key) {
            JsonNode v = node == null ? null : node.get(key);
            return v == null ? null : TreeMapper.text(v);
        }

        /**
         * The scalar at a relative path such as {@code replication.factor} or {@code nodes[1]},
         * as written (variables expanded), else {@code fallback}.
         */
        String valueAt(String relative, String fallback) {
            if (node == null || relative.isEmpty()) {
                return fallback;
            }
            JsonNode v = node.at(JsonPointer.compile("/" + relative.replace("[", "/").replace("]", "").replace('.', '/')));
            if (!v.isValueNode()) {
                return fallback;
            }
            String t = v.isTextual() ? expand(v.textValue(), "", false) : v.asText();
            return t == null ? fallback : t;
        }

        /** Reports every key that was not asked for, suggesting the closest known one. */
        void finish() {
            if (node == null) {
                return;
            }
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!known.contains(key)) {
                    String suggestion = Suggestions.didYouMean(key, known);
                    error(pathOf(key), null, "unknown key" + (suggestion.isEmpty()
                            ? "; expected one of: " + String.join(", ", known) : suggestion));
                }
            }
        }
    }
}
