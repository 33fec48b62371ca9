package io.cacheproxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Values from the Redis Cluster specification and CLUSTER KEYSLOT (ClusterIT checks more against a live cluster). */
class KeySlotTest {

    private static int slot(String key) {
        return KeySlot.slot(key.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldMatchTheSpecificationsCrc16() {
        assertThat(slot("123456789")).isEqualTo(0x31C3 & 16383);   // CRC16/XMODEM check value 0x31C3
        assertThat(slot("foo")).isEqualTo(12182);
        assertThat(slot("bar")).isEqualTo(5061);
        assertThat(slot("")).isEqualTo(0);
    }

    @Test
    void shouldHashOnlyTheFirstNonEmptyHashTag() {
        assertThat(slot("{user1000}.following")).isEqualTo(slot("{user1000}.followers")).isEqualTo(slot("user1000"));
        assertThat(slot("foo{}{bar}")).as("empty first tag: the whole key is hashed").isNotEqualTo(slot("bar"));
        assertThat(slot("foo{{bar}}zap")).isEqualTo(slot("{bar"));
        assertThat(slot("foo{bar}{zap}")).isEqualTo(slot("bar"));
    }
}
