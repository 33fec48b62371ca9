package io.cacheproxy.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.config.ProxyConfig;
import io.cacheproxy.proxy.TopologyChanges;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /nodes} and {@code /reload} over real HTTP, in front of a recording {@link TopologyChanges}. */
class TopologyEndpointsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    private final FakeTopology topology = new FakeTopology();
    private volatile TopologyChanges current = topology;
    private HttpServer server;

    /** Records each call; refuses the pool {@code nosuch} the way the core would. */
    static final class FakeTopology implements TopologyChanges {
        final List<String> calls = new ArrayList<>();
        List<String> migrations = List.of();
        List<String> reloadChanges = List.of();

        @Override
        public String addNode(String pool, HostAndPort node) {
            calls.add("add " + pool + " " + node);
            refuseUnknown(pool);
            return "adding " + node + " to pool " + pool;
        }

        @Override
        public String removeNode(String pool, HostAndPort node) {
            calls.add("remove " + pool + " " + node);
            refuseUnknown(pool);
            return "removing " + node + " from pool " + pool;
        }

        @Override
        public List<String> reload(ProxyConfig config) {
            calls.add("reload " + config.pools().keySet());
            refuseUnknown(config.pools().keySet().iterator().next());
            return reloadChanges;
        }

        @Override
        public List<String> migrations() {
            return migrations;
        }

        private static void refuseUnknown(String pool) {
            if (pool.equals("nosuch")) {
                throw new IllegalArgumentException("pool nosuch: no such sharded pool");
            }
        }
    }

    private void start(Path configFile) throws IOException {
        start(configFile, null);
    }

    private void start(Path configFile, String token) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        new TopologyEndpoints(() -> current, configFile, token).register(server);
        server.start();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private HttpResponse<String> send(String method, String path, String contentType, String body) throws Exception {
        return send(method, path, contentType, body, null);
    }

    /** As above, with {@code Authorization: authorization} unless that is null. */
    private HttpResponse<String> send(String method, String path, String contentType, String body, String authorization)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path))
                .timeout(Duration.ofSeconds(5))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAddANodeFromAJsonBody() throws Exception {
        start(null);
        var response = send("POST", "/nodes", "application/json", "{\"pool\":\"main\",\"node\":\"127.0.0.1:7004\"}");
        assertThat(response.statusCode()).isEqualTo(202);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(response.body()).isEqualTo("{\"ok\":true,\"message\":\"adding 127.0.0.1:7004 to pool main\"}\n");
        assertThat(topology.calls).containsExactly("add main 127.0.0.1:7004");
    }

    @Test
    void shouldAddANodeFromAFormOrTheQuery() throws Exception {
        start(null);
        assertThat(send("POST", "/nodes", "application/x-www-form-urlencoded", "pool=main&node=127.0.0.1%3A7004")
                .statusCode()).isEqualTo(202);
        assertThat(send("POST", "/nodes?pool=main&node=%5B::1%5D:7005", null, null).statusCode()).isEqualTo(202);
        assertThat(topology.calls).containsExactly("add main 127.0.0.1:7004", "add main [::1]:7005");
    }

    @Test
    void shouldRemoveANodeNamedInThePath() throws Exception {
        start(null);
        var response = send("DELETE", "/nodes/main/127.0.0.1:7002", null, null);
        assertThat(response.statusCode()).isEqualTo(202);
        assertThat(response.body()).contains("\"message\":\"removing 127.0.0.1:7002 from pool main\"");
        assertThat(send("DELETE", "/nodes/main/%5B::1%5D:7001", null, null).statusCode()).isEqualTo(202);
        assertThat(topology.calls).containsExactly("remove main 127.0.0.1:7002", "remove main [::1]:7001");
    }

    @Test
    void shouldAnswer400NamingWhatIsWrongWithTheRequest() throws Exception {
        start(null);
        assertThat(send("POST", "/nodes", "application/json", "{\"node\":\"127.0.0.1:7004\"}").body())
                .startsWith("{\"ok\":false,\"error\":\"pool: required (expected: ");
        assertThat(send("POST", "/nodes", null, "pool=main").body()).contains("\"error\":\"node: required");
        assertThat(send("POST", "/nodes", null, "pool=main&node=nohost").body())
                .contains("\"error\":\"node: nohost (expected: host:port, e.g. 127.0.0.1:6380)\"");
        assertThat(send("POST", "/nodes", null, "pool=main&node=127.0.0.1:0").body())
                .contains("\"error\":\"node: 127.0.0.1:0 (expected: a port 1..65535)\"");
        assertThat(send("POST", "/nodes", null, "{\"pool\":\"main\",").body()).contains("\"error\":\"body: not valid JSON");
        assertThat(send("POST", "/nodes", null, "{\"pool\":\"main\",\"node\":7004}").body())
                .contains("\"error\":\"node: 7004 (expected: a string)\"");
        assertThat(send("POST", "/nodes", null, "{\"pool\":\"main\",\"nod\":\"127.0.0.1:7004\"}").body())
                .contains("\"error\":\"nod: unknown field (expected: pool and node)\"");
        assertThat(send("POST", "/nodes", null, "[1]").body()).contains("\"error\":\"body: a JSON array (expected: a JSON object");
        assertThat(send("POST", "/nodes", null, "x".repeat(TopologyEndpoints.MAX_BODY + 1)).body())
                .contains("\"error\":\"body: over 65536 bytes");
        assertThat(send("DELETE", "/nodes/main", null, null).body())
                .contains("\"error\":\"DELETE /nodes/main (expected: DELETE /nodes/POOL/HOST:PORT");
        assertThat(send("DELETE", "/nodes/main/127.0.0.1", null, null).body())
                .contains("\"error\":\"node: 127.0.0.1 (expected: host:port");
        for (var request : List.of(
                send("POST", "/nodes", null, "pool=main"), send("DELETE", "/nodes/main", null, null),
                send("DELETE", "/nodes/main/a/b", null, null), send("POST", "/nodes", null, ""))) {
            assertThat(request.statusCode()).as(request.body()).isEqualTo(400);
        }
        assertThat(topology.calls).isEmpty();
    }

    @Test
    void shouldAnswer409WithTheCoresReasonForARefusedChange() throws Exception {
        start(null);
        var add = send("POST", "/nodes", null, "pool=nosuch&node=127.0.0.1:7004");
        assertThat(add.statusCode()).isEqualTo(409);
        assertThat(add.body()).isEqualTo("{\"ok\":false,\"error\":\"pool nosuch: no such sharded pool\"}\n");
        assertThat(send("DELETE", "/nodes/nosuch/127.0.0.1:7004", null, null).statusCode()).isEqualTo(409);
    }

    @Test
    void shouldAnswer405WithAllowForAWrongMethod() throws Exception {
        start(null);
        var put = send("PUT", "/nodes", null, "x");
        assertThat(put.statusCode()).isEqualTo(405);
        assertThat(put.headers().firstValue("Allow")).hasValue("GET, POST");
        assertThat(put.body()).contains("PUT /nodes: method not allowed (expected: GET, POST)");
        assertThat(send("GET", "/nodes/main/127.0.0.1:7001", null, null).headers().firstValue("Allow")).hasValue("DELETE");
        var get = send("GET", "/reload", null, null);
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");
        assertThat(send("GET", "/nodesx", null, null).statusCode()).isEqualTo(404);
    }

    @Test
    void shouldListMigrations() throws Exception {
        start(null);
        assertThat(send("GET", "/nodes", null, null).body()).isEqualTo("{\"migrations\":[]}\n");
        topology.migrations = List.of("pool main: adding 127.0.0.1:7004, 120 keys copied");
        var response = send("GET", "/nodes", null, null);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"migrations\":[\"pool main: adding 127.0.0.1:7004, 120 keys copied\"]}\n");
    }

    @Test
    void shouldAnswer503UntilTheProxyHasStarted() throws Exception {
        start(null);
        current = null;
        var response = send("POST", "/nodes", null, "pool=main&node=127.0.0.1:7004");
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("\"error\":\"the proxy is still starting; try again in a moment\"");
        assertThat(send("GET", "/nodes", null, null).statusCode()).isEqualTo(503);
        assertThat(send("POST", "/reload", null, null).statusCode()).isEqualTo(503);
    }

    @Test
    void reloadShouldAnswer409WithoutAConfigFile() throws Exception {
        start(null);
        var response = send("POST", "/reload", null, null);
        assertThat(response.statusCode()).isEqualTo(409);
        assertThat(response.body()).contains("\"error\":\"started without a config file");
    }

    @Test
    void reloadShouldApplyTheFileAndListTheChanges() throws Exception {
        Path file = Files.writeString(tmp.resolve("proxy.yaml"), "pools:\n  main:\n    nodes: [127.0.0.1:7001, 127.0.0.1:7002]\n");
        start(file);
        topology.reloadChanges = List.of("pool main: adding 127.0.0.1:7002");
        var response = send("POST", "/reload", null, null);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"ok\":true,\"file\":\"" + file
                + "\",\"changes\":[\"pool main: adding 127.0.0.1:7002\"]}\n");
        assertThat(topology.calls).containsExactly("reload [main]");

        Files.writeString(file, "pools:\n  nosuch:\n    nodes: [127.0.0.1:7001]\n");
        var refused = send("POST", "/reload", null, null);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body()).contains("\"error\":\"pool nosuch: no such sharded pool; nothing changed\"");
    }

    @Test
    void reloadShouldAnswer400WithEveryConfigError() throws Exception {
        Path file = Files.writeString(tmp.resolve("proxy.yaml"),
                "server:\n  max-clints: 10\npools:\n  main:\n    nodes: [127.0.0.1:0]\n");
        start(file);
        var response = send("POST", "/reload", null, null);
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body())
                .contains("\"error\":\"invalid config " + file + " (2 errors); nothing changed\"")
                .contains("{\"path\":\"server.max-clints\",\"value\":null,\"reason\":\"unknown key")
                .contains("{\"path\":\"pools.main.nodes[0]\",\"value\":\"127.0.0.1:0\",\"reason\":\"expected: a port 1..65535\"}");
        assertThat(topology.calls).isEmpty();
    }

    @Test
    void withATokenChangesShouldAnswer401WithoutTheRightBearerToken() throws Exception {
        Path file = Files.writeString(tmp.resolve("proxy.yaml"), "pools:\n  main:\n    nodes: [127.0.0.1:7001]\n");
        start(file, "s3cret");
        var missing = send("POST", "/nodes", null, "pool=main&node=127.0.0.1:7004");
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(missing.body()).isEqualTo("{\"ok\":false,\"error\":\"missing Authorization: Bearer <token> (admin.token is set)\"}\n");

        var wrong = send("POST", "/nodes", null, "pool=main&node=127.0.0.1:7004", "Bearer s3cre");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(wrong.body()).isEqualTo("{\"ok\":false,\"error\":\"wrong bearer token\"}\n");

        var basic = send("DELETE", "/nodes/main/127.0.0.1:7001", null, null, "Basic czNjcmV0");
        assertThat(basic.statusCode()).isEqualTo(401);
        assertThat(basic.body()).contains("\"error\":\"Authorization: expected Bearer <token>");
        assertThat(send("DELETE", "/nodes/main/127.0.0.1:7001", null, null, "Bearer s3cret2").statusCode()).isEqualTo(401);
        assertThat(send("POST", "/reload", null, null).statusCode()).isEqualTo(401);
        assertThat(send("POST", "/reload", null, null, "Bearer S3CRET").statusCode()).isEqualTo(401);
        assertThat(topology.calls).isEmpty();
    }

    @Test
    void withATokenChangesShouldPassWithTheRightBearerToken() throws Exception {
        Path file = Files.writeString(tmp.resolve("proxy.yaml"), "pools:\n  main:\n    nodes: [127.0.0.1:7001]\n");
        start(file, "s3cret");
        assertThat(send("POST", "/nodes", null, "pool=main&node=127.0.0.1:7004", "Bearer s3cret").statusCode()).isEqualTo(202);
        assertThat(send("DELETE", "/nodes/main/127.0.0.1:7001", null, null, "bearer s3cret").statusCode()).isEqualTo(202);
        assertThat(send("POST", "/reload", null, null, "Bearer s3cret").statusCode()).isEqualTo(200);
        assertThat(topology.calls).containsExactly("add main 127.0.0.1:7004", "remove main 127.0.0.1:7001", "reload [main]");
    }

    @Test
    void withATokenReadsShouldStayOpen() throws Exception {
        start(null, "s3cret");
        topology.migrations = List.of("pool main: adding 127.0.0.1:7004");
        var list = send("GET", "/nodes", null, null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body()).isEqualTo("{\"migrations\":[\"pool main: adding 127.0.0.1:7004\"]}\n");
    }

    @Test
    void anEmptyTokenShouldNeedNoAuthorization() throws Exception {
        start(null, "");
        assertThat(send("POST", "/nodes", null, "pool=main&node=127.0.0.1:7004").statusCode()).isEqualTo(202);
        assertThat(topology.calls).containsExactly("add main 127.0.0.1:7004");
    }
}
