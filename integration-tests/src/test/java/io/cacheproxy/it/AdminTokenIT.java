package io.cacheproxy.it;

import io.cacheproxy.it.CliRun.Outcome;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cacheproxy.cli.Main;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code admin.token}, black box: with it set, the admin endpoint's changes ({@code POST /nodes},
 * {@code DELETE /nodes/...}, {@code POST /reload}) need {@code Authorization: Bearer <token>}, which
 * {@code cacheproxy nodes ... --token} sends, while {@code /metrics}, {@code /health}, {@code /status}
 * and {@code GET /nodes} stay open. Each test gets a fresh proxy over a one-node sharded pool
 * {@code main}, plus a spare Redis outside it.
 */
@Timeout(60)
class AdminTokenIT {
    private static final String TOKEN = "s3cret";
    private static final String WANTS_A_TOKEN =
            "cacheproxy nodes add: the admin endpoint wants a token (--token or CACHEPROXY_ADMIN_TOKEN)\n";

    @RegisterExtension
    static final RedisExtension node = new RedisExtension();
    @RegisterExtension
    static final RedisExtension spare = new RedisExtension();

    private TestProxy proxy;

    @BeforeEach
    void startProxy() {
        proxy = TestProxy.start(new ProxyYaml().adminToken(TOKEN).pool("main", null, node.fixture()));
    }

    @AfterEach
    void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** Runs {@code cacheproxy args... --admin <this proxy>} in this JVM with its output captured. */
    private Outcome cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--admin");
        all.add("127.0.0.1:" + proxy.adminAddress().getPort());
        return CliRun.inProcess(all.toArray(String[]::new));
    }

    @Test
    void nodesAddShouldNeedTheToken() {
        Outcome without = cli("nodes", "add", "main", spare.address());
        assertThat(without.exitCode()).as(without.err()).isEqualTo(Main.EXIT_USAGE);
        assertThat(without.err()).isEqualTo(WANTS_A_TOKEN);
        assertThat(without.out()).isEmpty();

        Outcome wrong = cli("nodes", "add", "main", spare.address(), "--token", "not-" + TOKEN);
        assertThat(wrong.exitCode()).as(wrong.err()).isEqualTo(Main.EXIT_USAGE);
        assertThat(wrong.err()).isEqualTo(WANTS_A_TOKEN);
        assertThat(proxy.admin("/status").body()).doesNotContain(spare.address());

        Outcome with = cli("nodes", "add", "main", spare.address(), "--token", TOKEN);
        assertThat(with.exitCode()).as(with.err()).isZero();
        assertThat(with.out()).contains(spare.address());
        assertThat(with.err()).isEmpty();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                assertThat(proxy.admin("/nodes").body()).isEqualTo("{\"migrations\":[]}\n"));
        assertThat(proxy.admin("/status").body()).contains("\"address\":\"" + spare.address() + "\"");
    }

    @Test
    void changesWithoutTheTokenShouldGet401AndChangeNothing() {
        HttpResponse<String> add = proxy.admin("POST", "/nodes", "pool=main&node=" + spare.address());
        assertThat(add.statusCode()).isEqualTo(401);
        assertThat(add.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(add.body()).startsWith("{\"ok\":false,\"error\":\"missing Authorization: Bearer");
        assertThat(proxy.admin("DELETE", "/nodes/main/" + node.address(), null).statusCode()).isEqualTo(401);
        assertThat(proxy.admin("POST", "/reload", null).statusCode()).isEqualTo(401);
        assertThat(proxy.admin("/status").body()).contains(node.address()).doesNotContain(spare.address());
    }

    @Test
    void readOnlyEndpointsShouldStayOpen() {
        HttpResponse<String> metrics = proxy.admin("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("cacheproxy_client_connections");
        assertThat(proxy.admin("/health").statusCode()).isEqualTo(200);
        assertThat(proxy.admin("/status").statusCode()).isEqualTo(200);
        HttpResponse<String> nodes = proxy.admin("/nodes");
        assertThat(nodes.statusCode()).isEqualTo(200);
        assertThat(nodes.body()).isEqualTo("{\"migrations\":[]}\n");
        Outcome list = cli("nodes");
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).isEqualTo("no migration under way\n");
    }
}
