package io.cacheproxy.proxy.admin;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.cacheproxy.config.ConfigError;
import io.cacheproxy.config.ConfigException;
import io.cacheproxy.config.ConfigLoader;
import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.config.ProxyConfig;
import io.cacheproxy.proxy.TopologyChanges;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's side of {@link TopologyChanges} on the admin endpoint (shared/SPEC.md §3):
 *
 * <table>
 * <tr><th>request</th><th>answer</th></tr>
 * <tr><td>{@code GET /nodes}</td><td>200 {@code {"migrations":[...]}}</td></tr>
 * <tr><td>{@code POST /nodes} with {@code {"pool":"main","node":"127.0.0.1:7004"}} (or the same as
 *     a form or query: {@code pool=main&node=127.0.0.1:7004})</td>
 *     <td>202 {@code {"ok":true,"message":...}}: the migration started</td></tr>
 * <tr><td>{@code DELETE /nodes/POOL/HOST:PORT}</td><td>202, as above</td></tr>
 * <tr><td>{@code POST /reload}</td><td>200 {@code {"ok":true,"file":...,"changes":[...]}}</td></tr>
 * </table>
 *
 * <p>A request this class cannot read (a missing field, an address that does not parse, a config
 * file with errors) gets 400; a change the proxy refuses (unknown pool, node already there, too
 * few nodes left, a migration running; {@link IllegalArgumentException} from the core) gets 409,
 * as does {@code /reload} when the proxy was started without a file. Errors are
 * {@code {"ok":false,"error":...}}; an invalid config file adds {@code "errors":[{"path","value","reason"}]},
 * one per {@link ConfigError}. A wrong method gets 405 with {@code Allow}; a request while the
 * proxy is still starting gets 503.
 *
 * <p>With {@code admin.token} set, every request here but {@code GET}/{@code HEAD} (so
 * {@code POST /nodes}, {@code DELETE /nodes/...}, {@code POST /reload}) needs
 * {@code Authorization: Bearer <token>}, checked before anything else: without it, or with another
 * token, the answer is 401 with {@code WWW-Authenticate: Bearer} and nothing changes. The token is
 * the one the proxy started with; {@code /reload} does not change it.
 *
 * <p>Runs on the admin server's one thread, so two changes never race here; the core is safe
 * from any thread anyway.
 */
