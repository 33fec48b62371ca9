package io.cacheproxy.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.proxy.upstream.BackendNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyMetricsTest {

    @Test
    void shouldExposeCommandCountsAndLatencySummedOverLoops() {
        try (ProxyMetrics metrics = new ProxyMetrics(List.of("get", "set"))) {
            CommandStats loopA = metrics.newLoopStats();
            CommandStats loopB = metrics.newLoopStats();
            loopA.record(0, false, 40_000);          // get ok, 40 µs
            loopB.record(0, false, 3_000_000);       // get ok, 3 ms
            loopB.record(1, true, 200_000);          // set error, 200 µs
            loopA.record(metrics.unknownCommandId(), true, 1_000);
            String text = metrics.scrape();
            assertThat(text)
                    .contains("cacheproxy_commands_total{command=\"get\",result=\"ok\"} 2")
                    .contains("cacheproxy_commands_total{command=\"set\",result=\"error\"} 1")
                    .contains("cacheproxy_commands_total{command=\"unknown\",result=\"error\"} 1")
                    .doesNotContain("command=\"set\",result=\"ok\"")
                    .contains("cacheproxy_command_seconds_bucket{le=\"5.0E-5\"} 2")
                    .contains("cacheproxy_command_seconds_bucket{le=\"2.5E-4\"} 3")
                    .contains("cacheproxy_command_seconds_bucket{le=\"+Inf\"} 4")
                    .contains("cacheproxy_command_seconds_count 4")
                    .contains("cacheproxy_client_connections")
                    .contains("jvm_memory_used_bytes");
        }
    }

    @Test
    void shouldRegisterBackendMetersOnceWhateverTheNumberOfCalls() {
        try (ProxyMetrics metrics = new ProxyMetrics(List.of("get"))) {
            BackendNode node = new BackendNode("main", "127.0.0.1", 7001);
            metrics.registerBackend(node);
            metrics.registerBackend(node);
            metrics.registerBackend(new BackendNode("main", "127.0.0.1", 7001));   // the same address again
            metrics.registerBackend(new BackendNode("main", "127.0.0.1", 7002));
            String text = metrics.scrape();
            assertThat(text.lines().filter(l -> l.startsWith("cacheproxy_backend_up{")))
                    .containsExactlyInAnyOrder("cacheproxy_backend_up{node=\"127.0.0.1:7001\",pool=\"main\"} 1.0",
                            "cacheproxy_backend_up{node=\"127.0.0.1:7002\",pool=\"main\"} 1.0");
            assertThat(text.lines().filter(l -> l.startsWith("cacheproxy_backend_errors_total{"))).hasSize(2);
        }
    }
}
