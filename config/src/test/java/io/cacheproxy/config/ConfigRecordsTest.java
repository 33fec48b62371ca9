package io.cacheproxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The records validate in their constructors, so configurations built in code obey the file's rules. */
class ConfigRecordsTest {

    private static final List<HostAndPort> THREE_NODES = List.of(HostAndPort.of("127.0.0.1", 7001),
            HostAndPort.of("127.0.0.1", 7002), HostAndPort.of("127.0.0.1", 7003));

    @Test
    void shouldRejectAnInvalidValueWithNameValueAndExpectation() {
        assertThatThrownBy(() -> new HashingConfig(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("vnodes: 0 (expected: 1..10000)");
    }

    @Test
    void shouldReportEveryInvalidFieldOfARecordAtOnce() {
        assertThatThrownBy(() -> new ServerConfig(HostAndPort.of("127.0.0.1", 6380), 0, Duration.ofSeconds(-1),
                LimitsConfig.defaults(), TlsConfig.defaults(), 2000, "kqueue", Duration.ZERO))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).containsExactly(
                        new ConfigError("max-clients", "0", "expected: >= 1"),
                        new ConfigError("idle-timeout", "-1s", "expected: >= 0s (0 = never)"),
                        new ConfigError("io-threads", "2000", "expected: 0 (one per core) to 1024"),
                        new ConfigError("transport", "kqueue", "expected: one of auto, io_uring, epoll, nio")))
                .hasMessage("""
                        invalid configuration (4 errors):
                          max-clients: 0 (expected: >= 1)
                          idle-timeout: -1s (expected: >= 0s (0 = never))
                          io-threads: 2000 (expected: 0 (one per core) to 1024)
                          transport: kqueue (expected: one of auto, io_uring, epoll, nio)""");
    }

    @Test
    void shouldBuildADefaultConfigurationInCode() {
        PoolConfig main = PoolConfig.of("main", THREE_NODES).withReplication(ReplicationConfig.ofFactor(2));

        ProxyConfig c = ProxyConfig.of(List.of(main))
                .withServer(ServerConfig.defaults().withListen(HostAndPort.of("127.0.0.1", 0)))
                .withL1(L1Config.disabled());

        assertThat(c.defaultPool()).isEqualTo(main);
        assertThat(c.routes()).containsExactly(RouteConfig.defaultRoute("main"));
        assertThat(c.server().listen().port()).isZero();
        assertThat(c.l1().enabled()).isFalse();
        assertThat(ConfigLoader.parse(ConfigPrinter.effectiveYaml(c), Map.of(), "printed")).isEqualTo(c);
    }

    @Test
    void shouldRejectAReplicationFactorAboveTheNodeCountInCode() {
        assertThatThrownBy(() -> PoolConfig.of("main", THREE_NODES.subList(0, 1))
                .withReplication(ReplicationConfig.ofFactor(2)))
                .hasMessage("replication.factor: 2 (expected: <= 1, the number of nodes)");
    }

    @Test
    void shouldRejectRoutesToUnknownPoolsInCode() {
        PoolConfig main = PoolConfig.of("main", THREE_NODES);
        assertThatThrownBy(() -> new ProxyConfig(ServerConfig.defaults(), AdminConfig.defaults(), AuthConfig.none(),
                Map.of("main", main), List.of(RouteConfig.defaultRoute("other")), L1Config.defaults(),
                InvalidationConfig.defaults()))
                .hasMessage("routes[0].pool: other (unknown pool; defined pools: main)");
    }

    @Test
    void shouldRejectNoPools() {
        assertThatThrownBy(() -> ProxyConfig.of(List.of())).hasMessageContaining("pools: no pools defined");
    }

    @Test
    void shouldCopyCollectionsAndKeepPoolOrder() {
        Map<String, PoolConfig> pools = new LinkedHashMap<>();
        for (String name : List.of("z", "a", "m")) {
            pools.put(name, PoolConfig.of(name, THREE_NODES));
        }
        List<RouteConfig> routes = new ArrayList<>(List.of(RouteConfig.defaultRoute("a")));
        ProxyConfig c = new ProxyConfig(ServerConfig.defaults(), AdminConfig.defaults(), AuthConfig.none(), pools,
                routes, L1Config.defaults(), InvalidationConfig.defaults());

        pools.clear();
        routes.clear();

        assertThat(c.pools().keySet()).containsExactly("z", "a", "m");
        assertThat(c.routes()).hasSize(1);
        assertThatThrownBy(() -> c.pools().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void shouldKeepPasswordsOutOfToString() {
        PoolConfig pool = new PoolConfig("main", PoolType.SHARDED, THREE_NODES, HashingConfig.defaults(),
                ReplicationConfig.defaults(), TimeoutsConfig.defaults(), HealthConfig.defaults(), 256, "hunter2", false,
                AdminCommands.DENY, null);
        UserConfig user = UserConfig.of("app", "hunter2");

        assertThat(pool.toString()).doesNotContain("hunter2").contains("password=****");
        assertThat(user.toString()).doesNotContain("hunter2");
        assertThat(new AuthConfig(List.of(user)).toString()).doesNotContain("hunter2");
    }

    @Test
    void shouldTreatAnEmptyPoolPasswordAsNone() {
        PoolConfig pool = new PoolConfig("main", PoolType.SHARDED, THREE_NODES, HashingConfig.defaults(),
                ReplicationConfig.defaults(), TimeoutsConfig.defaults(), HealthConfig.defaults(), 256, "", false,
                AdminCommands.DENY, null);
        assertThat(pool.password()).isNull();
    }

    @Test
    void shouldNameEnumValuesAsTheFileDoes() {
        assertThat(WriteAck.ALL_AVAILABLE.configName()).isEqualTo("all-available");
        assertThat(WriteAck.fromConfigName("All-Available")).isEqualTo(WriteAck.ALL_AVAILABLE);
        assertThat(PoolType.fromConfigName("nope")).isNull();
    }

    @Test
    void shouldSuggestCloseNames() {
        assertThat(Suggestions.closest("max-tll", List.of("enabled", "max-memory", "max-ttl"))).isEqualTo("max-ttl");
        assertThat(Suggestions.closest("maxTtl", List.of("max-memory", "max-ttl"))).isEqualTo("max-ttl");
        assertThat(Suggestions.closest("colour", List.of("type", "nodes"))).isNull();
        assertThat(Suggestions.distance("kitten", "sitting")).isEqualTo(3);
    }
}
