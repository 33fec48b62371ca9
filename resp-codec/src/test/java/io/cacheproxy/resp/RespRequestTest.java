package io.cacheproxy.resp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(LeakCheckExtension.class)
class RespRequestTest {

    private static final byte[] GET = "GET".getBytes(StandardCharsets.US_ASCII);

    @Test
    void shouldBuildRequestInMultibulkFormWithArgOffsets() {
        RespRequest r = RespRequest.of(PooledByteBufAllocator.DEFAULT, "SET", "k\u00e9y", "");
        try {
            assertThat(r.content().toString(StandardCharsets.UTF_8))
                    .isEqualTo("*3\r\n$3\r\nSET\r\n$4\r\nk\u00e9y\r\n$0\r\n\r\n");
            assertThat(r.argCount()).isEqualTo(3);
            assertThat(r.argOffset(0)).isEqualTo(8);
            assertThat(r.argString(1)).isEqualTo("k\u00e9y");
            assertThat(r.argLength(2)).isZero();
            assertThat(r.argBytes(2)).isEmpty();
            assertThat(r.inline()).isFalse();
            assertThat(r.toString()).doesNotContain("SET");
        } finally {
            assertThat(r.release()).isTrue();
        }
        assertThat(r.content().refCnt()).isZero();
    }

    @Test
    void shouldCompareCommandNamesIgnoringAsciiCase() {
        RespRequest r = RespRequest.of(PooledByteBufAllocator.DEFAULT, "gEt", "GETX", "G\u00c9T", "{et");
        try {
            assertThat(r.argEqualsIgnoreCase(0, GET)).isTrue();
            assertThat(r.argEqualsIgnoreCase(1, GET)).isFalse();
            assertThat(r.argEqualsIgnoreCase(2, GET)).isFalse();
            assertThat(r.argEqualsIgnoreCase(3, "[ET".getBytes(StandardCharsets.US_ASCII)))
                    .as("only letters fold").isFalse();
        } finally {
            r.release();
        }
    }

    @Test
    void shouldParseIntegersLikeRedisString2ll() {
        RespRequest r = RespRequest.of(PooledByteBufAllocator.DEFAULT,
                "0", "-1", "123", "9223372036854775807", "-9223372036854775808");
        try {
            assertThat(r.argLong(0)).isZero();
            assertThat(r.argLong(1)).isEqualTo(-1);
            assertThat(r.argLong(2)).isEqualTo(123);
            assertThat(r.argLong(3)).isEqualTo(Long.MAX_VALUE);
            assertThat(r.argLong(4)).isEqualTo(Long.MIN_VALUE);
        } finally {
            r.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-", "+1", "01", "-0", " 1", "1 ", "1.0", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "123456789012345678901", "0x10"})
    void shouldRejectWhatRedisString2llRejects(String text) {
        RespRequest r = RespRequest.of(PooledByteBufAllocator.DEFAULT, "INCRBY", text);
        try {
            assertThatThrownBy(() -> r.argLong(1)).isInstanceOf(NumberFormatException.class);
        } finally {
            r.release();
        }
    }

    @Test
    void shouldCheckArgumentIndex() {
        RespRequest r = RespRequest.of(PooledByteBufAllocator.DEFAULT, "PING");
        try {
            assertThatThrownBy(() -> r.arg(1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> r.argOffset(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        } finally {
            r.release();
        }
    }

    @Test
    void shouldShareContentReferenceCountWithRetain() {
        RespRequest r = RespRequest.of(PooledByteBufAllocator.DEFAULT, "PING");
        assertThat(r.retain()).isSameAs(r);
        assertThat(r.release()).isFalse();
        assertThat(r.content().refCnt()).isEqualTo(1);
        assertThat(r.release()).isTrue();
    }

    @Test
    void shouldValidateLimitsWithNettyStyleMessages() {
        assertThatThrownBy(() -> RespLimits.DEFAULTS.withMaxArgs(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxArgs: 0 (expected: > 0)");
        assertThatThrownBy(() -> RespLimits.DEFAULTS.withMaxBulkLength(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBulkLength: -1 (expected: 0-2147483583)");
        assertThatThrownBy(() -> RespLimits.DEFAULTS.withMaxInlineLength(0))
                .hasMessage("maxInlineLength: 0 (expected: > 0)");
        assertThatThrownBy(() -> RespLimits.DEFAULTS.withMaxNestingDepth(0))
                .hasMessage("maxNestingDepth: 0 (expected: > 0)");
        assertThat(RespLimits.DEFAULTS).isEqualTo(new RespLimits(536870912L, 1048576, 65536, 128));
    }
}
