package io.cacheproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.resp.RespRequest;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class BlockingTimeoutsTest {
    private static long timeout(String command, String... args) {
        RespRequest request = RespRequest.of(UnpooledByteBufAllocator.DEFAULT, args);
        try {
            return BlockingTimeouts.timeoutMillis(command, request);
        } finally {
            request.release();
        }
    }

    @Test
    void shouldReadTimeoutsInSecondsFromTheLastArgument() {
        assertThat(timeout("blpop", "BLPOP", "a", "b", "1.5")).isEqualTo(1500);
        assertThat(timeout("brpop", "BRPOP", "a", "0")).isZero();
        assertThat(timeout("blmove", "BLMOVE", "a", "b", "LEFT", "RIGHT", "2")).isEqualTo(2000);
    }

    @Test
    void shouldReadTimeoutsOfMultiPopAndWait() {
        assertThat(timeout("blmpop", "BLMPOP", "3", "1", "k", "LEFT")).isEqualTo(3000);
        assertThat(timeout("wait", "WAIT", "1", "250")).isEqualTo(250);
    }

    @Test
    void shouldReadTheBlockOptionOfXread() {
        assertThat(timeout("xread", "XREAD", "COUNT", "2", "BLOCK", "700", "STREAMS", "s", "$")).isEqualTo(700);
        assertThat(timeout("xread", "XREAD", "STREAMS", "block", "0")).isEqualTo(BlockingTimeouts.UNKNOWN);
    }

    @Test
    void shouldReportUnknownForMalformedTimeouts() {
        assertThat(timeout("blpop", "BLPOP", "a", "soon")).isEqualTo(BlockingTimeouts.UNKNOWN);
        assertThat(timeout("get", "GET", "a")).isEqualTo(BlockingTimeouts.UNKNOWN);
    }
}
