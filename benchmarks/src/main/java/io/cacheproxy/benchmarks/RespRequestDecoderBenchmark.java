package io.cacheproxy.benchmarks;

import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespRequestDecoder;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decoding pipelined client requests: one op is one socket read holding {@code depth} requests
 * (alternating {@code GET key} and {@code SET key <valueSize bytes>}), passed through the real
 * {@link RespRequestDecoder} in an {@link EmbeddedChannel}; each decoded request is consumed and released
 * by a null handler. Divide ns/op and B/op by {@code depth} for the per-request cost.
 *
 * <p>Run: {@code ./mvnw -B -pl benchmarks -am package -DskipTests && java -jar benchmarks/target/benchmarks.jar
 * RespRequestDecoder -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RespRequestDecoderBenchmark {

    @Param({"16", "1024"})
    int valueSize;

    @Param({"1", "16"})
    int depth;

    private EmbeddedChannel channel;
    private ByteBuf input;
    private Blackhole blackhole;

    @Setup(Level.Trial)
    public void setUp(Blackhole bh) {
        this.blackhole = bh;
        byte[] value = new byte[valueSize];
        Arrays.fill(value, (byte) 'v');
        input = PooledByteBufAllocator.DEFAULT.directBuffer();
        for (int i = 0; i < depth; i++) {
            byte[] key = ("key:" + (100000 + i)).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            if (i % 2 == 0) {
                RespWriter.writeCommand(input, "GET".getBytes(java.nio.charset.StandardCharsets.US_ASCII), key);
            } else {
                RespWriter.writeCommand(input, "SET".getBytes(java.nio.charset.StandardCharsets.US_ASCII), key, value);
            }
        }
        channel = new EmbeddedChannel(new RespRequestDecoder(RespLimits.DEFAULTS), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                RespRequest r = (RespRequest) msg;
                blackhole.consume(r.argLength(r.argCount() - 1));
                r.release();
            }
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        input.release();
    }

    @Benchmark
    public void decode() {
        // A retained duplicate stands in for a fresh socket read of the same bytes.
        channel.writeInbound(input.retainedDuplicate());
    }
}
