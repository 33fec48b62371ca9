package io.cacheproxy.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UpstreamConnectionTest {
    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void shouldReadTheVersionFromARespThreeHelloReply() {
        ByteBuf reply = bytes("%3\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n");
        assertThat(UpstreamConnection.helloField(reply, "version")).isEqualTo("7.0.15");
        assertThat(reply.readerIndex()).as("the reply itself is not consumed").isZero();
        reply.release();
    }

    @Test
    void shouldReadTheVersionFromARespTwoHelloReply() {
        ByteBuf reply = bytes("*4\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n");
        assertThat(UpstreamConnection.helloField(reply, "version")).isEqualTo("7.2.4");
        assertThat(UpstreamConnection.helloField(reply, "mode")).isNull();
        reply.release();
    }
}
