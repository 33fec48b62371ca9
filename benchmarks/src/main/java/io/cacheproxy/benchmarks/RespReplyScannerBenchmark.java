package io.cacheproxy.benchmarks;

import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespReplyScanner;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
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

/**
 * Framing one upstream reply with {@link RespReplyScanner} (no objects built): a single bulk string of
 * {@code valueSize} bytes, an array of 100 such bulks (MGET / LRANGE), and a RESP3 map of 10 entries each
 * holding a map of 10 integer entries (nested HGETALL-like structures). One op is one complete scan.
 *
 * <p>Run: {@code ./mvnw -B -pl benchmarks -am package -DskipTests && java -jar benchmarks/target/benchmarks.jar
 * RespReplyScanner -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RespReplyScannerBenchmark {

    @Param({"16", "1024"})
    int valueSize;

    private final RespReplyScanner scanner = new RespReplyScanner(RespLimits.DEFAULTS);
    private ByteBuf bulk;
    private ByteBuf array100;
    private ByteBuf nestedMaps;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] value = new byte[valueSize];
        Arrays.fill(value, (byte) 'v');
        bulk = PooledByteBufAllocator.DEFAULT.directBuffer();
        RespWriter.writeBulk(bulk, value);
        array100 = PooledByteBufAllocator.DEFAULT.directBuffer();
        RespWriter.writeArrayHeader(array100, 100);
        for (int i = 0; i < 100; i++) {
            RespWriter.writeBulk(array100, value);
        }
        nestedMaps = PooledByteBufAllocator.DEFAULT.directBuffer();
        RespWriter.writeMapHeader(nestedMaps, RespVersion.RESP3, 10);
        for (int i = 0; i < 10; i++) {
            RespWriter.writeBulk(nestedMaps, "field:" + i);
            RespWriter.writeMapHeader(nestedMaps, RespVersion.RESP3, 10);
            for (int j = 0; j < 10; j++) {
                RespWriter.writeSimpleString(nestedMaps, "k" + j);
                RespWriter.writeInteger(nestedMaps, 1000L * i + j);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        bulk.release();
        array100.release();
        nestedMaps.release();
    }

    @Benchmark
    public int bulk() {
        return scanner.scan(bulk);
    }

    @Benchmark
    public int array100() {
        return scanner.scan(array100);
    }

    @Benchmark
    public int nestedMaps() {
        return scanner.scan(nestedMaps);
    }
}
