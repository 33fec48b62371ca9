package io.cacheproxy.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.config.ReadFrom;
import io.cacheproxy.config.WriteAck;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.routing.HashRing;
import io.cacheproxy.routing.KeyHash;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplicaSetTest {
    private final CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();
    private final List<BackendNode> nodes = List.of(node(7001), node(7002), node(7003));
    private final BackendPool pool = BackendPool.sharded("main", nodes, 160,
            new UpstreamSettings(Duration.ofSeconds(1), Duration.ofSeconds(1), null, RespLimits.DEFAULTS, 4, false),
            false, 2, WriteAck.ALL_AVAILABLE, ReadFrom.PRIMARY);

    private BackendNode node(int port) {
        BackendNode node = new BackendNode("main", "127.0.0.1", port);
        node.health(new NodeHealth(node, breakers, Duration.ofMillis(500), 1));
        return node;
    }

    @Test
    void shouldPlaceEachKeyOnTheFirstDistinctNodesFromItsRingPosition() {
        HashRing ring = new HashRing(nodes.stream().map(BackendNode::name).toList(), 160);
        Set<ReplicaSet> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            byte[] key = ("key:" + i).getBytes(StandardCharsets.UTF_8);
            ReplicaSet replicas = pool.replicasFor(key);
            int[] expected = ring.nodesFor(KeyHash.hash(key), 2);
            assertThat(replicas.size()).isEqualTo(2);
            assertThat(replicas.get(0)).isSameAs(nodes.get(expected[0]));
            assertThat(replicas.get(1)).isSameAs(nodes.get(expected[1]));
            seen.add(replicas);
        }
        assertThat(seen).as("one shared instance per ranking; 3 nodes give at most 6").hasSizeBetween(3, 6);
        assertThat(pool.replicaSets()).hasSameSizeAs(seen);
    }

    @Test
    void shouldServeFromTheFirstTrustedReplicaAndSkipUntrustedOnes() {
        ReplicaSet replicas = pool.replicasFor("some-key".getBytes(StandardCharsets.UTF_8));
        BackendNode owner = replicas.get(0);
        BackendNode second = replicas.get(1);
        assertThat(replicas.firstTrusted()).isSameAs(owner);
        owner.health().distrust("test");
        assertThat(replicas.firstTrusted()).isSameAs(second);
        assertThat(replicas.anyNeedsRepair()).isTrue();
        second.health().failed("down");      // failures-to-eject 1: ejected
        assertThat(replicas.firstTrusted()).isNull();
        assertThat(replicas.trustedInTurn(0, false)).isNull();
    }

    @Test
    void shouldSpreadReadsOverTrustedReplicas() {
        ReplicaSet replicas = pool.replicasFor("spread".getBytes(StandardCharsets.UTF_8));
        assertThat(replicas.trustedInTurn(0, false)).isSameAs(replicas.get(0));
        assertThat(replicas.trustedInTurn(1, false)).isSameAs(replicas.get(1));
        assertThat(replicas.trustedInTurn(0, true)).as("read-from replica").isSameAs(replicas.get(1));
        assertThat(replicas.trustedInTurn(1, true)).isSameAs(replicas.get(1));
        replicas.get(1).health().distrust("test");
        assertThat(replicas.trustedInTurn(1, true)).as("the owner when no other is trusted").isSameAs(replicas.get(0));
    }
}
