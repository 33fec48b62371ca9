package io.cacheproxy.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes a {@link ProxyConfig} back as YAML: the effective configuration, as
 * {@code cacheproxy check-config} prints it.
 *
 * <p>Every key is written, defaults included, in the order of the documented example; durations
 * and sizes in the units they are read in ({@code 30s}, {@code 256mb}); optional values that are
 * unset (TLS files, a pool's password, {@code master-name}, {@code admin.token}) are left out.
 * Passwords and the admin token are written as {@code "****"}. Reading the output back with
 * {@link ConfigLoader} gives an equal configuration apart from those masked secrets.
 */
public final class ConfigPrinter {

    /** What every password, and the admin token, is printed as. */
    public static final String MASK = "****";

    private static final YAMLMapper YAML = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .disable(YAMLGenerator.Feature.SPLIT_LINES)
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ConfigPrinter() {
    }

    /** The effective configuration as YAML, secrets masked. */
    public static String effectiveYaml(ProxyConfig config) {
        ObjectNode root = NODES.objectNode();
        root.set("server", server(config.server()));
        ObjectNode admin = root.putObject("admin").put("listen", literal(config.admin().listen().toString()));
        if (config.admin().token() != null) {
            admin.put("token", MASK);
        }
        root.set("auth", auth(config.auth()));
        ObjectNode pools = root.putObject("pools");
        config.pools().forEach((name, pool) -> pools.set(name, pool(pool)));
        ArrayNode routes = root.putArray("routes");
        for (RouteConfig r : config.routes()) {
            ObjectNode route = routes.addObject();
            if (r.prefix() != null) {
                route.put("prefix", literal(r.prefix()));
            }
            route.put("pool", literal(r.pool()));
        }
        root.set("l1", l1(config.l1()));
        InvalidationConfig inv = config.invalidation();
        ObjectNode invalidation = root.putObject("invalidation").put("tracking", inv.tracking());
        invalidation.putObject("broadcast")
                .put("enabled", inv.broadcast().enabled())
                .put("channel", literal(inv.broadcast().channel()));
        try {
            return YAML.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode server(ServerConfig s) {
        ObjectNode n = NODES.objectNode()
                .put("listen", literal(s.listen().toString()))
                .put("max-clients", s.maxClients())
                .put("idle-timeout", Durations.format(s.idleTimeout()))
                .put("io-threads", s.ioThreads())
                .put("transport", s.transport())
                .put("shutdown-timeout", Durations.format(s.shutdownTimeout()));
        LimitsConfig l = s.limits();
        n.putObject("limits")
                .put("max-bulk", Sizes.format(l.maxBulk()))
                .put("max-args", l.maxArgs())
                .put("max-inline", Sizes.format(l.maxInline()))
                .put("client-output-buffer", Sizes.format(l.clientOutputBuffer()));
        TlsConfig t = s.tls();
        ObjectNode tls = n.putObject("tls").put("enabled", t.enabled());
        putIfSet(tls, "cert", t.cert());
        putIfSet(tls, "key", t.key());
        putIfSet(tls, "client-ca", t.clientCa());
        return n;
    }

    private static ObjectNode auth(AuthConfig a) {
        ObjectNode n = NODES.objectNode();
        ArrayNode users = n.putArray("users");
        for (UserConfig u : a.users()) {
            ObjectNode user = users.addObject().put("name", literal(u.name())).put("password", MASK);
            strings(user.putArray("commands"), u.commands());
            strings(user.putArray("keys"), u.keys());
        }
        return n;
    }

    private static ObjectNode pool(PoolConfig p) {
        ObjectNode n = NODES.objectNode().put("type", p.type().configName());
        ArrayNode nodes = n.putArray("nodes");
        p.nodes().forEach(node -> nodes.add(literal(node.toString())));
        n.putObject("hashing").put("vnodes", p.hashing().vnodes());
        n.putObject("replication")
                .put("factor", p.replication().factor())
                .put("write-ack", p.replication().writeAck().configName())
                .put("read-from", p.replication().readFrom().configName());
        n.putObject("timeouts")
                .put("connect", Durations.format(p.timeouts().connect()))
                .put("command", Durations.format(p.timeouts().command()));
        n.putObject("health")
                .put("interval", Durations.format(p.health().interval()))
                .put("failures-to-eject", p.health().failuresToEject());
        n.put("blocking-connections", p.blockingConnections());
        if (p.password() != null) {
            n.put("password", MASK);
        }
        n.put("tls", p.tls());
        n.put("admin-commands", p.adminCommands().configName());
        putIfSet(n, "master-name", p.masterName());
        return n;
    }

    private static ObjectNode l1(L1Config l1) {
        ObjectNode n = NODES.objectNode()
                .put("enabled", l1.enabled())
                .put("max-memory", Sizes.format(l1.maxMemory()))
                .put("max-ttl", Durations.format(l1.maxTtl()));
        n.putObject("hot-keys").put("min-reads-per-second", l1.hotKeys().minReadsPerSecond());
        return n;
    }

    /** {@code s} such that the loader reads it back unchanged: <code>${</code> escaped as <code>$${</code>. */
    private static String literal(String s) {
        return s.replace("${", "$${");
    }

    private static void putIfSet(ObjectNode n, String key, String value) {
        if (value != null) {
            n.put(key, literal(value));
        }
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(v -> array.add(literal(v)));
    }
}
