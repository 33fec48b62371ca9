package io.cacheproxy.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.config.HostAndPort;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parts of a sentinel pool that need no sentinel; SentinelIT runs the real thing. */
class SentinelWatcherTest {

    @Test
    void shouldMoveTheNodeOnASwitchMasterMessageForItsMaster() {
        BackendNode node = new BackendNode("main", "127.0.0.1", 7001);
        try (SentinelWatcher watcher = SentinelWatcher.create("main", "mymaster",
                List.of(new HostAndPort("127.0.0.1", 1)), Duration.ofMillis(100))) {
            watcher.follow(node);   // no sentinel answers: following still starts (the poll retries)
            int epoch = node.addressEpoch();

            watcher.onSwitchMaster("othermaster 127.0.0.1 7001 127.0.0.1 7009");
            assertThat(node.name()).as("another master's switch").isEqualTo("127.0.0.1:7001");

            watcher.onSwitchMaster("mymaster 127.0.0.1 7001 127.0.0.1 7002");
            assertThat(node.name()).isEqualTo("127.0.0.1:7002");
            assertThat(node.addressEpoch()).isEqualTo(epoch + 1);
            assertThat(node.unavailableError()).endsWith("pool main, node 127.0.0.1:7002");

            watcher.onSwitchMaster("mymaster 127.0.0.1 7001 127.0.0.1 notaport");
            watcher.onSwitchMaster("mymaster too few");
            assertThat(node.name()).as("malformed messages change nothing").isEqualTo("127.0.0.1:7002");
        }
    }

    @Test
    void shouldNotBumpTheEpochWhenTheAddressIsUnchanged() {
        BackendNode node = new BackendNode("main", "127.0.0.1", 7001);
        assertThat(node.moveTo("127.0.0.1", 7001)).isFalse();
        assertThat(node.addressEpoch()).isZero();
        assertThat(node.moveTo("127.0.0.2", 7001)).isTrue();
        assertThat(node.current()).isEqualTo(new BackendNode.Address("127.0.0.2", 7001, "127.0.0.2:7001", 1));
    }
}
