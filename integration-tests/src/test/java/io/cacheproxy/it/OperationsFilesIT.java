package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.cacheproxy.config.ConfigLoader;
import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.config.PoolConfig;
import io.cacheproxy.config.PoolType;
import io.cacheproxy.config.ProxyConfig;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operations files stay true to the product: the Grafana dashboard
 * ({@code conf/grafana/cacheproxy-dashboard.json}) only queries metrics a running proxy exports,
 * the Kubernetes sidecar example ({@code conf/k8s/sidecar.yaml}) parses and its embedded config
 * passes the real loader with probes on that config's admin port, and the {@code Dockerfile} has
 * the health check, user, ports and {@code JAVA_OPTS} the image promises.
 */
class OperationsFilesIT {
    /** Metric names in PromQL: every family the proxy exports starts with one of these. */
    private static final Pattern METRIC = Pattern.compile("\\b(?:cacheproxy|resilience4j|jvm|process|system)_\\w+");
    /** A sample line of the Prometheus text format: its metric name. */
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

    private static final Path ROOT = repoRoot();
    private static ReplicatedPoolFixture fixture;
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        fixture = new ReplicatedPoolFixture();
        proxy = fixture.proxy();
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void shouldQueryOnlyMetricsTheProxyExportsInTheDashboard() throws IOException {
        fixture.warmUp("ops:");
        // jvm_gc_pause_seconds is registered at the first GC after the proxy bound its GC metrics.
        Set<String> exported = await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(300))
                .until(() -> {
                    System.gc();
                    return scrapedNames();
                }, names -> names.contains("jvm_gc_pause_seconds_count"));

        JsonNode dashboard = new ObjectMapper().readTree(ROOT.resolve("conf/grafana/cacheproxy-dashboard.json").toFile());
        assertThat(dashboard.path("schemaVersion").asInt()).as("schemaVersion").isBetween(36, 41);
        assertThat(dashboard.path("templating").path("list").findValuesAsText("type")).as("variables").contains("datasource");
        List<String> queries = new ArrayList<>();
        collectQueries(dashboard, queries);
        Set<String> used = new TreeSet<>();
        for (String query : queries) {
            Matcher m = METRIC.matcher(query);
            while (m.find()) {
                used.add(m.group());
            }
        }
        System.out.println("[OperationsFilesIT] dashboard metrics: " + used);

