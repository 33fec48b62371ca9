package io.cacheproxy.proxy.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.proxy.l1.NearCache;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP endpoint on {@code admin.listen} (shared/SPEC.md §3): {@code /health},
 * {@code /ready}, {@code /metrics} (Prometheus text), {@code /status} (JSON), and the topology
 * operations {@code /nodes} and {@code /reload} ({@link TopologyEndpoints}, which alone check
 * {@code admin.token}: the read-only endpoints stay open). It runs on the JDK's built-in HTTP
 * server with one thread of its own, so a scrape never takes time from the data path's event
 * loops.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final ProxyContext proxy;

    private AdminServer(HttpServer server, ExecutorService executor, ProxyContext proxy) {
        this.server = server;
        this.executor = executor;
        this.proxy = proxy;
    }

    /**
     * Binds {@code address} and serves {@code proxy}'s admin endpoint.
     *
     * @param configFile the file the proxy's config was loaded from, which {@code POST /reload}
     *                   re-reads; {@code null} when the config did not come from a file (then
     *                   {@code /reload} answers 409)
     * @param token      {@code admin.token} as the proxy started with it: the bearer token that
     *                   {@code POST /nodes}, {@code DELETE /nodes/...} and {@code POST /reload}
     *                   need; null (or empty) = none. A reload never changes it.
     */
    public static AdminServer start(InetSocketAddress address, ProxyContext proxy, Path configFile, String token)
            throws IOException {
        HttpServer server = HttpServer.create(address, 64);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cacheproxy-admin");
            t.setDaemon(true);
            return t;
        });
        AdminServer admin = new AdminServer(server, executor, proxy);
        server.setExecutor(executor);
        server.createContext("/health", admin::health);
        server.createContext("/ready", admin::ready);
        server.createContext("/metrics", admin::metrics);
        server.createContext("/status", admin::status);
        new TopologyEndpoints(proxy::topology, configFile, token).register(server);
        server.start();
        return admin;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void health(HttpExchange exchange) throws IOException {
        respond(exchange, 200, "text/plain", "OK\n");
    }

    private void ready(HttpExchange exchange) throws IOException {
        List<String> problems = notReadyReasons();
        if (problems.isEmpty()) {
            respond(exchange, 200, "text/plain", "READY\n");
        } else {
            respond(exchange, 503, "text/plain", String.join("\n", problems) + "\n");
        }
    }

    /** Why the proxy cannot serve every key now; empty when it can. */
    public List<String> notReadyReasons() {
        List<String> problems = new ArrayList<>();
        if (proxy.shuttingDown()) {
            problems.add("shutting down");
        }
        for (BackendPool pool : proxy.routes().targets()) {
            if (pool.replicated()) {
                // a shard is a replica set: it serves while one of its nodes is trusted
                for (var replicas : pool.replicaSets()) {
                    if (replicas.firstTrusted() == null) {
                        problems.add("pool " + pool.name() + ": no trusted node among " + replicas.names());
                    }
                }
                continue;
            }
            for (BackendNode node : pool.nodes()) {
                if (!node.isUp()) {
                    problems.add("pool " + pool.name() + ": node " + node.name() + " unreachable");
                }
            }
        }
        return problems;
    }

    private void metrics(HttpExchange exchange) throws IOException {
        respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", proxy.metrics().scrape());
    }

    private void status(HttpExchange exchange) throws IOException {
        StringBuilder json = new StringBuilder(256);
        json.append("{\"clients\":").append(proxy.metrics().clientConnections())
                .append(",\"ready\":").append(notReadyReasons().isEmpty())
                .append(",\"pools\":[");
        List<BackendPool> pools = proxy.routes().targets();
        for (int p = 0; p < pools.size(); p++) {
            BackendPool pool = pools.get(p);
            json.append(p == 0 ? "" : ",").append("{\"name\":\"").append(jsonEscape(pool.name())).append("\",\"nodes\":[");
            for (int n = 0; n < pool.nodes().size(); n++) {
                BackendNode node = pool.nodes().get(n);
                json.append(n == 0 ? "" : ",").append("{\"address\":\"").append(jsonEscape(node.name()))
                        .append("\",\"up\":").append(node.isUp())
                        .append(",\"errors\":").append(node.errorCount());
                if (node.health() != null) {
                    json.append(",\"state\":\"").append(node.health().state())
                            .append("\",\"circuit\":\"").append(node.health().breaker().getState().name().toLowerCase(java.util.Locale.ROOT))
                            .append("\",\"ejections\":").append(node.health().ejections());
                }
                json.append('}');
            }
            json.append("]}");
        }
        json.append("],\"l1\":");
        l1Status(json, topParameter(exchange.getRequestURI().getRawQuery()));
        json.append("}\n");
        respond(exchange, 200, "application/json", json.toString());
    }

    /** {@code top=N} in the query: how many hot keys /status lists (default 10, at most 256). */
    static int topParameter(String query) {
        if (query != null) {
            for (String part : query.split("&")) {
                if (part.startsWith("top=")) {
                    try {
                        return Math.max(0, Math.min(256, Integer.parseInt(part.substring(4))));
                    } catch (NumberFormatException e) {
                        return 10;
                    }
                }
            }
        }
        return 10;
    }

    private void l1Status(StringBuilder json, int top) {
        NearCache l1 = proxy.nearCache();
        long hits = l1.hits();
        long misses = l1.misses();
        json.append("{\"enabled\":").append(l1.enabled())
                .append(",\"entries\":").append(l1.entryCount())
                .append(",\"bytes\":").append(l1.bytes())
                .append(",\"hits\":").append(hits)
                .append(",\"misses\":").append(misses)
                .append(",\"hitRatio\":").append(hits + misses == 0 ? 0 : (double) hits / (hits + misses))
                .append(",\"hotKeys\":[");
        List<NearCache.HotKey> hot = l1.enabled() ? l1.hottest(top) : List.of();
        for (int i = 0; i < hot.size(); i++) {
            NearCache.HotKey k = hot.get(i);
            json.append(i == 0 ? "" : ",").append("{\"key\":\"")
                    .append(jsonEscape(new String(k.key(), StandardCharsets.UTF_8)))
                    .append("\",\"reads\":").append(k.reads())
                    .append(",\"cached\":").append(k.cached()).append('}');
        }
        json.append("]}");
    }

    static String jsonEscape(String s) {
        StringBuilder out = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        try (exchange) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            if (exchange.getRequestMethod().equals("HEAD")) {
                exchange.sendResponseHeaders(status, -1);
                return;
            }
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (IOException e) {
            log.debug("admin request {} failed: {}", exchange.getRequestURI(), e.toString());
            throw e;
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
