package io.cacheproxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeyHashTest {

    private static int murmur(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return KeyHash.murmur3(Unpooled.wrappedBuffer(b), 0, b.length);
    }

    @Test
    void shouldMatchPublishedMurmur3Vectors() {
        // MurmurHash3_x86_32, seed 0 (same values as Guava's Hashing.murmur3_32_fixed())
        assertThat(murmur("")).isEqualTo(0);
        assertThat(murmur("hello")).isEqualTo(0x248bfa47);
        assertThat(murmur("The quick brown fox jumps over the lazy dog")).isEqualTo(0x2e4ff723);
    }

    @Test
    void shouldHashOnlyTheHashTagWhenPresent() {
        assertThat(KeyHash.hash(bytes("{user1000}.following"))).isEqualTo(KeyHash.hash(bytes("user1000")));
        assertThat(KeyHash.hash(bytes("{user1000}.followers"))).isEqualTo(KeyHash.hash(bytes("{user1000}.following")));
    }

    @Test
    void shouldFollowRedisClusterRulesForOddHashTags() {
        // empty tag: the whole key is hashed
        assertThat(KeyHash.hash(bytes("foo{}{bar}"))).isEqualTo(murmur("foo{}{bar}"));
        // first { and first } after it
        assertThat(KeyHash.hash(bytes("foo{{bar}}zap"))).isEqualTo(murmur("{bar"));
        assertThat(KeyHash.hash(bytes("foo{bar}{zap}"))).isEqualTo(murmur("bar"));
        // no closing brace
        assertThat(KeyHash.hash(bytes("foo{bar"))).isEqualTo(murmur("foo{bar"));
    }

    @Test
    void shouldHashASliceOfALargerBufferLikeTheKeyAlone() {
        byte[] whole = bytes("xx{tag}-key-yy");
        assertThat(KeyHash.hash(Unpooled.wrappedBuffer(whole), 2, 10)).isEqualTo(KeyHash.hash(bytes("{tag}-key-")));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
