package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The metrics reference ({@code docs/metrics.md}) and a running proxy agree: every
 * {@code cacheproxy_*} family a scrape of {@code /metrics} shows is documented, and every
 * {@code cacheproxy_*} or {@code resilience4j_*} name the reference documents is in the scrape. The
 * proxy runs a replicated sharded pool with L1 on, so the replication and L1 families are there.
 */
class MetricsReferenceIT {
    /** A sample line of the Prometheus text format: its metric name. */
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");
    /** The suffixes of a histogram's or timer's samples, documented under the family's name. */
    private static final Pattern SAMPLE_SUFFIX = Pattern.compile("_(?:bucket|count|sum|max)$");
    /** A documented metric name, anywhere in the reference's text. */
    private static final Pattern DOCUMENTED = Pattern.compile("\\b(?:cacheproxy|resilience4j)_[a-z0-9_]*[a-z0-9]");

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
    void shouldDocumentExactlyTheMetricFamiliesTheProxyExports() throws IOException {
        fixture.warmUp("metrics:");
        String scrape = scrape();
        System.out.println("[MetricsReferenceIT] scrape:\n" + scrape);
        Set<String> exported = families(scrape);
        Set<String> documented = documented(Files.readString(repoRoot().resolve("docs/metrics.md")));

        // guards against a scrape or a reference that lost its content, which would match trivially
        assertThat(exported).as("families in the scrape").contains(
                "cacheproxy_commands_total", "cacheproxy_command_seconds", "cacheproxy_client_connections",
                "cacheproxy_backend_up", "cacheproxy_node_trusted", "cacheproxy_l1_hits_total",
                "resilience4j_circuitbreaker_state");
        assertThat(documented).as("names in docs/metrics.md").hasSizeGreaterThanOrEqualTo(20);

        Set<String> undocumented = new TreeSet<>();
        for (String family : exported) {
            if (family.startsWith("cacheproxy_") && !documented.contains(family)) {
                undocumented.add(family);
            }
        }
        assertThat(undocumented).as("cacheproxy_* families /metrics exports that docs/metrics.md does not document")
                .isEmpty();

        Set<String> notExported = new TreeSet<>(documented);
        notExported.removeAll(exported);
        assertThat(notExported).as("names docs/metrics.md documents that /metrics does not export (exported: %s)",
                exported).isEmpty();
    }

    private static String scrape() {
        HttpResponse<String> response = proxy.admin("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /** The metric families of a scrape: sample names with a histogram's or timer's suffix removed. */
    static Set<String> families(String scrape) {
        Set<String> samples = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!line.startsWith("#") && m.find()) {
                samples.add(m.group(1));
            }
        }
        Set<String> names = new TreeSet<>();
        for (String sample : samples) {
            String family = SAMPLE_SUFFIX.matcher(sample).replaceFirst("");
            // a gauge named like system_cpu_count is a family of its own: _count goes with a _sum
            boolean summaryCount = !sample.endsWith("_count") || samples.contains(family + "_sum");
            names.add(summaryCount ? family : sample);
        }
        return names;
    }

    /** The {@code cacheproxy_*} and {@code resilience4j_*} names in the reference, as families. */
    static Set<String> documented(String markdown) {
        Set<String> names = new TreeSet<>();
        Matcher m = DOCUMENTED.matcher(markdown);
        while (m.find()) {
            names.add(SAMPLE_SUFFIX.matcher(m.group()).replaceFirst(""));
        }
        return names;
    }

    private static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.exists(dir.resolve("Dockerfile")) && Files.isDirectory(dir.resolve("docs")))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no repository root (Dockerfile and docs/) above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
