package io.cacheproxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code cacheproxy nodes} and {@code cacheproxy reload} against a fake admin endpoint that records
 * each request and gives one canned answer: what they send, what they print, how they exit.
 */
class NodesCommandTest {

    record Outcome(int exitCode, String out, String err) {
    }

    private HttpServer admin;
    private final List<String> requests = new ArrayList<>();
    private volatile int status = 200;
    private volatile String answer = "{}";

    @BeforeEach
    void startFakeAdmin() throws IOException {
        admin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        admin.createContext("/", exchange -> {
            try (exchange) {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                synchronized (requests) {
                    requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath()
                            + (body.isEmpty() ? "" : " " + body));
                }
                byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        });
        admin.start();
    }

    @AfterEach
    void stopFakeAdmin() {
        admin.stop(0);
    }

    private void answer(int status, String json) {
        this.status = status;
        this.answer = json;
    }

    /** Runs {@code cacheproxy args... --admin <the fake>} with its output captured. */
    private Outcome execute(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--admin");
        all.add("127.0.0.1:" + admin.getAddress().getPort());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(all.toArray(String[]::new));
        return new Outcome(code, out.toString(), err.toString());
    }

    @Test
    void addShouldPostTheNodeAndPrintTheProxysMessage() {
        answer(202, "{\"ok\":true,\"message\":\"pool main: adding 127.0.0.1:7004\"}");
        Outcome outcome = execute("nodes", "add", "main", "127.0.0.1:7004");
        assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        assertThat(outcome.out()).isEqualTo("pool main: adding 127.0.0.1:7004\n");
        assertThat(requests).containsExactly("POST /nodes {\"pool\":\"main\",\"node\":\"127.0.0.1:7004\"}");
    }

    @Test
    void removeShouldDeleteTheNodesPath() {
        answer(202, "{\"ok\":true,\"message\":\"pool main: removing [::1]:7002\"}");
        Outcome outcome = execute("nodes", "remove", "main", "[::1]:7002");
        assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        assertThat(outcome.out()).isEqualTo("pool main: removing [::1]:7002\n");
        assertThat(requests).containsExactly("DELETE /nodes/main/%5B%3A%3A1%5D%3A7002");
    }

