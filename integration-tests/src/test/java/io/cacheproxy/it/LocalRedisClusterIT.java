package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The cluster fixture the cluster-pool tests stand on: 3 masters, 3 replicas, every slot served. */
class LocalRedisClusterIT {

    @Test
    void shouldFormAHealthyClusterThatRedirectsKeysToTheirSlotOwner() {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(3, 1)) {
            assertThat(cluster.nodes()).hasSize(6);
            String info = cluster.nodes().get(0).call("CLUSTER", "INFO");
            assertThat(info).contains("cluster_state:ok", "cluster_slots_assigned:16384", "cluster_size:3");
            // "foo" hashes to slot 12182 (CRC16/XMODEM mod 16384): two of the three masters answer MOVED
            int moved = 0;
            for (LocalRedisServer node : cluster.nodes().subList(0, 3)) {
                try (RawRedisClient client = RawRedisClient.connect(node.host(), node.port())) {
                    String reply = client.callString("SET", "foo", "bar");
                    if (reply.startsWith("-MOVED 12182 127.0.0.1:")) {
                        moved++;
                    } else {
                        assertThat(reply).isEqualTo("+OK\r\n");
                    }
                }
            }
            assertThat(moved).isEqualTo(2);
        }
    }
}
