package io.cacheproxy.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.cacheproxy.cli.bench.RunState.Phase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The connection on an {@link EmbeddedChannel}: what it sends, and what it counts of each reply. */
class BenchConnectionTest {

    private final RunState run = new RunState(1);
    private final LoopStats stats = new LoopStats();

    private EmbeddedChannel channel(double readRatio, int pipeline) {
        BenchConnection connection = new BenchConnection(run, stats, new KeyDistribution.Uniform(10),
                new RequestEncoder(3), readRatio, pipeline, new SplittableRandom(42));
        return new EmbeddedChannel(connection);
    }

    private static BenchConnection connection(EmbeddedChannel channel) {
        return channel.pipeline().get(BenchConnection.class);
    }

    /** All bytes written since the last call, as text; releases them. */
    private static String written(EmbeddedChannel channel) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf buf; (buf = channel.readOutbound()) != null; ) {
            sb.append(buf.toString(StandardCharsets.US_ASCII));
            buf.release();
        }
        return sb.toString();
    }

    private static int count(String text, String part) {
        return text.split(java.util.regex.Pattern.quote(part), -1).length - 1;
    }

    /** Feeds {@code text} as one read. */
    private static void reply(EmbeddedChannel channel, String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    /** A connection in the measured phase that has sent its first {@code pipeline} requests. */
    private EmbeddedChannel measuring(double readRatio, int pipeline) {
        run.startMeasuring();
        EmbeddedChannel channel = channel(readRatio, pipeline);
        connection(channel).startLoad(-1);
        return channel;
    }

    /** Feeds {@code text} one byte per read, the hardest split for the scanner. */
    private static void replyBytewise(EmbeddedChannel channel, String text) {
        for (byte b : text.getBytes(StandardCharsets.US_ASCII)) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
    }

    private void finish(EmbeddedChannel channel) {
        run.enter(Phase.DONE);
        written(channel);
        assertFalse(channel.finish());
    }

    @Test
    void shouldKeepThePipelineFullAndCountHitsMissesAndErrors() {
        EmbeddedChannel channel = measuring(1.0, 4);
        String first = written(channel);
        assertThat(count(first, "*2\r\n$3\r\nGET\r\n")).isEqualTo(4);
        assertThat(connection(channel).inFlight()).isEqualTo(4);

        replyBytewise(channel, "$3\r\nabc\r\n$-1\r\n-ERR oops\r\n");

        assertThat(stats.hits).isEqualTo(1);
        assertThat(stats.misses).isEqualTo(1);
        assertThat(stats.errors).isEqualTo(1);
        assertThat(stats.firstError).isEqualTo("ERR oops");
        assertThat(stats.readNanos.getTotalCount()).isEqualTo(3);
        assertThat(stats.writeNanos.getTotalCount()).isZero();
        assertThat(count(written(channel), "GET")).as("one new request per reply").isEqualTo(3);
        assertThat(connection(channel).inFlight()).isEqualTo(4);
        finish(channel);
    }

    @Test
    void shouldSendSetsWhenTheReadRatioIsZero() {
        EmbeddedChannel channel = measuring(0.0, 2);
        assertThat(count(written(channel), "*3\r\n$3\r\nSET\r\n")).isEqualTo(2);
        reply(channel, "+OK\r\n+OK\r\n");
        assertThat(stats.writeNanos.getTotalCount()).isEqualTo(2);
        assertThat(stats.readNanos.getTotalCount()).isZero();
        assertThat(stats.hits + stats.misses + stats.errors).isZero();
        finish(channel);
    }

    @Test
    void shouldNotRecordWarmupReplies() {
        run.enter(Phase.WARMUP);
        EmbeddedChannel channel = channel(1.0, 2);
        connection(channel).startLoad(-1);
        written(channel);
        run.startMeasuring();
        reply(channel, "$-1\r\n$-1\r\n");
        assertThat(stats.readNanos.getTotalCount()).as("sent during the warmup").isZero();
        assertThat(stats.replies).isEqualTo(2);

        reply(channel, "$-1\r\n");
        assertThat(stats.readNanos.getTotalCount()).as("sent during the measurement").isEqualTo(1);
        finish(channel);
    }

    @Test
    void shouldStopAtItsQuotaAndReportWhenAllRepliesAreIn() throws InterruptedException {
        run.startMeasuring();
        EmbeddedChannel channel = channel(1.0, 4);
        connection(channel).startLoad(3);
        assertThat(count(written(channel), "GET")).isEqualTo(3);
        reply(channel, "$-1\r\n$-1\r\n");
        assertThat(written(channel)).as("nothing beyond the quota").isEmpty();
        assertThat(run.awaitFinished(0, TimeUnit.MILLISECONDS)).isFalse();
        reply(channel, "$-1\r\n");
        assertThat(run.awaitFinished(0, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(run.lastFinishNanos()).isGreaterThanOrEqualTo(run.measureStartNanos());
        assertThat(stats.measuredReplies).isEqualTo(3);
        finish(channel);
    }

    @Test
    void shouldPrefillItsKeyRangeWithBoundedRequestsInFlight() throws InterruptedException {
        EmbeddedChannel channel = channel(1.0, 1);
        connection(channel).startPrefill(10, 110);
        String first = written(channel);
        assertThat(count(first, "SET")).isEqualTo(BenchConnection.PREFILL_DEPTH);
        assertThat(first).startsWith("*3\r\n$3\r\nSET\r\n$6\r\nkey:10\r\n$3\r\nabc\r\n");
        reply(channel, "+OK\r\n".repeat(BenchConnection.PREFILL_DEPTH));
        String rest = written(channel);
        assertThat(count(rest, "SET")).isEqualTo(100 - BenchConnection.PREFILL_DEPTH);
        assertThat(rest).endsWith("key:109\r\n$3\r\nabc\r\n");
        assertThat(run.awaitPrefilled(0, TimeUnit.MILLISECONDS)).isFalse();
        reply(channel, "+OK\r\n".repeat(35) + "-OOM no memory\r\n");
        assertThat(run.awaitPrefilled(0, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(stats.prefillErrors).isEqualTo(1);
        assertThat(stats.errors).as("the prefill is not measured").isZero();
        assertThat(stats.readNanos.getTotalCount() + stats.writeNanos.getTotalCount()).isZero();
        finish(channel);
    }

    @Test
    void shouldFailTheRunOnAReplyToNoRequest() {
        run.startMeasuring();
        EmbeddedChannel channel = channel(1.0, 1);
        reply(channel, "+OK\r\n");
        assertThat(run.failure()).isEqualTo("a reply to no request");
        assertThat(channel.isOpen()).isFalse();
        finish(channel);
    }

    @Test
    void shouldFailTheRunWhenTheServerClosesTheConnection() {
        EmbeddedChannel channel = measuring(1.0, 2);
        written(channel);
        reply(channel, "-ERR max number of clients reached\r\n");
        written(channel);
        channel.close();
        assertThat(run.failure()).isEqualTo("the server closed a connection with 2 requests unanswered"
                + " (first error reply: ERR max number of clients reached)");
        finish(channel);
    }

    @Test
    void shouldNotFailTheRunWhenClosedAfterItEnds() {
        EmbeddedChannel channel = measuring(1.0, 2);
        written(channel);
        run.enter(Phase.DONE);
        reply(channel, "$-1\r\n");
        assertThat(stats.readNanos.getTotalCount()).as("replies after the end are not recorded").isZero();
        assertThat(written(channel)).as("and not answered with new requests").isEmpty();
        channel.close();
        assertThat(run.failure()).isNull();
        finish(channel);
    }
}
