package io.cacheproxy.it;

import io.cacheproxy.config.ConfigLoader;
import io.cacheproxy.config.ProxyConfig;
import io.cacheproxy.proxy.ProxyServer;
import io.cacheproxy.resp.LeakCheckExtension;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * An in-process proxy for one test or class ({@link ProxyServer} behind a small test API). Close it
 * to shut the proxy down; {@link ProxyExtension} does so for a whole class.
 */
public final class TestProxy implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final ProxyServer server;
    private final String yaml;

    private TestProxy(ProxyServer server, String yaml) {
        this.server = server;
        this.yaml = yaml;
    }

    /** Parses {@code yaml} (no environment variables) and starts a proxy. */
    public static TestProxy start(String yaml) {
        LeakCheckExtension.install();
        ProxyConfig config = ConfigLoader.parse(yaml, Map.of(), "test");
        try {
            return new TestProxy(ProxyServer.start(config), yaml);
        } catch (IOException e) {
            throw new IllegalStateException("proxy did not start with config:\n" + yaml, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static TestProxy start(ProxyYaml yaml) {
        return start(yaml.toString());
    }

    /** Starts a proxy from the config file {@code file}, which {@code POST /reload} reads again. */
    public static TestProxy start(java.nio.file.Path file) {
        LeakCheckExtension.install();
        try {
            String yaml = java.nio.file.Files.readString(file);
            return new TestProxy(ProxyServer.start(ConfigLoader.load(file), file), yaml);
        } catch (IOException e) {
            throw new IllegalStateException("proxy did not start with config file " + file, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The proxy's run-time topology changes, called directly (the admin API's /nodes calls the same). */
    public io.cacheproxy.proxy.TopologyChanges topology() {
        return server.topology();
    }

    public InetSocketAddress address() {
        return server.address();
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return server.address().getPort();
    }

    public InetSocketAddress adminAddress() {
        return server.adminAddress();
    }

    public String yaml() {
        return yaml;
    }

    /** A raw connection to the proxy's RESP port. */
    public RawRedisClient connect() {
        return RawRedisClient.connect(host(), port());
    }

    /** {@code GET path} on the admin endpoint. */
    public HttpResponse<String> admin(String path) {
        return admin("GET", path, null);
    }

    /** {@code method path} on the admin endpoint, with {@code body} (none when null) as it is. */
    public HttpResponse<String> admin(String method, String path, String body) {
        InetSocketAddress admin = adminAddress();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.getPort() + path))
                .timeout(Duration.ofSeconds(5))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build();
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " on the admin endpoint failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops the proxy, then fails if Netty reported a leaked buffer (of this proxy or an earlier one). */
    @Override
    public void close() {
        server.close();
        LeakCheckExtension.assertNoLeaksSinceInstall();
    }
}
