package io.cacheproxy.proxy.l1;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class InvalidationLinkTest {
    private static final byte[] ME = "6f1c2a8e-0000-4000-8000-000000000001".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OTHER = "6f1c2a8e-0000-4000-8000-000000000002".getBytes(StandardCharsets.US_ASCII);

    /** A message push as a RESP3 link receives it, carrying a broadcast from {@code sender}. */
    private static ByteBuf messagePush(byte[] sender, String... keys) {
        byte[][] message = new byte[keys.length + 2][];
        message[0] = sender;
        message[1] = "1700000000000000".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < keys.length; i++) {
            message[i + 2] = keys[i].getBytes(StandardCharsets.UTF_8);
        }
        ByteBuf payload = Unpooled.buffer();
        RespWriter.writeCommand(payload, message);
        byte[] bytes = new byte[payload.readableBytes()];
        payload.readBytes(bytes);
        ByteBuf push = Unpooled.buffer();
        RespWriter.writePushHeader(push, RespVersion.RESP3, 3);
        RespWriter.writeBulk(push, "message");
        RespWriter.writeBulk(push, "__cacheproxy:invalidate");
        RespWriter.writeBulk(push, bytes);
        return push;
    }

    private static boolean own(ByteBuf push) {
        try {
            return InvalidationLink.isOwnBroadcast(push, push.readerIndex(), push.writerIndex(), ME);
        } finally {
            push.release();
        }
    }

    @Test
    void shouldRecogniseOnlyThisProxysOwnBroadcasts() {
        assertThat(own(messagePush(ME, "a", "b"))).isTrue();
        assertThat(own(messagePush(ME))).as("a flush message").isTrue();
        assertThat(own(messagePush(OTHER, "a"))).isFalse();
        // another proxy's message whose first key is this proxy's id is still another's
        assertThat(own(messagePush(OTHER, new String(ME, StandardCharsets.US_ASCII)))).isFalse();
    }

    @Test
    void shouldNotMistakeOtherPushesOrRepliesForBroadcasts() {
        ByteBuf invalidate = Unpooled.buffer();
        RespWriter.writePushHeader(invalidate, RespVersion.RESP3, 2);
        RespWriter.writeBulk(invalidate, "invalidate");
        RespWriter.writeArrayHeader(invalidate, 1);
        RespWriter.writeBulk(invalidate, ME);
        assertThat(own(invalidate)).isFalse();
        assertThat(own(Unpooled.copiedBuffer("+PONG\r\n", StandardCharsets.US_ASCII))).isFalse();
        ByteBuf truncated = messagePush(ME, "a");
        truncated.writerIndex(40);
        assertThat(own(truncated)).isFalse();
    }
}
