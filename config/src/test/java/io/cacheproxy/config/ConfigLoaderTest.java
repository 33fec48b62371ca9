package io.cacheproxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    static final Map<String, String> ENV = Map.of("APP_PASSWORD", "app-secret", "REDIS_PASSWORD", "redis-secret");

    static final String MINIMAL = """
            pools:
              main:
                nodes: [127.0.0.1:7001, 127.0.0.1:7002, 127.0.0.1:7003]
            """;

    static String specExample() {
        try (InputStream in = ConfigLoaderTest.class.getResourceAsStream("/spec-example.yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The SPEC example routes to a pool `sessions` it does not define; this adds one. */
    static String specExampleWithSessionsPool() {
        return specExample().replace("routes:", """
                  sessions:
                    nodes: [127.0.0.1:7101]
                routes:""");
    }

    static ProxyConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, ENV, "test.yaml");
    }

    static List<ConfigError> errorsOf(String yaml) {
        return errorsOf(yaml, ENV);
    }

    static List<ConfigError> errorsOf(String yaml, Map<String, String> env) {
        try {
            ConfigLoader.parse(yaml, env, "test.yaml");
        } catch (ConfigException e) {
            return e.errors();
        }
        throw new AssertionError("expected a ConfigException for:\n" + yaml);
    }

    static String withPool(String sections) {
        return MINIMAL + sections;
    }

    @Test
    void shouldParseTheSpecExample() {
        ProxyConfig c = parse(specExampleWithSessionsPool());

        assertThat(c.server().listen()).isEqualTo(HostAndPort.of("127.0.0.1", 6380));
        assertThat(c.server().maxClients()).isEqualTo(10_000);
        assertThat(c.server().idleTimeout()).isZero();
        assertThat(c.server().limits()).isEqualTo(new LimitsConfig(512L << 20, 1_048_576, 64 << 10, 64L << 20));
        assertThat(c.server().tls()).isEqualTo(new TlsConfig(false, "...", "...", "..."));
        assertThat(c.admin().listen()).isEqualTo(HostAndPort.of("127.0.0.1", 9121));
        assertThat(c.auth().users()).containsExactly(
                new UserConfig("app", "app-secret", List.of("+@all", "-@dangerous"), List.of("app:*")));
        assertThat(c.pools()).containsOnlyKeys("main", "sessions");
        assertThat(c.pools().keySet()).containsExactly("main", "sessions");

        PoolConfig main = c.pool("main");
        assertThat(main.type()).isEqualTo(PoolType.SHARDED);
        assertThat(main.nodes()).containsExactly(HostAndPort.of("127.0.0.1", 7001), HostAndPort.of("127.0.0.1", 7002),
                HostAndPort.of("127.0.0.1", 7003));
        assertThat(main.hashing().vnodes()).isEqualTo(160);
        assertThat(main.replication()).isEqualTo(new ReplicationConfig(2, WriteAck.ALL_AVAILABLE, ReadFrom.PRIMARY));
        assertThat(main.timeouts()).isEqualTo(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(1)));
        assertThat(main.health()).isEqualTo(new HealthConfig(Duration.ofMillis(500), 3));
        assertThat(main.password()).isEqualTo("redis-secret");
        assertThat(main.tls()).isFalse();
        assertThat(main.adminCommands()).isEqualTo(AdminCommands.DENY);
        assertThat(main.masterName()).isNull();

        assertThat(c.routes()).containsExactly(new RouteConfig("session:", "sessions"), RouteConfig.defaultRoute("main"));
        assertThat(c.defaultPool()).isSameAs(main);
        assertThat(c.l1()).isEqualTo(new L1Config(true, 256L << 20, Duration.ofSeconds(30), new HotKeysConfig(20)));
        assertThat(c.invalidation()).isEqualTo(new InvalidationConfig(true,
                new BroadcastConfig(true, "__cacheproxy:invalidate")));
    }

    @Test
    void shouldReportOnlyTheUndefinedSessionsPoolInTheVerbatimSpecExample() {
        assertThat(errorsOf(specExample())).containsExactly(
                new ConfigError("routes[0].pool", "sessions", "unknown pool; defined pools: main"));
    }

    @Test
    void shouldFillEveryDefaultForMinimalFile() {
        ProxyConfig c = parse(MINIMAL);

        PoolConfig main = PoolConfig.of("main", List.of(HostAndPort.of("127.0.0.1", 7001),
                HostAndPort.of("127.0.0.1", 7002), HostAndPort.of("127.0.0.1", 7003)));
        assertThat(c).isEqualTo(ProxyConfig.of(List.of(main)));
        assertThat(c.server()).isEqualTo(new ServerConfig(HostAndPort.of("127.0.0.1", 6380), 10_000, Duration.ZERO,
                new LimitsConfig(536_870_912L, 1_048_576, 65_536, 67_108_864L), new TlsConfig(false, null, null, null),
                1, "auto", Duration.ofSeconds(10)));
        assertThat(c.admin().listen()).hasToString("127.0.0.1:9121");
        assertThat(c.auth().enabled()).isFalse();
        assertThat(main.replication()).isEqualTo(new ReplicationConfig(1, WriteAck.ALL_AVAILABLE, ReadFrom.PRIMARY));
        assertThat(main.hashing().vnodes()).isEqualTo(160);
        assertThat(main.timeouts()).isEqualTo(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(1)));
        assertThat(main.health()).isEqualTo(new HealthConfig(Duration.ofMillis(500), 3));
        assertThat(main.blockingConnections()).isEqualTo(256);
        assertThat(main.adminCommands()).isEqualTo(AdminCommands.DENY);
        assertThat(c.routes()).containsExactly(RouteConfig.defaultRoute("main"));
        assertThat(c.l1()).isEqualTo(new L1Config(true, 268_435_456L, Duration.ofSeconds(30), new HotKeysConfig(20)));
        assertThat(c.invalidation()).isEqualTo(new InvalidationConfig(true,
                new BroadcastConfig(true, "__cacheproxy:invalidate")));
    }

    @Test
    void shouldTreatKeyWithoutValueAsDefault() {
        ProxyConfig c = parse(withPool("""
                server:
                  idle-timeout:
                  limits:
                auth:
                l1:
                  max-ttl:
                """));
        assertThat(c).isEqualTo(parse(MINIMAL));
    }

    @Test
    void shouldRouteEveryKeyToTheFirstPoolWhenRoutesAreAbsent() {
        ProxyConfig c = parse("""
                pools:
                  second: {nodes: [127.0.0.1:7002]}
                  first: {nodes: [127.0.0.1:7001]}
                """);
        assertThat(c.routes()).containsExactly(RouteConfig.defaultRoute("second"));
        assertThat(c.pools().keySet()).containsExactly("second", "first");
    }

    @Test
    void shouldReadServerKeysBeyondTheSpec() {
        ProxyConfig c = parse(withPool("""
                server:
                  io-threads: 0
                  transport: IO_URING
                  shutdown-timeout: 2m
                """));
        assertThat(c.server().ioThreads()).isZero();
        assertThat(c.server().transport()).isEqualTo("io_uring");
        assertThat(c.server().shutdownTimeout()).isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void shouldReadSentinelAndClusterPools() {
        ProxyConfig c = parse("""
                pools:
                  ha: {type: sentinel, master-name: mymaster, nodes: ["[::1]:26379", "sentinel-2:26379"]}
                  big: {type: cluster, nodes: [10.0.0.1:7000], admin-commands: pass, tls: true, password: pw}
                routes:
                  - {prefix: "big:", pool: big}
                  - {pool: ha}
                """);
        assertThat(c.pool("ha").type()).isEqualTo(PoolType.SENTINEL);
        assertThat(c.pool("ha").masterName()).isEqualTo("mymaster");
        assertThat(c.pool("ha").nodes()).containsExactly(HostAndPort.of("::1", 26379), HostAndPort.of("sentinel-2", 26379));
        assertThat(c.pool("big").adminCommands()).isEqualTo(AdminCommands.PASS);
        assertThat(c.pool("big").tls()).isTrue();
        assertThat(c.pool("big").password()).isEqualTo("pw");
    }

    @Test
    void shouldAcceptPortZeroForListenAddresses() {
        ProxyConfig c = parse(withPool("""
                server: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                """));
        assertThat(c.server().listen().port()).isZero();
        assertThat(c.admin().listen().port()).isZero();
    }

    // ---- each kind of error ----

    @Test
    void shouldRejectUnknownKeyWithSuggestion() {
        assertThat(errorsOf(withPool("l1: {max-tll: 30s}"))).containsExactly(
                new ConfigError("l1.max-tll", null, "unknown key; did you mean `max-ttl`?"));
    }

    @Test
    void shouldSuggestTheKebabCaseKeyForACamelCaseKey() {
        assertThat(errorsOf(withPool("server: {maxClients: 5}"))).containsExactly(
                new ConfigError("server.maxClients", null, "unknown key; did you mean `max-clients`?"));
    }

    @Test
    void shouldListKnownKeysWhenNoKeyIsClose() {
        assertThat(errorsOf(withPool("invalidation: {whatever: 1}"))).containsExactly(
                new ConfigError("invalidation.whatever", null, "unknown key; expected one of: tracking, broadcast"));
    }

    @Test
    void shouldRejectUnknownKeysAtEveryLevel() {
        assertThat(errorsOf("""
                pool:
                  main: {nodes: [127.0.0.1:7001]}
                pools:
                  main:
                    nodes: [127.0.0.1:7001]
                    replication: {factr: 1}
                    colour: blue
                routes:
                  - {pool: main, prefx: "x"}
                """)).containsExactly(
                new ConfigError("pools.main.replication.factr", null, "unknown key; did you mean `factor`?"),
                new ConfigError("pools.main.colour", null, "unknown key; expected one of: type, nodes, hashing,"
                        + " replication, timeouts, health, blocking-connections, password, tls, admin-commands,"
                        + " master-name"),
                new ConfigError("routes[0].prefx", null, "unknown key; did you mean `prefix`?"),
                new ConfigError("pool", null, "unknown key; did you mean `pools`?"));
    }

    @Test
    void shouldRejectWrongTypes() {
        assertThat(errorsOf(withPool("""
                server:
                  max-clients: many
                  limits: 5
                  tls: {enabled: maybe}
                admin: [127.0.0.1:9121]
                l1: {max-ttl: {seconds: 30}}
                """))).containsExactly(
                new ConfigError("server.max-clients", "many", "expected: a whole number"),
                new ConfigError("server.limits", "5", "expected: a mapping (key: value lines, or {key: value, ...})"),
                new ConfigError("server.tls.enabled", "maybe", "expected: true or false"),
                new ConfigError("admin", "[\"127.0.0.1:9121\"]",
                        "expected: a mapping (key: value lines, or {key: value, ...})"),
                new ConfigError("l1.max-ttl", "{\"seconds\":30}", "expected: a duration, e.g. 500ms or 10s"));
    }

    @Test
    void shouldRejectBadDurations() {
        assertThat(errorsOf(withPool("""
                server: {idle-timeout: 30}
                l1: {max-ttl: 1.5s}
                """))).containsExactly(
                new ConfigError("server.idle-timeout", "30",
                        "expected: a unit after the number (ms, s, m, h or d), e.g. 30s"),
                new ConfigError("l1.max-ttl", "1.5s",
                        "expected: a whole number and a unit ms, s, m, h or d, e.g. 500ms or 10s"));
    }

    @Test
    void shouldRejectBadSizes() {
        assertThat(errorsOf(withPool("""
                l1: {max-memory: 1k}
                server: {limits: {max-inline: 4gb}}
                """))).containsExactly(
                new ConfigError("server.limits.max-inline", "4gb", "expected: a size under 2gb"),
                new ConfigError("l1.max-memory", "1k", "expected: a whole number of bytes with an optional unit"
                        + " b, kb, mb, gb or tb (1kb = 1024 bytes), e.g. 64mb"));
    }

    @Test
    void shouldRejectOutOfRangeNumbers() {
        assertThat(errorsOf(withPool("""
                server: {max-clients: 0, io-threads: -1, limits: {max-bulk: 2gb}}
                l1: {max-ttl: 0s, hot-keys: {min-reads-per-second: -5}}
                """))).containsExactly(
                new ConfigError("server.limits.max-bulk", "2gb", "expected: 1b to 2147483647b (under 2gb)"),
                new ConfigError("server.max-clients", "0", "expected: >= 1"),
                new ConfigError("server.io-threads", "-1", "expected: 0 (one per core) to 1024"),
                new ConfigError("l1.hot-keys.min-reads-per-second", "-5", "expected: >= 0"),
                new ConfigError("l1.max-ttl", "0s", "expected: > 0s, e.g. 30s"));
    }

    @Test
    void shouldRejectUnknownChoiceWithSuggestion() {
        assertThat(errorsOf("""
                pools:
                  main:
                    type: shraded
                    nodes: [127.0.0.1:7001]
                    replication: {write-ack: quorom, read-from: replicas}
                server: {transport: io-uring}
                """)).containsExactly(
                new ConfigError("server.transport", "io-uring", "expected: one of auto, io_uring, epoll, nio;"
                        + " did you mean `io_uring`?"),
                new ConfigError("pools.main.type", "shraded", "expected: one of sharded, cluster, sentinel;"
                        + " did you mean `sharded`?"),
                new ConfigError("pools.main.replication.write-ack", "quorom",
                        "expected: one of all-available, all, one, majority, quorum; did you mean `quorum`?"),
                new ConfigError("pools.main.replication.read-from", "replicas",
                        "expected: one of primary, replica, any; did you mean `replica`?"));
    }

    @Test
    void shouldTakeQuorumAsMajority() {
        ProxyConfig config = ConfigLoader.parse("""
                pools:
                  main:
                    type: sharded
                    nodes: [127.0.0.1:7001, 127.0.0.1:7002, 127.0.0.1:7003]
                    replication: {factor: 3, write-ack: quorum}
                """, Map.of(), "test");
        assertThat(config.pools().get("main").replication().writeAck()).isEqualTo(WriteAck.MAJORITY);
    }

    @Test
    void shouldRejectReplicationFactorAboveNodeCount() {
        assertThat(errorsOf("""
                pools:
                  main:
                    nodes: [127.0.0.1:7001, 127.0.0.1:7002, 127.0.0.1:7003]
                    replication: {factor: 4}
                """)).containsExactly(
                new ConfigError("pools.main.replication.factor", "4", "expected: <= 3, the number of nodes"));
    }

    @Test
    void shouldRejectReplicationFactorOfZero() {
        assertThat(errorsOf("""
                pools:
                  main: {nodes: [127.0.0.1:7001], replication: {factor: 0}}
                """)).containsExactly(new ConfigError("pools.main.replication.factor", "0", "expected: >= 1"));
    }

    @Test
    void shouldRejectReplicationFactorForClusterPool() {
        assertThat(errorsOf("""
                pools:
                  main: {type: cluster, nodes: [127.0.0.1:7001, 127.0.0.1:7002], replication: {factor: 2}}
                """)).containsExactly(new ConfigError("pools.main.replication.factor", "2",
                "expected: 1 for a cluster pool, where Redis does the replication"));
    }

    @Test
    void shouldReadBlockingConnections() {
        ProxyConfig c = parse("""
                pools:
                  main: {nodes: [127.0.0.1:7001], blocking-connections: 16}
                  one: {nodes: [127.0.0.1:7002], blocking-connections: 1}
                """);
        assertThat(c.pool("main").blockingConnections()).isEqualTo(16);
        assertThat(c.pool("one").blockingConnections()).isEqualTo(1);
    }

    @Test
    void shouldRejectBlockingConnectionsBelowOneOrNotANumber() {
        assertThat(errorsOf("""
                pools:
                  main: {nodes: [127.0.0.1:7001], blocking-connections: 0}
                  other: {nodes: [127.0.0.1:7002], blocking-connections: lots}
                  third: {nodes: [127.0.0.1:7003], blocking-connections: -3}
                """)).containsExactly(
                new ConfigError("pools.main.blocking-connections", "0", "expected: >= 1"),
                new ConfigError("pools.other.blocking-connections", "lots", "expected: a whole number"),
                new ConfigError("pools.third.blocking-connections", "-3", "expected: >= 1"));
    }

    @Test
    void shouldRequireMasterNameOnlyForSentinelPools() {
        assertThat(errorsOf("""
                pools:
                  ha: {type: sentinel, nodes: [127.0.0.1:26379]}
                  main: {nodes: [127.0.0.1:7001], master-name: mymaster}
                """)).containsExactly(
                new ConfigError("pools.ha.master-name", null, "required for a sentinel pool"),
                new ConfigError("pools.main.master-name", "mymaster", "expected: no master-name, it is only for type sentinel"));
    }

    @Test
    void shouldRequireNodes() {
        assertThat(errorsOf("""
                pools:
                  main: {type: sharded}
                  other:
                """)).containsExactly(
                new ConfigError("pools.main.nodes", null, "required: a list of host:port, e.g. [127.0.0.1:7001, 127.0.0.1:7002]"),
                new ConfigError("pools.other.nodes", null, "required: a list of host:port, e.g. [127.0.0.1:7001, 127.0.0.1:7002]"));
    }

    @Test
    void shouldRejectEmptyOrScalarNodes() {
        assertThat(errorsOf("""
                pools:
                  main: {nodes: []}
                  other: {nodes: 127.0.0.1:7001}
                """)).containsExactly(
                new ConfigError("pools.main.nodes", null, "required: at least one host:port"),
                new ConfigError("pools.other.nodes", "127.0.0.1:7001",
                        "expected: a list of host:port, e.g. [127.0.0.1:7001, 127.0.0.1:7002]"));
    }

    @Test
    void shouldRejectBadNodeAddresses() {
        assertThat(errorsOf("""
                pools:
                  main: {nodes: [127.0.0.1:7001, "127.0.0.1", "::1:7002", "127.0.0.1:99999", 7004]}
                """)).containsExactly(
                new ConfigError("pools.main.nodes[1]", "127.0.0.1", "expected: host:port, e.g. 127.0.0.1:6380"),
                new ConfigError("pools.main.nodes[2]", "::1:7002", "expected: an IPv6 address in brackets, e.g. [::1]:6380"),
                new ConfigError("pools.main.nodes[3]", "127.0.0.1:99999", "expected: host:port with a port 0..65535"),
                new ConfigError("pools.main.nodes[4]", "7004", "expected: host:port, e.g. 127.0.0.1:6380"));
    }

    @Test
    void shouldRejectDuplicateNodesAndPortZero() {
        assertThat(errorsOf("""
                pools:
                  main: {nodes: [127.0.0.1:7001, 127.0.0.1:0, 127.0.0.1:7001]}
                """)).containsExactly(
                new ConfigError("pools.main.nodes[1]", "127.0.0.1:0", "expected: a port 1..65535"),
                new ConfigError("pools.main.nodes[2]", "127.0.0.1:7001", "expected: each node once (nodes[0] is the same)"));
    }

    @Test
    void shouldRejectBadPoolName() {
        assertThat(errorsOf("""
                pools:
                  "my pool": {nodes: [127.0.0.1:7001]}
                """)).containsExactly(
                new ConfigError("pools.my pool", null, "expected: a pool name of letters, digits, - and _"));
    }

    @Test
    void shouldRejectUnknownPoolInRouteWithSuggestion() {
        assertThat(errorsOf(withPool("""
                routes:
                  - {prefix: "a:", pool: mian}
                  - {pool: main}
                """))).containsExactly(new ConfigError("routes[0].pool", "mian",
                "unknown pool; defined pools: main; did you mean `main`?"));
    }

    @Test
    void shouldRejectRouteAfterTheDefault() {
        assertThat(errorsOf(withPool("""
                routes:
                  - {pool: main}
                  - {prefix: "a:", pool: main}
                """))).containsExactly(new ConfigError("routes[1]", null,
                "unreachable: it comes after the default route routes[0] (the one without prefix), which takes every key"));
    }

    @Test
    void shouldRequireTheLastRouteToBeTheDefault() {
        assertThat(errorsOf(withPool("""
                routes:
                  - {prefix: "a:", pool: main}
                """))).containsExactly(new ConfigError("routes", null,
                "the last route must be the default, a route without prefix, e.g. - {pool: main}"));
    }

    @Test
    void shouldRejectRouteShadowedByAnEarlierPrefix() {
        assertThat(errorsOf(withPool("""
                routes:
                  - {prefix: "user:", pool: main}
                  - {prefix: "user:42:", pool: main}
                  - {pool: main}
                """))).containsExactly(new ConfigError("routes[1].prefix", "user:42:",
                "unreachable: routes[0] with prefix `user:` matches these keys first"));
    }

    @Test
    void shouldRejectEmptyPrefixAndMissingPoolInRoute() {
        assertThat(errorsOf(withPool("""
                routes:
                  - {prefix: "", pool: main}
                  - {prefix: "b:"}
                  - {pool: main}
                """))).containsExactly(
                new ConfigError("routes[0].prefix", "", "expected: a non-empty prefix, or no prefix for the default route"),
                new ConfigError("routes[1].pool", null, "required: the name of a pool"));
    }

    @Test
    void shouldRejectEmptyRoutes() {
        assertThat(errorsOf(withPool("routes: []"))).containsExactly(new ConfigError("routes", "[]",
                "expected: at least one route; leave routes out to send every key to the first pool"));
    }

    @Test
    void shouldReportNoPoolsForEmptyFile() {
        assertThat(errorsOf("")).containsExactly(new ConfigError("pools", null, "no pools defined"));
        assertThat(errorsOf("# only a comment\n")).containsExactly(new ConfigError("pools", null, "no pools defined"));
    }

    @Test
    void shouldReportNoPoolsWhenPoolsAreMissingOrEmpty() {
        assertThat(errorsOf("server: {max-clients: 5}")).containsExactly(new ConfigError("pools", null, "no pools defined"));
        assertThat(errorsOf("pools: {}")).containsExactly(new ConfigError("pools", null, "no pools defined"));
    }

    @Test
    void shouldRejectANonMappingDocument() {
        assertThat(errorsOf("- a\n- b\n")).containsExactly(new ConfigError("", "[\"a\",\"b\"]",
                "expected: a mapping of sections (server, admin, auth, pools, routes, l1, invalidation)"));
    }

    @Test
    void shouldGiveLineAndColumnForYamlSyntaxError() {
        List<ConfigError> errors = errorsOf("""
                pools:
                  main:
                    nodes: [127.0.0.1:7001
                l1: {}
                """);
        assertThat(errors).containsExactly(new ConfigError("", null, "YAML syntax error at line 4, column 3:"
                + " expected ',' or ']', but got : (while parsing a flow sequence that starts at line 3, column 12)"));
    }

    @Test
    void shouldPointAtTabIndentation() {
        assertThat(errorsOf("pools:\n\tmain: {nodes: [127.0.0.1:7001]}\n")).containsExactly(new ConfigError("", null,
                "YAML syntax error at line 2, column 1: found character '\\t(TAB)' that cannot start any token."
                        + " (Do not use \\t(TAB) for indentation) (while scanning for the next token)"));
    }

    @Test
    void shouldRejectAKeyGivenTwice() {
        List<ConfigError> errors = errorsOf("""
                pools:
                  main: {nodes: [127.0.0.1:7001]}
                l1: {max-ttl: 5s}
                l1: {max-ttl: 6s}
                """);
        assertThat(errors).containsExactly(new ConfigError("", null,
                "YAML syntax error at line 4, column 3: key `l1` given twice in one mapping"));
    }

    @Test
    void shouldRequireCertAndKeyWhenTlsIsEnabled() {
        assertThat(errorsOf(withPool("server: {tls: {enabled: true, client-ca: ca.pem}}"))).containsExactly(
                new ConfigError("server.tls.cert", null, "required when enabled is true"),
                new ConfigError("server.tls.key", null, "required when enabled is true"));
    }

    @Test
    void shouldRejectBadUsers() {
        assertThat(errorsOf(withPool("""
                auth:
                  users:
                    - {name: app, password: one}
                    - {name: app, password: two}
                    - {name: ops, password: "", commands: ["@all"], keys: []}
                """))).containsExactly(
                new ConfigError("auth.users[2].password", null, "required (a non-empty password)"),
                new ConfigError("auth.users[2].commands[0]", "@all",
                        "expected: + or - then a command or @category, e.g. +@all, -@dangerous, +get"),
                new ConfigError("auth.users[2].keys", "[]", "expected: at least one key pattern, e.g. \"*\""));
        assertThat(errorsOf(withPool("""
                auth:
                  users:
                    - {name: app, password: one}
                    - {name: app, password: two}
                """))).containsExactly(
                new ConfigError("auth.users[1].name", "app", "expected: a name not used before (users[0] has it)"));
    }

    @Test
    void shouldRejectAdminListenerOnTheRespPort() {
        assertThat(errorsOf(withPool("""
                server: {listen: 0.0.0.0:7000}
                admin: {listen: 127.0.0.1:7000}
                """))).containsExactly(new ConfigError("admin.listen", "127.0.0.1:7000",
                "expected: another address than server.listen 0.0.0.0:7000"));
    }

    @Test
    void shouldReadTheAdminToken() {
        assertThat(parse(withPool("admin: {token: s3cret}\n")).admin())
                .isEqualTo(new AdminConfig(HostAndPort.of("127.0.0.1", 9121), "s3cret"));
        String fromEnv = withPool("admin: {token: \"${CACHEPROXY_ADMIN_TOKEN:-}\"}\n");
        assertThat(ConfigLoader.parse(fromEnv, Map.of("CACHEPROXY_ADMIN_TOKEN", "from-env"), "test.yaml").admin().token())
                .isEqualTo("from-env");
        assertThat(ConfigLoader.parse(fromEnv, Map.of(), "test.yaml").admin().token()).isNull();
    }

    @Test
    void shouldRequireNoAdminTokenByDefault() {
        assertThat(parse(MINIMAL).admin().token()).isNull();
        assertThat(parse(withPool("admin: {token: \"\"}\n")).admin().token()).isNull();
        assertThat(parse(withPool("admin: {token: \"\"}\n")).admin()).isEqualTo(AdminConfig.defaults());
    }

    @Test
    void shouldKeepTheAdminTokenOutOfErrorsAndToString() {
        assertThat(errorsOf(withPool("admin: {token: [s3cret]}\n")))
                .containsExactly(new ConfigError("admin.token", "****", "expected: a string"));
        assertThat(parse(withPool("admin: {token: s3cret}\n")).toString()).doesNotContain("s3cret").contains("token=****");
    }

    @Test
    void shouldMaskPasswordsInErrors() {
        List<ConfigError> errors = errorsOf(withPool("auth: {users: [{name: app, password: [hunter2]}]}"));
        assertThat(errors).containsExactly(new ConfigError("auth.users[0].password", "****", "expected: a string"));
    }

    @Test
    void shouldReportEveryErrorTogether() {
        ConfigException e = (ConfigException) org.assertj.core.api.Assertions.catchThrowable(() -> ConfigLoader.parse("""
                server:
                  max-clients: -1
                  idle-timout: 5s
                pools:
                  main:
                    nodes: [127.0.0.1:7001, 127.0.0.1:7002]
                    replication: {factor: 3}
                    timeouts: {connect: fast}
                routes:
                  - {prefix: "s:", pool: sessions}
                  - {pool: main}
                l1:
                  max-memory: 0
                """, ENV, "conf/bad.yaml"));

        assertThat(e.errors()).containsExactly(
                new ConfigError("server.idle-timout", null, "unknown key; did you mean `idle-timeout`?"),
                new ConfigError("server.max-clients", "-1", "expected: >= 1"),
                new ConfigError("pools.main.timeouts.connect", "fast",
                        "expected: a whole number and a unit ms, s, m, h or d, e.g. 500ms or 10s"),
                new ConfigError("pools.main.replication.factor", "3", "expected: <= 2, the number of nodes"),
                new ConfigError("routes[0].pool", "sessions", "unknown pool; defined pools: main"),
                new ConfigError("l1.max-memory", "0", "expected: > 0, e.g. 256mb"));
        assertThat(e.source()).isEqualTo("conf/bad.yaml");
        assertThat(e).hasMessage("""
                invalid configuration in conf/bad.yaml (6 errors):
                  server.idle-timout: unknown key; did you mean `idle-timeout`?
                  server.max-clients: -1 (expected: >= 1)
                  pools.main.timeouts.connect: fast (expected: a whole number and a unit ms, s, m, h or d, e.g. 500ms or 10s)
                  pools.main.replication.factor: 3 (expected: <= 2, the number of nodes)
                  routes[0].pool: sessions (unknown pool; defined pools: main)
                  l1.max-memory: 0 (expected: > 0, e.g. 256mb)""");
    }

    // ---- files ----

    @Test
    void shouldLoadAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("cacheproxy.yaml");
        Files.writeString(file, MINIMAL);
        assertThat(ConfigLoader.load(file, Map.of())).isEqualTo(parse(MINIMAL));
    }

    @Test
    void shouldNameTheFileInErrors(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "pools: {}\n");
        assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("invalid configuration in " + file + " (1 error):\n  pools: no pools defined");
    }

    @Test
    void shouldReportAMissingFile(@TempDir Path dir) {
        Path file = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                        .containsExactly(new ConfigError("", null, "no such file")))
                .hasMessageContaining(file.toString());
    }
}
