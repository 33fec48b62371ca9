package io.cacheproxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashRingTest {
    private static final List<String> THREE = List.of("127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003");

    @Test
    void shouldSpreadRandomKeysWithinTenPercentOfEven() {
        HashRing ring = new HashRing(THREE, 160);
        int[] counts = new int[3];
        Random random = new Random(42);
        int keys = 100_000;
        for (int i = 0; i < keys; i++) {
            counts[ring.nodeFor(("key:" + random.nextLong()).getBytes(StandardCharsets.UTF_8))]++;
        }
        double even = keys / 3.0;
        for (int count : counts) {
            assertThat(Math.abs(count - even) / even).as("share of a node: %s", count).isLessThan(0.10);
        }
    }

    @Test
    void shouldMoveAboutOneNthOfKeysWhenANodeIsAdded() {
        HashRing before = new HashRing(THREE, 160);
        HashRing after = new HashRing(List.of("127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003", "127.0.0.1:7004"), 160);
        int moved = 0;
        int keys = 100_000;
        for (int i = 0; i < keys; i++) {
            byte[] key = ("k" + i).getBytes(StandardCharsets.UTF_8);
            int a = before.nodeFor(key);
            int b = after.nodeFor(key);
            if (a != b) {
                moved++;
                assertThat(b).as("a moved key goes to the new node only").isEqualTo(3);
            }
        }
        assertThat(moved / (double) keys).isBetween(0.25 * 0.8, 0.25 * 1.2);
    }

    @Test
    void shouldMoveOnlyTheRemovedNodesKeysWhenANodeIsRemoved() {
        HashRing before = new HashRing(THREE, 160);
        HashRing after = new HashRing(List.of("127.0.0.1:7001", "127.0.0.1:7003"), 160);
        int moved = 0;
        for (int i = 0; i < 30_000; i++) {
            byte[] key = ("k" + i).getBytes(StandardCharsets.UTF_8);
            String ownerBefore = THREE.get(before.nodeFor(key));
            String ownerAfter = List.of("127.0.0.1:7001", "127.0.0.1:7003").get(after.nodeFor(key));
            if (!ownerBefore.equals(ownerAfter)) {
                moved++;
                assertThat(ownerBefore).isEqualTo("127.0.0.1:7002");
            }
        }
        assertThat(moved / 30_000.0).isBetween(0.33 * 0.8, 0.33 * 1.2);
    }

    @Test
    void shouldPlaceKeysTheSameWayInEveryInstance() {
        HashRing one = new HashRing(THREE, 160);
        HashRing two = new HashRing(List.copyOf(THREE), 160);
        for (int i = 0; i < 1_000; i++) {
            byte[] key = ("stable" + i).getBytes(StandardCharsets.UTF_8);
            assertThat(one.nodeFor(key)).isEqualTo(two.nodeFor(key));
        }
        // Pinned placements: a change here moves users' keys between nodes (an incompatible change).
        assertThat(one.nodeFor("foo".getBytes(StandardCharsets.UTF_8))).isEqualTo(one.nodeFor("{foo}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void shouldReturnDistinctReplicasOwnerFirst() {
        HashRing ring = new HashRing(THREE, 160);
        for (int i = 0; i < 1_000; i++) {
            int hash = KeyHash.hash(("r" + i).getBytes(StandardCharsets.UTF_8));
            int[] replicas = ring.nodesFor(hash, 2);
            assertThat(replicas).hasSize(2).doesNotHaveDuplicates();
            assertThat(replicas[0]).isEqualTo(ring.nodeForHash(hash));
        }
        assertThat(ring.nodesFor(123, 5)).hasSize(3);
    }

    @Test
    void shouldRejectAnEmptyNodeList() {
        assertThatThrownBy(() -> new HashRing(List.of(), 160)).hasMessageContaining("nodeNames");
        assertThatThrownBy(() -> new HashRing(THREE, 0)).hasMessageContaining("vnodes: 0");
    }
}
