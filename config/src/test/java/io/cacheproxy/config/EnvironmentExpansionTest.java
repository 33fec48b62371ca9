package io.cacheproxy.config;

import static io.cacheproxy.config.ConfigLoaderTest.errorsOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvironmentExpansionTest {

    private static ProxyConfig parse(String yaml, Map<String, String> env) {
        return ConfigLoader.parse(yaml, env, "test.yaml");
    }

    @Test
    void shouldExpandVariablesInScalarValues() {
        ProxyConfig c = parse("""
                server: {listen: "${HOST}:${PORT}", max-clients: "${MAX}", idle-timeout: "${IDLE}"}
                pools:
                  main:
                    nodes: ["${REDIS_1}", 127.0.0.1:7002]
                    password: "${REDIS_PASSWORD}"
                    tls: ${REDIS_TLS}
                l1: {enabled: "${L1}", max-memory: "${L1_MEMORY}"}
                """, Map.of("HOST", "0.0.0.0", "PORT", "7379", "MAX", "50", "IDLE", "5m", "REDIS_1", "10.0.0.1:7001",
                "REDIS_PASSWORD", "s3cret", "REDIS_TLS", "TRUE", "L1", "false", "L1_MEMORY", "1gb"));

        assertThat(c.server().listen()).isEqualTo(HostAndPort.of("0.0.0.0", 7379));
        assertThat(c.server().maxClients()).isEqualTo(50);
        assertThat(c.server().idleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.pool("main").nodes()).containsExactly(HostAndPort.of("10.0.0.1", 7001), HostAndPort.of("127.0.0.1", 7002));
        assertThat(c.pool("main").password()).isEqualTo("s3cret");
        assertThat(c.pool("main").tls()).isTrue();
        assertThat(c.l1().enabled()).isFalse();
        assertThat(c.l1().maxMemory()).isEqualTo(1L << 30);
    }

    @Test
    void shouldUseTheDefaultWhenTheVariableIsUnsetOrEmpty() {
        String yaml = """
                pools:
                  main: {nodes: ["${NODE:-127.0.0.1:7001}"], password: "${REDIS_PASSWORD:-}"}
                invalidation: {broadcast: {channel: "${CHANNEL:-inv}"}}
                """;
        ProxyConfig unset = parse(yaml, Map.of());
        assertThat(unset.pool("main").nodes()).containsExactly(HostAndPort.of("127.0.0.1", 7001));
        assertThat(unset.pool("main").password()).as("empty password means none").isNull();
        assertThat(unset.invalidation().broadcast().channel()).isEqualTo("inv");

        ProxyConfig empty = parse(yaml, Map.of("CHANNEL", ""));
        assertThat(empty.invalidation().broadcast().channel()).isEqualTo("inv");

        ProxyConfig set = parse(yaml, Map.of("CHANNEL", "x", "REDIS_PASSWORD", "pw"));
        assertThat(set.invalidation().broadcast().channel()).isEqualTo("x");
        assertThat(set.pool("main").password()).isEqualTo("pw");
    }

    @Test
    void shouldKeepAnEscapedDollarBraceLiteral() {
        ProxyConfig c = parse("""
                pools:
                  main: {nodes: [127.0.0.1:7001], password: "a$${B}c$d"}
                """, Map.of("B", "no"));
        assertThat(c.pool("main").password()).isEqualTo("a${B}c$d");
    }

    @Test
    void shouldNameTheKeyAndTheVariableWhenItIsUnset() {
        assertThat(errorsOf("""
                auth:
                  users:
                    - {name: app, password: "${APP_PASSWORD}"}
                pools:
                  main: {nodes: ["${NODE_A}:${PORT_A}", "${NODE_B}:7002"]}
                """, Map.of("NODE_B", "10.0.0.2"))).containsExactly(
                new ConfigError("auth.users[0].password", "${APP_PASSWORD}",
                        "environment variable APP_PASSWORD is not set (write ${APP_PASSWORD:-default} for a default)"),
                new ConfigError("pools.main.nodes[0]", "${NODE_A}:${PORT_A}",
                        "environment variables NODE_A, PORT_A are not set (write ${NODE_A:-default} for a default)"));
    }

    @Test
    void shouldRejectMalformedReferences() {
        assertThat(errorsOf("""
                pools:
                  main: {nodes: [127.0.0.1:7001], password: "${A", master-name: "${not valid}"}
                """, Map.of())).containsExactly(
                new ConfigError("pools.main.password", "${A", "unterminated ${ (write $${ for a literal ${)"),
                new ConfigError("pools.main.master-name", "${not valid}", "expected: ${NAME} or ${NAME:-default},"
                        + " NAME of letters, digits and _ (write $${ for a literal ${)"));
    }

    @Test
    void shouldReportAVariableThatIsNotANumber() {
        assertThat(errorsOf("""
                server: {max-clients: "${MAX}"}
                pools:
                  main: {nodes: [127.0.0.1:7001]}
                """, Map.of("MAX", "lots"))).containsExactly(
                new ConfigError("server.max-clients", "lots", "expected: a whole number"));
    }

    @Test
    void shouldNotExpandKeysOrUnknownKeys() {
        assertThat(errorsOf("""
                pools:
                  main: {nodes: [127.0.0.1:7001]}
                l1: {"${X}": "${Y}"}
                """, Map.of())).containsExactly(
                new ConfigError("l1.${X}", null, "unknown key; expected one of: enabled, max-memory, max-ttl, hot-keys"));
    }
}
