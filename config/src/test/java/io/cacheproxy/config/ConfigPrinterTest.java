package io.cacheproxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigPrinterTest {

    /** {@code config} with every password and the admin token replaced by the mask, as the printer writes it. */
    private static ProxyConfig masked(ProxyConfig config) {
        Map<String, PoolConfig> pools = new LinkedHashMap<>();
        config.pools().forEach((name, p) -> pools.put(name, new PoolConfig(p.name(), p.type(), p.nodes(), p.hashing(),
                p.replication(), p.timeouts(), p.health(), p.blockingConnections(), p.password() == null ? null : ConfigPrinter.MASK, p.tls(),
                p.adminCommands(), p.masterName())));
        List<UserConfig> users = config.auth().users().stream()
                .map(u -> new UserConfig(u.name(), ConfigPrinter.MASK, u.commands(), u.keys()))
                .toList();
        AdminConfig admin = new AdminConfig(config.admin().listen(), config.admin().token() == null ? null : ConfigPrinter.MASK);
        return new ProxyConfig(config.server(), admin, new AuthConfig(users), pools, config.routes(),
                config.l1(), config.invalidation());
    }

    private static ProxyConfig reparse(String yaml) {
        return ConfigLoader.parse(yaml, Map.of(), "effective.yaml");
    }

    @Test
    void shouldRoundTripTheSpecExample() {
        ProxyConfig config = ConfigLoaderTest.parse(ConfigLoaderTest.specExampleWithSessionsPool());

        String yaml = ConfigPrinter.effectiveYaml(config);

        assertThat(reparse(yaml)).isEqualTo(masked(config));
        assertThat(ConfigPrinter.effectiveYaml(reparse(yaml))).isEqualTo(yaml);
    }

    @Test
    void shouldMaskEveryPassword() {
        ProxyConfig config = ConfigLoaderTest.parse(ConfigLoaderTest.specExampleWithSessionsPool());

        String yaml = ConfigPrinter.effectiveYaml(config);

        assertThat(yaml).doesNotContain("app-secret").doesNotContain("redis-secret");
        assertThat(yaml).contains("password: '****'");
    }

    @Test
    void shouldMaskTheAdminToken() {
        ProxyConfig config = ConfigLoaderTest.parse(ConfigLoaderTest.withPool("admin: {listen: 127.0.0.1:9122, token: s3cret}\n"));

        String yaml = ConfigPrinter.effectiveYaml(config);

        assertThat(yaml).doesNotContain("s3cret").contains("admin:\n  listen: 127.0.0.1:9122\n  token: '****'\n");
        assertThat(reparse(yaml)).isEqualTo(masked(config));
    }

    @Test
    void shouldPrintEveryDefaultInHumanUnits() {
        String yaml = ConfigPrinter.effectiveYaml(ConfigLoaderTest.parse(ConfigLoaderTest.MINIMAL));

        assertThat(yaml).isEqualTo("""
                server:
                  listen: 127.0.0.1:6380
                  max-clients: 10000
                  idle-timeout: 0s
                  io-threads: 1
                  transport: auto
                  shutdown-timeout: 10s
                  limits:
                    max-bulk: 512mb
                    max-args: 1048576
                    max-inline: 64kb
                    client-output-buffer: 64mb
                  tls:
                    enabled: false
                admin:
                  listen: 127.0.0.1:9121
                auth:
                  users: []
                pools:
                  main:
                    type: sharded
                    nodes:
                      - 127.0.0.1:7001
                      - 127.0.0.1:7002
                      - 127.0.0.1:7003
                    hashing:
                      vnodes: 160
                    replication:
                      factor: 1
                      write-ack: all-available
                      read-from: primary
                    timeouts:
                      connect: 1s
                      command: 1s
                    health:
                      interval: 500ms
                      failures-to-eject: 3
                    blocking-connections: 256
                    tls: false
                    admin-commands: deny
                routes:
                  - pool: main
                l1:
                  enabled: true
                  max-memory: 256mb
                  max-ttl: 30s
                  hot-keys:
                    min-reads-per-second: 20
                invalidation:
                  tracking: true
                  broadcast:
                    enabled: true
                    channel: __cacheproxy:invalidate
                """);
    }

    @Test
    void shouldRoundTripValuesThatNeedQuotingOrEscaping() {
        PoolConfig odd = new PoolConfig("odd", PoolType.SENTINEL, List.of(HostAndPort.of("::1", 26379),
                HostAndPort.of("sentinel-1", 26379)), new HashingConfig(7), new ReplicationConfig(1, WriteAck.MAJORITY,
                ReadFrom.ANY), new TimeoutsConfig(Duration.ofMillis(1500), Duration.ofMinutes(2)),
                new HealthConfig(Duration.ofNanos(1500), 1), 3, "pw", true, AdminCommands.PASS, "true");
        PoolConfig main = PoolConfig.of("main", List.of(HostAndPort.of("127.0.0.1", 7001)));
        Map<String, PoolConfig> pools = new LinkedHashMap<>();
        pools.put("main", main);
        pools.put("odd", odd);
        ProxyConfig config = new ProxyConfig(
                new ServerConfig(HostAndPort.of("[::]".replace("[", "").replace("]", ""), 0), 1, Duration.ofHours(25),
                        new LimitsConfig(1000, 1, 1536, 0), new TlsConfig(true, "c #.pem", "k: x.pem", null), 0, "nio",
                        Duration.ZERO),
                AdminConfig.defaults(),
                new AuthConfig(List.of(new UserConfig("u", "p", List.of("+@all", "-flushall"), List.of("*", "${a}", "0123")))),
                pools,
                List.of(new RouteConfig("0123", "odd"), new RouteConfig("null", "odd"), new RouteConfig("'quoted' # x", "odd"),
                        new RouteConfig("${HOME}", "odd"), new RouteConfig("- dash", "odd"), RouteConfig.defaultRoute("main")),
                new L1Config(false, 3, Duration.ofMillis(1), new HotKeysConfig(0)),
                new InvalidationConfig(false, new BroadcastConfig(false, "yes")));

        ProxyConfig back = reparse(ConfigPrinter.effectiveYaml(config));

        assertThat(back).isEqualTo(masked(config));
    }
}
