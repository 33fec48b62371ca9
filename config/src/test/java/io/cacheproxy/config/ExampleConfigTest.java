package io.cacheproxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The documented example in {@code conf/} loads, and {@code docs/configuration.md} lists every key. */
class ExampleConfigTest {

    private static final Path EXAMPLE = Path.of("..", "conf", "cacheproxy.yaml");

    @Test
    void shouldLoadTheDocumentedExample() {
        ProxyConfig c = ConfigLoader.load(EXAMPLE, Map.of());

        assertThat(c.pools().keySet()).containsExactly("main");
        PoolConfig main = c.pool("main");
        assertThat(main.type()).isEqualTo(PoolType.SHARDED);
        assertThat(main.nodes()).extracting(HostAndPort::toString)
                .containsExactly("127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003");
        assertThat(main.replication().factor()).isEqualTo(2);
        assertThat(c.server().listen()).hasToString("127.0.0.1:6380");
        assertThat(c.admin().listen()).hasToString("127.0.0.1:9121");
        assertThat(c.l1().enabled()).isTrue();
    }

    @Test
    void shouldShowEveryDefaultExceptTheChosenFactor() {
        ProxyConfig c = ConfigLoader.load(EXAMPLE, Map.of());
        PoolConfig main = c.pool("main");
        ProxyConfig defaults = ProxyConfig.of(java.util.List.of(
                PoolConfig.of("main", main.nodes()).withReplication(ReplicationConfig.ofFactor(2))));

        assertThat(c).isEqualTo(defaults);
    }

    @Test
    void shouldMentionEveryKeyOfTheEffectiveConfig() throws Exception {
        String example = Files.readString(EXAMPLE);
        String effective = ConfigPrinter.effectiveYaml(ConfigLoader.load(EXAMPLE, Map.of()));

        effective.lines()
                .map(String::strip)
                .filter(line -> line.matches("[a-z-]+:.*"))
                .map(line -> line.substring(0, line.indexOf(':')))
                .distinct()
                .forEach(key -> assertThat(example).as("key %s in conf/cacheproxy.yaml", key).contains(key + ":"));
    }

    @Test
    void shouldDocumentEveryKey() throws Exception {
        ProxyConfig everything = ConfigLoader.parse("""
                server: {tls: {enabled: true, cert: c.pem, key: k.pem, client-ca: ca.pem}}
                auth: {users: [{name: app, password: pw}]}
                pools:
                  main: {nodes: [127.0.0.1:7001], password: pw}
                  ha: {type: sentinel, nodes: [127.0.0.1:26379], master-name: mymaster}
                routes: [{prefix: "a:", pool: ha}, {pool: main}]
                """, Map.of(), "everything");
        JsonNode tree = new YAMLMapper().readTree(ConfigPrinter.effectiveYaml(everything));
        Set<String> keys = new TreeSet<>();
        collectKeys(tree, "", keys);
        String docs = Files.readString(Path.of("..", "docs", "configuration.md"));

        assertThat(keys).hasSizeGreaterThan(40).contains("routes", "routes[i].prefix", "pools.NAME.master-name");
        keys.forEach(key -> assertThat(docs).as("docs/configuration.md documents %s", key).contains("`" + key + "`"));
    }

    private static void collectKeys(JsonNode node, String path, Set<String> keys) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                String name = path.equals("pools") ? "NAME" : e.getKey();
                String child = path.isEmpty() ? name : path + "." + name;
                if (!e.getValue().isObject()) {
                    keys.add(child);
                }
                collectKeys(e.getValue(), child, keys);
            }
        } else if (node.isArray() && node.size() > 0 && node.get(0).isObject()) {
            for (JsonNode element : node) {
                collectKeys(element, path + "[i]", keys);
            }
        }
    }
}
