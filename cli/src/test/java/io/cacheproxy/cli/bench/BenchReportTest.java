package io.cacheproxy.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cacheproxy.config.HostAndPort;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The table and the JSON made from one known {@link Measurement}. */
class BenchReportTest {

    private static final BenchPlan PLAN = new BenchPlan(HostAndPort.of("127.0.0.1", 6380), 50, 1, 1, "auto",
            Duration.ofSeconds(2), 0, Duration.ofSeconds(1), 1000, BenchPlan.Distribution.ZIPF, 0.99, 0.75, 100,
            true);

    /** 300 GETs at 100 us, 100 SETs at 200 us, in 2 s; 200 hits. */
    private static BenchResult result() {
        Histogram reads = LoopStats.newHistogram();
        reads.recordValueWithCount(100_000, 300);
        Histogram writes = LoopStats.newHistogram();
        writes.recordValueWithCount(200_000, 100);
        Measurement m = new Measurement("nio", 2_000_000_000L, reads, writes, 1, 200, 100, "ERR boom", 1000,
                500_000_000L, 0);
        return BenchResult.of(PLAN, m, List.of(), List.of());
    }

    @Test
    void shouldDeriveRatesRatiosAndPercentiles() {
        BenchResult r = result();
        assertThat(r.requests()).isEqualTo(400);
        assertThat(r.opsPerSec()).isEqualTo(200.0);
        assertThat(r.reads()).isEqualTo(300);
        assertThat(r.writes()).isEqualTo(100);
        assertThat(r.hitRatio()).isEqualTo(0.6667);
        assertThat(r.latencyUs().read().p50()).isEqualTo(100.0);
        assertThat(r.latencyUs().write().max()).isEqualTo(200.1); // HdrHistogram's highest equivalent value
        assertThat(r.latencyUs().all().p50()).isEqualTo(100.0);
        assertThat(r.latencyUs().all().p90()).isEqualTo(200.1);
        assertThat(r.latencyUs().all().count()).isEqualTo(400);
        assertThat(r.prefill()).isEqualTo(new BenchResult.Prefill(1000, 0.5, 0));
    }

    @Test
    void jsonShouldBeOneObjectOnOneLine() throws Exception {
        String json = BenchReport.json(result());
        assertThat(json.lines()).hasSize(1);
        JsonNode node = new ObjectMapper().readTree(json);
        assertThat(node.path("requests").asLong()).isEqualTo(400);
        assertThat(node.path("opsPerSec").asDouble()).isEqualTo(200.0);
        assertThat(node.path("errors").asLong()).isEqualTo(1);
        assertThat(node.path("firstError").asText()).isEqualTo("ERR boom");
        assertThat(node.path("hitRatio").asDouble()).isEqualTo(0.6667);
        assertThat(node.path("latencyUs").path("read").path("p99").asDouble()).isEqualTo(100.0);
        assertThat(node.path("settings").path("distribution").asText()).isEqualTo("zipf");
        assertThat(node.path("settings").path("durationSeconds").asDouble()).isEqualTo(2.0);
        assertThat(node.path("settings").path("requestLimit").isNull()).isTrue();
        assertThat(node.path("cpu").isArray()).isTrue();
        assertThat(node.path("backendCommands").isArray()).isTrue();
    }

    @Test
    void tableShouldShowThroughputLatenciesAndHits() {
        StringWriter text = new StringWriter();
        BenchReport.table(result(), new PrintWriter(text));
        assertThat(text.toString())
                .contains("-> 127.0.0.1:6380  (nio, 1 thread)")
                .contains("50 clients x pipeline 1, zipf(0.99) over 1,000 keys, 75% GET, 100-byte values")
                .contains("prefill: 1,000 keys in 0.50s, 0 errors")
                .containsPattern("requests +400 in 2.00s +200 ops/s")
                .containsPattern("errors +1 +first: ERR boom")
                .contains("hits 200, misses 100, hit ratio 66.7%")
                .containsPattern("GET +300 +100.0 +100.0 +100.0 +100.0 +100.0 +100.0")
                .containsPattern("all +400 +125.0 +100.0 +200.1");
    }
}