final class TopologyEndpoints {
    private static final Logger log = LoggerFactory.getLogger(TopologyEndpoints.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The longest request body read; a node change is a few dozen bytes. */
    static final int MAX_BODY = 64 * 1024;
    private static final String ADD_EXAMPLE =
            "{\"pool\":\"main\",\"node\":\"127.0.0.1:7004\"} or pool=main&node=127.0.0.1:7004";

    private final Supplier<TopologyChanges> topology;
    private final Path configFile;
    /** {@code admin.token} in UTF-8; null when changes need no token. */
    private final byte[] token;

    /**
     * @param topology   the running proxy's topology changes, looked up on each request (null
     *                   while it starts)
     * @param configFile the file the proxy was started from, re-read by {@code POST /reload};
     *                   {@code null} when it was started from a config built in memory
     * @param token      the bearer token that changes need; null or empty = none
     */
    TopologyEndpoints(Supplier<TopologyChanges> topology, Path configFile, String token) {
        this.topology = topology;
        this.configFile = configFile;
        this.token = token == null || token.isEmpty() ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    void register(HttpServer server) {
        server.createContext("/nodes", guarded(this::nodes));
        server.createContext("/reload", guarded(this::reload));
    }

    /**
     * Answers 503 until the proxy has set its topology changes (the admin endpoint binds before
     * the proxy has finished starting), and 500 with what went wrong, not a dropped connection,
     * when {@code handler} has a bug.
     */
    private HttpHandler guarded(HttpHandler handler) {
        return exchange -> {
            try {
                String method = exchange.getRequestMethod();
                if (token != null && !method.equals("GET") && !method.equals("HEAD") && !authorized(exchange)) {
                    return;
                }
                if (topology.get() == null) {
                    error(exchange, 503, "the proxy is still starting; try again in a moment");
                    return;
                }
                handler.handle(exchange);
            } catch (RuntimeException e) {
                log.warn("admin {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), e);
                error(exchange, 500, "internal error: " + e);
            }
        };
    }

    /**
     * Whether {@code exchange} carries {@code Authorization: Bearer <token>}; if not, answers 401
     * with {@code WWW-Authenticate: Bearer}. The token is compared in constant time.
     */
    private boolean authorized(HttpExchange exchange) throws IOException {
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        String problem;
        if (header == null) {
            problem = "missing Authorization: Bearer <token> (admin.token is set)";
        } else if (header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            problem = "Authorization: expected Bearer <token> (admin.token is set)";
        } else if (!MessageDigest.isEqual(token, header.substring(7).strip().getBytes(StandardCharsets.UTF_8))) {
            problem = "wrong bearer token";
        } else {
            return true;
        }
        log.debug("admin {} {}: 401, {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), problem);
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        error(exchange, 401, problem);
        return false;
    }

    private void nodes(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        try {
            if (path.equals("/nodes") || path.equals("/nodes/")) {
                switch (method) {
                    case "GET", "HEAD" -> listMigrations(exchange);
                    case "POST" -> addNode(exchange);
                    default -> methodNotAllowed(exchange, "GET, POST");
                }
            } else if (path.startsWith("/nodes/")) {
                if (method.equals("DELETE")) {
                    removeNode(exchange, path.substring("/nodes/".length()));
                } else {
                    methodNotAllowed(exchange, "DELETE");
                }
            } else {
                error(exchange, 404, "no such endpoint: " + path);
            }
        } catch (BadRequest e) {
            error(exchange, 400, e.getMessage());
        }
    }

    private void listMigrations(HttpExchange exchange) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode migrations = body.putArray("migrations");
        topology.get().migrations().forEach(migrations::add);
        respond(exchange, 200, body);
    }

    private void addNode(HttpExchange exchange) throws IOException {
        Map<String, String> fields = requestFields(exchange);
        String pool = required(fields, "pool");
        HostAndPort node = nodeAddress(required(fields, "node"));
        change(exchange, () -> topology.get().addNode(pool, node));
    }

    /** {@code rest} is what follows {@code /nodes/}: {@code POOL/HOST:PORT}, already percent-decoded. */
    private void removeNode(HttpExchange exchange, String rest) throws IOException {
        int slash = rest.indexOf('/');
        if (slash <= 0 || slash == rest.length() - 1 || rest.indexOf('/', slash + 1) >= 0) {
            throw new BadRequest("DELETE /nodes/" + rest + " (expected: DELETE /nodes/POOL/HOST:PORT, "
                    + "e.g. /nodes/main/127.0.0.1:7004)");
        }
        String pool = rest.substring(0, slash);
        HostAndPort node = nodeAddress(rest.substring(slash + 1));
        change(exchange, () -> topology.get().removeNode(pool, node));
    }

    private void change(HttpExchange exchange, Supplier<String> change) throws IOException {
        String message;
        try {
            message = change.get();
        } catch (IllegalArgumentException e) {
            error(exchange, 409, e.getMessage());
            return;
        }
        log.info("admin {} {}: {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), message);
        ObjectNode body = JSON.createObjectNode().put("ok", true).put("message", message);
        respond(exchange, 202, body);
    }

    private void reload(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestMethod().equals("POST")) {
            methodNotAllowed(exchange, "POST");
            return;
        }
        if (configFile == null) {
            error(exchange, 409, "started without a config file: nothing to re-read (start it with "
                    + "cacheproxy run --config FILE to reload)");
            return;
        }
        ProxyConfig config;
        try {
            config = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            ObjectNode body = errorBody("invalid config " + configFile + " (" + e.errors().size() + " error"
                    + (e.errors().size() == 1 ? "" : "s") + "); nothing changed");
            ArrayNode errors = body.putArray("errors");
            for (ConfigError error : e.errors()) {
                errors.addObject().put("path", error.path()).put("value", error.value()).put("reason", error.reason());
            }
            respond(exchange, 400, body);
            return;
        }
        List<String> changes;
        try {
            changes = topology.get().reload(config);
        } catch (IllegalArgumentException e) {
            error(exchange, 409, e.getMessage() + "; nothing changed");
            return;
        }
        log.info("admin reload of {}: {}", configFile, changes.isEmpty() ? "nothing changed" : changes);
        ObjectNode body = JSON.createObjectNode().put("ok", true).put("file", configFile.toString());
        ArrayNode list = body.putArray("changes");
        changes.forEach(list::add);
        respond(exchange, 200, body);
    }

    /** The fields of a JSON object body, else of a form body, plus those of the query string. */
    private static Map<String, String> requestFields(HttpExchange exchange) throws IOException {
        Map<String, String> fields = new LinkedHashMap<>();
        formFields(exchange.getRequestURI().getRawQuery(), fields);
        String body = readBody(exchange).strip();
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        if (body.startsWith("{") || body.startsWith("[") || (contentType != null && contentType.contains("json"))) {
            JsonNode json;
            try {
                json = JSON.readTree(body);
            } catch (JacksonException e) {
                throw new BadRequest("body: not valid JSON (" + e.getOriginalMessage() + "; expected: " + ADD_EXAMPLE + ")");
            }
            if (json == null || !json.isObject()) {
                throw new BadRequest("body: " + (body.isEmpty() ? "empty" : "a JSON " + json.getNodeType().toString()
                        .toLowerCase(Locale.ROOT)) + " (expected: a JSON object, " + ADD_EXAMPLE + ")");
            }
            for (Map.Entry<String, JsonNode> field : json.properties()) {
                if (!field.getValue().isTextual()) {
                    throw new BadRequest(field.getKey() + ": " + field.getValue() + " (expected: a string)");
                }
                fields.put(field.getKey(), field.getValue().asText());
            }
        } else {
            formFields(body, fields);
        }
        for (String name : fields.keySet()) {
            if (!name.equals("pool") && !name.equals("node")) {
                throw new BadRequest(name + ": unknown field (expected: pool and node)");
            }
        }
        return fields;
    }

    private static void formFields(String form, Map<String, String> fields) {
        if (form == null || form.isEmpty()) {
            return;
        }
        for (String pair : form.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                fields.put(name, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new BadRequest("body: " + pair + " (expected: " + ADD_EXAMPLE + ")");
            }
        }
    }

    private static String readBody(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                throw new BadRequest("body: over " + MAX_BODY + " bytes (expected: " + ADD_EXAMPLE + ")");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private static String required(Map<String, String> fields, String name) {
        String value = fields.get(name);
        if (value == null || value.isBlank()) {
            throw new BadRequest(name + ": required (expected: " + ADD_EXAMPLE + ")");
        }
        return value.strip();
    }

    /** A backend node's address, as {@code pools.*.nodes} accepts it (port 1..65535). */
    private static HostAndPort nodeAddress(String text) {
        HostAndPort address;
        try {
            address = HostAndPort.parse(text);
        } catch (ConfigException e) {
            throw new BadRequest("node: " + text + " (" + e.errors().get(0).reason() + ")");
        }
        if (address.port() == 0) {
            throw new BadRequest("node: " + text + " (expected: a port 1..65535)");
        }
        return address;
    }

    private static void methodNotAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        error(exchange, 405, exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath()
                + ": method not allowed (expected: " + allowed + ")");
    }

    private static ObjectNode errorBody(String message) {
        return JSON.createObjectNode().put("ok", false).put("error", message);
    }

    private static void error(HttpExchange exchange, int status, String message) throws IOException {
        respond(exchange, status, errorBody(message));
    }

    private static void respond(HttpExchange exchange, int status, ObjectNode body) throws IOException {
        AdminServer.respond(exchange, status, "application/json", JSON.writeValueAsString(body) + "\n");
    }

    /** A request this endpoint cannot read: answered 400 with the message. */
    private static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
