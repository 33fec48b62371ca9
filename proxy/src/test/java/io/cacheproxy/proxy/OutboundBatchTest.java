package io.cacheproxy.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutboundBatchTest {

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    private static List<String> written(EmbeddedChannel channel) {
        List<String> out = new ArrayList<>();
        for (Object m; (m = channel.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) m;
            out.add(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return out;
    }

    @Test
    void shouldCoalesceSmallMessagesIntoOneWritePerFlush() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(channel);
        ByteBuf a = text("+OK\r\n");
        ByteBuf b = text(":1\r\n");
        batch.write(a);
        batch.write(b);
        assertThat(a.refCnt()).as("copied messages are released at once").isZero();
        assertThat(b.refCnt()).isZero();
        assertThat(written(channel)).as("nothing leaves before flush").isEmpty();
        batch.flush();
        assertThat(written(channel)).containsExactly("+OK\r\n:1\r\n");
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void shouldWriteALoneMessageWithoutCopyingIt() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(channel);
        ByteBuf only = text("+PONG\r\n");
        batch.write(only);
        batch.flush();
        Object written = channel.readOutbound();
        assertThat(written).isSameAs(only);
        only.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void shouldWriteLargeMessagesAsTheyAreAfterWhatWasBatchedBefore() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(channel);
        String large = "$" + "x".repeat(OutboundBatch.COPY_LIMIT + 1);
        ByteBuf big = text(large);
        batch.write(text("+first\r\n"));
        batch.write(big);
        batch.write(text("+last\r\n"));
        batch.flush();
        assertThat(written(channel)).containsExactly("+first\r\n", large, "+last\r\n");
        assertThat(big.refCnt()).isZero();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void shouldStartANewBufferWhenABatchIsFull() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(channel);
        String chunk = "y".repeat(1000);
        for (int i = 0; i < 100; i++) {
            batch.write(text(chunk));
        }
        batch.flush();
        List<String> writes = written(channel);
        assertThat(writes).hasSizeGreaterThan(1);
        assertThat(String.join("", writes)).isEqualTo(chunk.repeat(100));
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void shouldReleaseWhatIsBatchedWhenDiscarded() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(channel);
        batch.write(text("+OK\r\n"));
        assertThat(batch.pendingBytes()).isEqualTo(5);
        batch.discard();
        assertThat(batch.pendingBytes()).isZero();
        batch.flush();
        assertThat(written(channel)).isEmpty();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void shouldCopyWithoutTakingTheSourceAndKeepOrderWithWrittenMessages() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(channel);
        ByteBuf source = text("xx+OK\r\n:7\r\nyy");
        batch.write(text("+first\r\n"));
        batch.writeCopy(source, 2, 5);
        batch.writeCopy(source, 7, 4);
        assertThat(source.refCnt()).as("the source stays the caller's").isEqualTo(1);
        batch.flush();
        assertThat(written(channel)).containsExactly("+first\r\n+OK\r\n:7\r\n");
        source.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void shouldWriteALargeCopyAsARetainedSliceAfterWhatWasBatchedBefore() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(channel);
        String large = "$" + "z".repeat(OutboundBatch.COPY_LIMIT + 1);
        ByteBuf source = text(large);
        ByteBuf small = text("+a\r\n");
        batch.writeCopy(small, 0, 4);
        small.release();
        batch.writeCopy(source, 0, large.length());
        assertThat(source.refCnt()).as("retained by the queued slice").isEqualTo(2);
        batch.flush();
        assertThat(written(channel)).containsExactly("+a\r\n", large);
        assertThat(source.refCnt()).isEqualTo(1);
        source.release();
        assertThat(channel.finish()).isFalse();
    }
}