        assertThat(used).as("the metrics SPEC §3 names, on the dashboard").contains(
                "cacheproxy_commands_total", "cacheproxy_command_seconds_bucket", "cacheproxy_client_connections",
                "cacheproxy_backend_up", "cacheproxy_backend_errors_total", "cacheproxy_l1_hits_total",
                "cacheproxy_l1_misses_total", "cacheproxy_l1_evictions_total", "cacheproxy_l1_bytes",
                "cacheproxy_l1_invalidations_total", "resilience4j_circuitbreaker_state", "jvm_memory_used_bytes");
        Set<String> missing = new TreeSet<>();
        for (String name : used) {
            // Exact sample names (a histogram's _bucket/_count/_sum are samples of their own), so a
            // _bucket of a summary, or a renamed family, is caught too.
            if (!exported.contains(name)) {
                missing.add(name);
            }
        }
        assertThat(missing).as("metrics the dashboard queries that /metrics does not export (exported: %s)", exported)
                .isEmpty();
    }

    @Test
    void shouldRunTheEmbeddedConfigWithProbesOnItsAdminPortInTheK8sSidecar() throws IOException {
        List<JsonNode> docs = new YAMLMapper().readerFor(JsonNode.class)
                .<JsonNode>readValues(Files.readString(ROOT.resolve("conf/k8s/sidecar.yaml"))).readAll();
        JsonNode configMap = kind(docs, "ConfigMap");
        JsonNode deployment = kind(docs, "Deployment");

        JsonNode pod = deployment.path("spec").path("template").path("spec");
        JsonNode proxyContainer = null;
        JsonNode appContainer = null;
        for (JsonNode c : pod.path("containers")) {
            if (c.path("image").asText().startsWith("cacheproxy")) {
                proxyContainer = c;
            } else {
                appContainer = c;
            }
        }
        assertThat(proxyContainer).as("a container with image cacheproxy:*").isNotNull();
        assertThat(appContainer).as("an app container next to it").isNotNull();

        // The config file the proxy is told to read is the ConfigMap's key, mounted from that ConfigMap.
        List<String> args = new ArrayList<>();
        proxyContainer.path("args").forEach(a -> args.add(a.asText()));
        int config = args.indexOf("--config");
        assertThat(config).as("--config in %s", args).isGreaterThanOrEqualTo(0).isLessThan(args.size() - 1);
        Path configFile = Path.of(args.get(config + 1));
        String volume = null;
        for (JsonNode mount : proxyContainer.path("volumeMounts")) {
            if (Path.of(mount.path("mountPath").asText()).equals(configFile.getParent())) {
                volume = mount.path("name").asText();
            }
        }
        assertThat(volume).as("a volume mounted at %s", configFile.getParent()).isNotNull();
        String configMapName = null;
        for (JsonNode v : pod.path("volumes")) {
            if (v.path("name").asText().equals(volume)) {
                configMapName = v.path("configMap").path("name").asText(null);
            }
        }
        assertThat(configMapName).as("volume %s", volume).isEqualTo(configMap.path("metadata").path("name").asText());
        String yaml = configMap.path("data").path(configFile.getFileName().toString()).asText(null);
        assertThat(yaml).as("ConfigMap key %s", configFile.getFileName()).isNotNull();

        ProxyConfig parsed = ConfigLoader.parse(yaml, Map.of(), "k8s");
        PoolConfig pool = parsed.pools().values().iterator().next();
        assertThat(pool.type()).isEqualTo(PoolType.SHARDED);
        assertThat(pool.nodes()).hasSize(3);
        assertThat(pool.replication().factor()).isEqualTo(2);
        assertThat(parsed.l1().enabled()).as("l1.enabled").isTrue();
        HostAndPort admin = parsed.admin().listen();
        assertThat(admin.host()).as("admin.listen host: the kubelet probes the pod IP").isEqualTo("0.0.0.0");

        // Probes on the admin port the embedded config listens on.
        assertThat(proxyContainer.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/health");
        assertThat(proxyContainer.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/ready");
        assertThat(probePort(proxyContainer, "livenessProbe")).as("liveness port").isEqualTo(admin.port());
        assertThat(probePort(proxyContainer, "readinessProbe")).as("readiness port").isEqualTo(admin.port());

        // The app talks to the proxy on loopback at the configured port.
        assertThat(parsed.server().listen().port()).isEqualTo(6380);
        String appEnv = appContainer.path("env").toString();
        assertThat(appEnv).contains("127.0.0.1").contains("\"" + parsed.server().listen().port() + "\"");

        assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).as("runAsNonRoot").isTrue();
        assertThat(proxyContainer.path("resources").path("requests").path("memory").isMissingNode()).as("requests").isFalse();
        assertThat(proxyContainer.path("resources").path("limits").path("memory").isMissingNode()).as("limits").isFalse();
    }

    @Test
    void shouldHealthCheckReadyAsNonRootWithJavaOptsInTheDockerfile() throws IOException {
        // Instructions, with continuation lines joined.
        List<String> lines = Files.readAllLines(ROOT.resolve("Dockerfile"));
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : lines) {
            if (current.isEmpty() && (line.isBlank() || line.strip().startsWith("#"))) {
                continue;
            }
            current.append(line.endsWith("\\") ? line.substring(0, line.length() - 1) : line).append(' ');
            if (!line.endsWith("\\")) {
                instructions.add(current.toString().strip());
                current.setLength(0);
            }
        }
        // The runtime stage: everything after the last FROM.
        int lastFrom = 0;
        for (int i = 0; i < instructions.size(); i++) {
            if (instructions.get(i).toUpperCase().startsWith("FROM ")) {
                lastFrom = i;
            }
        }
        List<String> runtime = instructions.subList(lastFrom, instructions.size());

        List<String> healthchecks = starting(runtime, "HEALTHCHECK");
        assertThat(healthchecks).as("HEALTHCHECK in the runtime stage").hasSize(1);
        assertThat(healthchecks.getFirst()).contains("/ready").doesNotContain("/health ");

        List<String> users = starting(runtime, "USER");
        assertThat(users).as("USER in the runtime stage").isNotEmpty();
        String user = users.getLast().substring("USER".length()).strip().split(":")[0];
        assertThat(user).as("the user the image runs as").isNotIn("root", "0", "");

        Set<String> exposed = starting(runtime, "EXPOSE").stream()
                .flatMap(e -> List.of(e.substring("EXPOSE".length()).strip().split("\\s+")).stream())
                .map(p -> p.replace("/tcp", ""))
                .collect(Collectors.toSet());
        assertThat(exposed).as("EXPOSE").contains("6380", "9121");

        List<String> entrypoints = starting(runtime, "ENTRYPOINT");
        assertThat(entrypoints).as("ENTRYPOINT").isNotEmpty();
        // $JAVA_OPTS only expands through a shell: exec-form java with a literal $JAVA_OPTS would not.
        assertThat(entrypoints.getLast()).contains("$JAVA_OPTS").containsPattern("sh\"?\\s*,?\\s*\"?-c");
    }

    /** The names of the samples in a scrape of {@code /metrics}. */
    private static Set<String> scrapedNames() {
        HttpResponse<String> response = proxy.admin("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        Set<String> names = new TreeSet<>();
        for (String line : response.body().split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!line.startsWith("#") && m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /** The PromQL of every target ({@code expr}) and variable ({@code query}, {@code definition}). */
    private static void collectQueries(JsonNode node, List<String> out) {
        if (node.isObject()) {
            node.properties().forEach(e -> {
                if (Set.of("expr", "query", "definition").contains(e.getKey()) && e.getValue().isTextual()) {
                    out.add(e.getValue().asText());
                }
                collectQueries(e.getValue(), out);
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectQueries(n, out));
        }
    }

    private static JsonNode kind(List<JsonNode> docs, String kind) {
        List<JsonNode> found = docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
        assertThat(found).as("one %s in conf/k8s/sidecar.yaml", kind).hasSize(1);
        return found.getFirst();
    }

    /** A probe's httpGet port: a number, or the name of one of the container's ports. */
    private static int probePort(JsonNode container, String probe) {
        JsonNode port = container.path(probe).path("httpGet").path("port");
        if (port.isInt()) {
            return port.asInt();
        }
        for (JsonNode p : container.path("ports")) {
            if (p.path("name").asText().equals(port.asText())) {
                return p.path("containerPort").asInt();
            }
        }
        return -1;
    }

    private static List<String> starting(List<String> instructions, String keyword) {
        return instructions.stream().filter(i -> i.toUpperCase().startsWith(keyword + " ")).toList();
    }

    private static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.exists(dir.resolve("Dockerfile")) && Files.isDirectory(dir.resolve("conf")))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no repository root (Dockerfile and conf/) above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