    @Test
    void nodesAndNodesListShouldPrintTheMigrations() {
        answer(200, "{\"migrations\":[\"pool main: adding 127.0.0.1:7004, 10 keys copied\"]}");
        assertThat(execute("nodes").out()).isEqualTo("pool main: adding 127.0.0.1:7004, 10 keys copied\n");
        answer(200, "{\"migrations\":[]}");
        Outcome outcome = execute("nodes", "list");
        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.out()).isEqualTo("no migration under way\n");
        assertThat(requests).containsExactly("GET /nodes", "GET /nodes");
    }

    @Test
    void shouldExitTwoWithTheProxysReasonForARefusal() {
        answer(409, "{\"ok\":false,\"error\":\"pool main: 127.0.0.1:7001 is already a node\"}");
        Outcome outcome = execute("nodes", "add", "main", "127.0.0.1:7001");
        assertThat(outcome.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(outcome.err()).isEqualTo("cacheproxy nodes add: pool main: 127.0.0.1:7001 is already a node\n");
        assertThat(outcome.out()).isEmpty();
    }

    @Test
    void shouldExitOneForAnAnswerThatIsNoRefusal() {
        answer(500, "{\"ok\":false,\"error\":\"boom\"}");
        assertThat(execute("nodes", "remove", "main", "127.0.0.1:7001").exitCode()).isEqualTo(Main.EXIT_RUNTIME);
        answer(404, "<h1>404 Not Found</h1>");
        Outcome outcome = execute("reload");
        assertThat(outcome.exitCode()).isEqualTo(Main.EXIT_RUNTIME);
        assertThat(outcome.err()).isEqualTo("cacheproxy reload: the admin endpoint answered HTTP 404: <h1>404 Not Found</h1>"
                + " (is the proxy older than this command?)\n");
    }

    @Test
    void shouldExitTwoWithoutARequestForABadArgument() {
        Outcome address = execute("nodes", "add", "main", "nohost");
        assertThat(address.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(address.err()).isEqualTo("cacheproxy nodes add: HOST:PORT: nohost (expected: host:port, e.g. 127.0.0.1:6380)\n");
        Outcome port = execute("nodes", "remove", "main", "127.0.0.1:0");
        assertThat(port.err()).isEqualTo("cacheproxy nodes remove: HOST:PORT: 127.0.0.1:0 (expected: a port 1..65535)\n");
        Outcome pool = execute("nodes", "add", "ma/in", "127.0.0.1:7004");
        assertThat(pool.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(pool.err()).isEqualTo("cacheproxy nodes add: POOL: ma/in (expected: a pool name: letters, digits, - and _)\n");
        assertThat(execute("nodes", "add", "main").exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(requests).isEmpty();
    }

    @Test
    void shouldExitOneWhenTheAdminEndpointIsUnreachable() {
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setErr(new PrintWriter(err))
                .execute("nodes", "add", "main", "127.0.0.1:7004", "--admin", "127.0.0.1:1");
        assertThat(code).isEqualTo(Main.EXIT_RUNTIME);
        assertThat(err.toString()).startsWith("cacheproxy nodes add: cannot reach the admin endpoint at 127.0.0.1:1 (");
    }

    @Test
    void reloadShouldPrintEachChange() {
        answer(200, "{\"ok\":true,\"file\":\"/etc/cacheproxy.yaml\",\"changes\":[\"pool main: adding 127.0.0.1:7004\","
                + "\"not applied (needs a restart): l1.max-ttl\"]}");
        Outcome outcome = execute("reload");
        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.out()).isEqualTo("""
                reloaded /etc/cacheproxy.yaml:
                  pool main: adding 127.0.0.1:7004
                  not applied (needs a restart): l1.max-ttl
                """);
        assertThat(requests).containsExactly("POST /reload");
        answer(200, "{\"ok\":true,\"file\":\"/etc/cacheproxy.yaml\",\"changes\":[]}");
        assertThat(execute("reload").out()).isEqualTo("reloaded /etc/cacheproxy.yaml: nothing to change\n");
    }

    @Test
    void reloadShouldListEveryConfigErrorAndExitTwo() {
        answer(400, "{\"ok\":false,\"error\":\"invalid config /etc/cacheproxy.yaml (2 errors); nothing changed\","
                + "\"errors\":[{\"path\":\"server.max-clints\",\"value\":null,\"reason\":\"unknown key\"},"
                + "{\"path\":\"pools.main.nodes[0]\",\"value\":\"127.0.0.1:0\",\"reason\":\"expected: a port 1..65535\"}]}");
        Outcome outcome = execute("reload");
        assertThat(outcome.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(outcome.err()).isEqualTo("""
                cacheproxy reload: invalid config /etc/cacheproxy.yaml (2 errors); nothing changed
                  server.max-clints: unknown key
                  pools.main.nodes[0]: 127.0.0.1:0 (expected: a port 1..65535)
                """);
    }

    @Test
    void helpShouldDescribeEachCommand() {
        for (String[] args : List.of(new String[] {"nodes", "--help"}, new String[] {"nodes", "add", "--help"},
                new String[] {"nodes", "remove", "--help"}, new String[] {"nodes", "list", "--help"},
                new String[] {"reload", "--help"})) {
            StringWriter out = new StringWriter();
            int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).execute(args);
            assertThat(code).isZero();
            assertThat(out.toString()).startsWith("Usage: cacheproxy " + String.join(" ", args).replace(" --help", ""))
                    .contains("--admin=HOST:PORT");
        }
    }
}
