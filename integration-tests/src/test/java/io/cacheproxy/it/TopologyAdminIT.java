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
 * The operator's side of run-time topology changes, black box: {@code POST /nodes},
 * {@code DELETE /nodes/...}, {@code GET /nodes} and {@code POST /reload} on the admin endpoint,
 * and {@code cacheproxy nodes ...} / {@code cacheproxy reload} against it. Each test gets a fresh
 * proxy over a sharded pool {@code main} of two nodes with {@code replication.factor: 2}, plus a
 * spare Redis outside the pool.
 */
@Timeout(60)
class TopologyAdminIT {
    @RegisterExtension
    static final RedisExtension node1 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension node2 = new RedisExtension();
    @RegisterExtension
    static final RedisExtension spare = new RedisExtension();

    private TestProxy proxy;

    @BeforeEach
    void startProxy() {
        proxy = TestProxy.start(new ProxyYaml().pool("main", "replication: {factor: 2}", node1.fixture(), node2.fixture()));
    }

    @AfterEach
    void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private String admin() {
        return "127.0.0.1:" + proxy.adminAddress().getPort();
    }

    /** Runs {@code cacheproxy args... --admin <this proxy>} in this JVM with its output captured. */
    private Outcome cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--admin");
        all.add(admin());
        return CliRun.inProcess(all.toArray(String[]::new));
    }

    private void awaitNoMigration() {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                assertThat(proxy.admin("/nodes").body()).isEqualTo("{\"migrations\":[]}\n"));
    }

    @Test
    void badRequestsShouldGet400WithTheReason() {
        HttpResponse<String> noNode = proxy.admin("POST", "/nodes", "{\"pool\":\"main\"}");
        assertThat(noNode.statusCode()).isEqualTo(400);
        assertThat(noNode.body()).startsWith("{\"ok\":false,\"error\":\"node: required (expected: ");

        HttpResponse<String> noPool = proxy.admin("POST", "/nodes", "node=" + spare.address());
        assertThat(noPool.statusCode()).isEqualTo(400);
        assertThat(noPool.body()).contains("\"error\":\"pool: required");

        HttpResponse<String> badAddress = proxy.admin("POST", "/nodes", "{\"pool\":\"main\",\"node\":\"127.0.0.1\"}");
        assertThat(badAddress.statusCode()).isEqualTo(400);
        assertThat(badAddress.body()).contains("\"error\":\"node: 127.0.0.1 (expected: host:port, e.g. 127.0.0.1:6380)\"");

        HttpResponse<String> badJson = proxy.admin("POST", "/nodes", "{\"pool\":");
        assertThat(badJson.statusCode()).isEqualTo(400);
        assertThat(badJson.body()).contains("\"error\":\"body: not valid JSON");

        HttpResponse<String> badPath = proxy.admin("DELETE", "/nodes/main", null);
        assertThat(badPath.statusCode()).isEqualTo(400);
        assertThat(badPath.body()).contains("expected: DELETE /nodes/POOL/HOST:PORT");

        HttpResponse<String> wrongMethod = proxy.admin("PUT", "/nodes", "");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("GET, POST");
        assertThat(proxy.admin("GET", "/reload", null).statusCode()).isEqualTo(405);

        assertThat(proxy.admin("/nodes").body()).isEqualTo("{\"migrations\":[]}\n");
    }

    @Test
    void refusedChangesShouldGet409WithTheCoresMessage() {
        HttpResponse<String> unknownPool = proxy.admin("POST", "/nodes", "pool=nosuch&node=" + spare.address());
        assertThat(unknownPool.statusCode()).as(unknownPool.body()).isEqualTo(409);
        assertThat(unknownPool.body()).startsWith("{\"ok\":false,\"error\":\"").contains("nosuch");

        HttpResponse<String> duplicate = proxy.admin("POST", "/nodes", "pool=main&node=" + node1.address());
        assertThat(duplicate.statusCode()).as(duplicate.body()).isEqualTo(409);
        assertThat(duplicate.body()).contains("main").contains(node1.address());

        HttpResponse<String> notANode = proxy.admin("DELETE", "/nodes/main/" + spare.address(), null);
        assertThat(notANode.statusCode()).as(notANode.body()).isEqualTo(409);
        assertThat(notANode.body()).contains("main").contains(spare.address());

        HttpResponse<String> belowFactor = proxy.admin("DELETE", "/nodes/main/" + node1.address(), null);
        assertThat(belowFactor.statusCode()).as(belowFactor.body()).isEqualTo(409);
        assertThat(belowFactor.body()).contains("main").containsIgnoringCase("factor");

        assertThat(proxy.admin("/nodes").body()).isEqualTo("{\"migrations\":[]}\n");
    }

    @Test
    void reloadShouldGet409WhenTheProxyWasStartedWithoutAFile() {
        HttpResponse<String> reload = proxy.admin("POST", "/reload", null);
        assertThat(reload.statusCode()).isEqualTo(409);
        assertThat(reload.body()).contains("\"error\":\"started without a config file");

        Outcome outcome = cli("reload");
        assertThat(outcome.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(outcome.err()).startsWith("cacheproxy reload: started without a config file");
        assertThat(outcome.out()).isEmpty();
    }

    @Test
    void cliShouldPrintWhatTheAdminSaid() {
        Outcome added = cli("nodes", "add", "main", spare.address());
        assertThat(added.exitCode()).as(added.err()).isZero();
        assertThat(added.out()).contains(spare.address());
        assertThat(added.err()).isEmpty();
        awaitNoMigration();
        assertThat(cli("nodes").out()).isEqualTo("no migration under way\n");
        assertThat(proxy.admin("/status").body()).contains("\"address\":\"" + spare.address() + "\"");

        Outcome again = cli("nodes", "add", "main", spare.address());
        assertThat(again.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(again.err()).startsWith("cacheproxy nodes add: ").contains(spare.address());

        Outcome unknownPool = cli("nodes", "remove", "nosuch", spare.address());
        assertThat(unknownPool.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(unknownPool.err()).startsWith("cacheproxy nodes remove: ").contains("nosuch");

        Outcome removed = cli("nodes", "remove", "main", spare.address());
        assertThat(removed.exitCode()).as(removed.err()).isZero();
        assertThat(removed.out()).contains(spare.address());
        awaitNoMigration();
        assertThat(cli("nodes", "list").out()).isEqualTo("no migration under way\n");
        assertThat(proxy.admin("/status").body()).doesNotContain(spare.address());

        Outcome badAddress = cli("nodes", "add", "main", "127.0.0.1");
        assertThat(badAddress.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(badAddress.err()).isEqualTo("cacheproxy nodes add: HOST:PORT: 127.0.0.1 (expected: host:port, e.g. 127.0.0.1:6380)\n");
    }
}
