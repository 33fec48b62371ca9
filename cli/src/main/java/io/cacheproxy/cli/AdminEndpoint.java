package io.cacheproxy.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.cacheproxy.config.ConfigError;
import io.cacheproxy.config.ConfigException;
import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.config.PoolConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The {@code --admin HOST:PORT} and {@code --token TOKEN} options of the commands that change a
 * running proxy ({@code nodes}, {@code reload}, {@code status}), and their requests to its admin API
 * (shared/SPEC.md §3). The token, when given (or in {@code CACHEPROXY_ADMIN_TOKEN}), goes with every
 * request as {@code Authorization: Bearer}; the proxy asks for it only when {@code admin.token} is set.
 *
 * <p>Exit codes follow the answer: 2xx is 0; 400 (the request or the config file is invalid),
 * 401 (no token or the wrong one) and 409 (the proxy refused the change: unknown pool, node already
 * there, a migration running, no config file) are 2, something for the operator to fix; anything
 * else, and an admin endpoint that cannot be reached, is 1.
 */
final class AdminEndpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--admin", defaultValue = "127.0.0.1:9121", paramLabel = "HOST:PORT",
            description = "the proxy's admin address (admin.listen; default ${DEFAULT-VALUE})")
    String address;

    @Option(names = "--token", defaultValue = "${env:CACHEPROXY_ADMIN_TOKEN}", paramLabel = "TOKEN",
            description = "the proxy's admin.token, sent as Authorization: Bearer (default: $CACHEPROXY_ADMIN_TOKEN)")
    String token;

    /** What the admin API answered: its HTTP status and JSON body ({@link MissingNode} when not JSON). */
    record Reply(int status, JsonNode body, String text) {
        boolean ok() {
            return status / 100 == 2;
        }
    }

    /** The admin endpoint could not be reached; the message says where and what to check. */
    static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(message);
        }
    }

    /**
     * Sends {@code method path} with a JSON {@code body} (or none when null) and returns the
     * answer, whatever its status.
     */
    Reply send(String method, String path, JsonNode body) throws Unreachable, InterruptedException {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + address + path))
                    .timeout(Duration.ofSeconds(10))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body.toString()));
            if (body != null) {
                request.header("Content-Type", "application/json");
            }
            if (token != null && !token.isEmpty()) {
                request.header("Authorization", "Bearer " + token);
            }
            HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                    .send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json;
            try {
                json = JSON.readTree(response.body());
            } catch (JacksonException e) {
                json = MissingNode.getInstance();
            }
            return new Reply(response.statusCode(), json == null ? MissingNode.getInstance() : json, response.body());
        } catch (IOException | IllegalArgumentException e) {
            throw new Unreachable("cannot reach the admin endpoint at " + address + " ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + "); is the proxy running, and is --admin its admin.listen?");
        }
    }

    /**
     * Prints why {@code reply} is not a success to {@code err}, each line after {@code command: },
     * and returns the exit code: 2 for 400, 401 and 409, else 1.
     */
    static int fail(PrintWriter err, String command, Reply reply) {
        if (reply.status() == 401) {
            err.println(command + ": the admin endpoint wants a token (--token or CACHEPROXY_ADMIN_TOKEN)");
            err.flush();
            return Main.EXIT_USAGE;
        }
        JsonNode message = reply.body().path("error");
        String error = message.isTextual() ? message.asText() : null;
        if (error == null) {
            String text = reply.text().strip();
            error = "the admin endpoint answered HTTP " + reply.status()
                    + (text.isEmpty() ? "" : ": " + text.lines().findFirst().orElse(""))
                    + (reply.status() == 404 ? " (is the proxy older than this command?)" : "");
        }
        err.println(command + ": " + error);
        for (JsonNode e : reply.body().path("errors")) {
            err.println("  " + new ConfigError(e.path("path").asText(),
                    e.path("value").isTextual() ? e.path("value").asText() : null, e.path("reason").asText()));
        }
        err.flush();
        return reply.status() == 400 || reply.status() == 409 ? Main.EXIT_USAGE : Main.EXIT_RUNTIME;
    }

    /**
     * A backend node's address as given on the command line; throws {@link IllegalArgumentException}
     * with a one-line reason (port 0 is no backend port).
     */
    static HostAndPort node(String text) {
        HostAndPort node;
        try {
            node = HostAndPort.parse(text);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("HOST:PORT: " + text + " (" + e.errors().get(0).reason() + ")");
        }
        if (node.port() == 0) {
            throw new IllegalArgumentException("HOST:PORT: " + text + " (expected: a port 1..65535)");
        }
        return node;
    }

    /** Throws {@link IllegalArgumentException} unless {@code pool} can name a pool. */
    static String pool(String pool) {
        if (!PoolConfig.isValidName(pool)) {
            throw new IllegalArgumentException("POOL: " + pool + " (expected: a pool name: letters, digits, - and _)");
        }
        return pool;
    }
}
