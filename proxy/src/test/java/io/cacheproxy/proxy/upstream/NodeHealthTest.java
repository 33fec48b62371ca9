package io.cacheproxy.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeHealthTest {
    private final BackendNode node = new BackendNode("main", "127.0.0.1", 7001);
    private final NodeHealth health = new NodeHealth(node, CircuitBreakerRegistry.ofDefaults(), Duration.ofMillis(50), 3);
    private final List<NodeHealth.Change> changes = new ArrayList<>();

    NodeHealthTest() {
        health.addListener(changes::add);
    }

    @Test
    void shouldEjectAfterTheConfiguredFailuresWithNoAnsweredProbeBetween() {
        health.failed("one");
        health.failed("two");
        health.probeAnswered(null);     // resets the count: the window holds one success now
        health.failed("three");
        health.failed("four");
        assertThat(health.isLive()).isTrue();
        health.failed("five");
        assertThat(health.isLive()).isFalse();
        assertThat(health.isTrusted()).isFalse();
        assertThat(health.state()).isEqualTo("ejected");
        assertThat(health.ejections()).isEqualTo(1);
        assertThat(changes).containsExactly(NodeHealth.Change.DISTRUSTED, NodeHealth.Change.EJECTED);
    }

    @Test
    void shouldLetOneProbeThroughAfterAnIntervalAndComeBackLiveButUntrusted() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            health.failed("down");
        }
        assertThat(health.probePermitted()).as("open: no probe before the interval").isFalse();
        Thread.sleep(80);
        assertThat(health.probePermitted()).as("half-open trial").isTrue();
        assertThat(health.probePermitted()).as("only one trial at a time").isFalse();
        health.probeAnswered(null);
        assertThat(health.isLive()).isTrue();
        assertThat(health.needsRepair()).isTrue();
        assertThat(health.state()).isEqualTo("repairing");
        assertThat(changes).endsWith(NodeHealth.Change.LIVE);
    }

    @Test
    void shouldFailTheHalfOpenTrialBackToEjected() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            health.failed("down");
        }
        Thread.sleep(80);
        assertThat(health.probePermitted()).isTrue();
        health.probeFailed("still down");
        assertThat(health.isLive()).isFalse();
        assertThat(health.ejections()).as("one ejection from closed").isEqualTo(1);
    }

    @Test
    void shouldTrustAgainOnlyWhenNothingWentWrongSinceTheRepairBegan() {
        health.distrust("a write failed");
        int epoch = health.distrustEpoch();
        health.distrust("again");       // already untrusted: same epoch
        assertThat(health.distrustEpoch()).isEqualTo(epoch);
        assertThat(health.trust(epoch)).isTrue();
        assertThat(health.isTrusted()).isTrue();

        health.distrust("connection lost");
        int started = health.distrustEpoch();
        health.trust(started);
        health.distrust("lost again");
        assertThat(health.trust(started)).as("a repair that began before the last loss").isFalse();
        assertThat(health.isTrusted()).isFalse();
        assertThat(changes).containsExactly(NodeHealth.Change.DISTRUSTED, NodeHealth.Change.TRUSTED,
                NodeHealth.Change.DISTRUSTED, NodeHealth.Change.TRUSTED, NodeHealth.Change.DISTRUSTED);
    }

    @Test
    void shouldDistrustANodeWhoseRunIdChangedButNotOneThatLostAConnection() {
        health.probeAnswered("aaa");
        health.probeAnswered("aaa");
        health.failed("connection lost");       // what BackendNode.lost records: no loss of trust
        assertThat(health.isTrusted()).isTrue();
        health.probeAnswered("bbb");            // restarted: may have come back empty
        assertThat(health.isTrusted()).isFalse();
        assertThat(changes).containsExactly(NodeHealth.Change.DISTRUSTED);
    }

    @Test
    void shouldReadTheRunIdOfAnInfoServerReply() {
        io.netty.buffer.ByteBuf reply = io.netty.buffer.Unpooled.copiedBuffer(
                "$60\r\n# Server\r\nredis_version:7.0.15\r\nrun_id:5f2c0e9a\r\ntcp_port:6379\r\n\r\n",
                java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(HealthChecker.runId(reply)).isEqualTo("5f2c0e9a");
        reply.release();
    }

    @Test
    void shouldNotTrustANodeThatIsNotLive() {
        for (int i = 0; i < 3; i++) {
            health.failed("down");
        }
        assertThat(health.trust(health.distrustEpoch())).isFalse();
    }
}
