package io.cacheproxy.proxy.l1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CacheKeyTest {

    private static CacheKey key(String s) {
        return CacheKey.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldBeEqualOnlyForTheSameBytes() {
        assertThat(key("key:1")).isEqualTo(key("key:1")).hasSameHashCodeAs(key("key:1"));
        assertThat(key("key:1")).isNotEqualTo(key("key:2")).isNotEqualTo(key("key:10"));
        assertThat(key("")).isEqualTo(key("")).isNotEqualTo(key("\0"));
        assertThat(key("a")).as("a trailing zero byte is not padding").isNotEqualTo(key("a\0"));
        String sixteen = "0123456789abcdef";
        assertThat(key(sixteen)).isEqualTo(key(sixteen)).isNotEqualTo(key(sixteen + "x"));
        assertThat(key(sixteen + "tail-1")).isEqualTo(key(sixteen + "tail-1")).isNotEqualTo(key(sixteen + "tail-2"));
    }

    @Test
    void shouldHashInPlaceAsTheCopyDoes() {
        ByteBuf buf = Unpooled.copiedBuffer("xxuser:42yy", StandardCharsets.UTF_8);
        int hash = CacheKey.hashOf(buf, 2, 7);
        assertThat(hash).isEqualTo(key("user:42").hashCode());
        assertThat(CacheKey.of(buf, 2, 7, hash)).isEqualTo(key("user:42"));
        assertThat(CacheKey.of(buf, 2, 7)).isEqualTo(key("user:42"));
        buf.release();
    }
}
