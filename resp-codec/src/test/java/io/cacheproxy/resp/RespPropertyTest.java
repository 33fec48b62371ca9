package io.cacheproxy.resp;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.resp.RespValue.ArrayValue;
import io.cacheproxy.resp.RespValue.AttributeValue;
import io.cacheproxy.resp.RespValue.BigNumber;
import io.cacheproxy.resp.RespValue.BlobError;
import io.cacheproxy.resp.RespValue.BooleanValue;
import io.cacheproxy.resp.RespValue.BulkString;
import io.cacheproxy.resp.RespValue.DoubleValue;
import io.cacheproxy.resp.RespValue.ErrorValue;
import io.cacheproxy.resp.RespValue.IntegerValue;
import io.cacheproxy.resp.RespValue.MapValue;
import io.cacheproxy.resp.RespValue.NullValue;
import io.cacheproxy.resp.RespValue.PushValue;
import io.cacheproxy.resp.RespValue.SetValue;
import io.cacheproxy.resp.RespValue.SimpleString;
import io.cacheproxy.resp.RespValue.Verbatim;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded randomized properties. Each run uses seeds 1..16 plus one fresh seed; the seed is in the test
 * name and every assertion message, so a failure is reproduced by adding it to {@link #seeds()}.
 */
@ExtendWith(LeakCheckExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RespPropertyTest {

    private static final RespLimits LIMITS = RespLimits.DEFAULTS;

    static Stream<Long> seeds() {
        long fresh = System.nanoTime();
        System.out.println("RespPropertyTest fresh seed: " + fresh);
        return Stream.concat(LongStream.rangeClosed(1, 16).boxed(), Stream.of(fresh));
    }

    // ---- replies: any value, any fragmentation ----

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shouldFrameAndReadRandomReplyTreesSplitAnyway(long seed) {
        Random rnd = new Random(seed);
        List<RespValue> values = new ArrayList<>();
        List<String> wires = new ArrayList<>();
        ByteBuf all = Unpooled.buffer();
        try {
            for (int n = 1 + rnd.nextInt(5), i = 0; i < n; i++) {
                RespValue v = randomValue(rnd, 0);
                values.add(v);
                wires.add(Wire.written(v::writeTo));
                v.writeTo(all);
            }
            byte[] bytes = new byte[all.readableBytes()];
            all.getBytes(0, bytes);

            assertThat(Wire.decodeReplies(LIMITS, Wire.randomSplit(bytes, rnd))).as("seed %d", seed)
                    .isEqualTo(wires);
            for (RespValue v : values) {
                RespValue read = RespValue.read(all, LIMITS);
                assertThat(read).as("seed %d", seed).isEqualTo(v);
                assertThat(Wire.written(read::writeTo)).as("seed %d exact round trip", seed)
                        .isEqualTo(wires.get(values.indexOf(v)));
            }
            assertThat(all.isReadable()).as("seed %d nothing left over", seed).isFalse();

            // A random proper prefix is never a complete value, and reading it moves nothing.
            byte[] first = Wire.bytes(wires.get(0));
            ByteBuf prefix = Unpooled.wrappedBuffer(first, 0, rnd.nextInt(first.length));
            assertThat(RespValue.read(prefix, LIMITS)).as("seed %d", seed).isNull();
            assertThat(prefix.readerIndex()).isZero();
        } finally {
            all.release();
        }
    }

    static RespValue randomValue(Random rnd, int depth) {
        int kinds = depth >= 4 ? 11 : 17;
        return switch (rnd.nextInt(kinds)) {
            case 0 -> new SimpleString(randomText(rnd));
            case 1 -> new ErrorValue("ERR " + randomText(rnd));
            case 2 -> new IntegerValue(rnd.nextInt(4) == 0 ? rnd.nextLong() : rnd.nextInt(1000) - 500);
            case 3, 4 -> new BulkString(randomBytes(rnd));
            case 5 -> rnd.nextBoolean() ? BulkString.NULL : NullValue.INSTANCE;
            case 6 -> new BooleanValue(rnd.nextBoolean());
            case 7 -> new DoubleValue(switch (rnd.nextInt(4)) {
                case 0 -> Double.longBitsToDouble(rnd.nextLong());
                case 1 -> rnd.nextInt(100) / 4.0;
                case 2 -> new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0}[rnd.nextInt(4)];
                default -> rnd.nextGaussian() * 1e6;
            });
            case 8 -> new BigNumber((rnd.nextBoolean() ? "-" : "") + (1 + rnd.nextInt(9)) + digits(rnd));
            case 9 -> new BlobError(randomBytes(rnd));
            case 10 -> new Verbatim(rnd.nextBoolean() ? "txt" : "mkd", randomBytes(rnd));
            case 11 -> rnd.nextInt(8) == 0 ? ArrayValue.NULL : new ArrayValue(randomList(rnd, depth));
            case 12 -> new SetValue(randomList(rnd, depth));
            case 13 -> new PushValue(randomList(rnd, depth));
            case 14 -> new MapValue(randomEntries(rnd, depth));
            case 15 -> new AttributeValue(randomEntries(rnd, depth), randomValue(rnd, depth + 1));
            default -> new ArrayValue(randomList(rnd, depth));
        };
    }

    private static List<RespValue> randomList(Random rnd, int depth) {
        List<RespValue> list = new ArrayList<>();
        for (int n = rnd.nextInt(5), i = 0; i < n; i++) {
            list.add(randomValue(rnd, depth + 1));
        }
        return list;
    }

    private static List<Map.Entry<RespValue, RespValue>> randomEntries(Random rnd, int depth) {
        List<Map.Entry<RespValue, RespValue>> list = new ArrayList<>();
        for (int n = rnd.nextInt(4), i = 0; i < n; i++) {
            list.add(Map.entry(randomValue(rnd, depth + 1), randomValue(rnd, depth + 1)));
        }
        return list;
    }

    private static String randomText(Random rnd) {
        StringBuilder sb = new StringBuilder();
        for (int n = rnd.nextInt(12), i = 0; i < n; i++) {
            // Printable ASCII plus some non-ASCII BMP characters; never CR or LF.
            sb.append(rnd.nextInt(6) == 0 ? (char) (0xa0 + rnd.nextInt(0x2000)) : (char) (0x20 + rnd.nextInt(0x5f)));
        }
        return sb.toString();
    }

    private static String digits(Random rnd) {
        StringBuilder sb = new StringBuilder();
        for (int n = rnd.nextInt(40), i = 0; i < n; i++) {
            sb.append((char) ('0' + rnd.nextInt(10)));
        }
        return sb.toString();
    }

    static byte[] randomBytes(Random rnd) {
        int len = switch (rnd.nextInt(10)) {
            case 0 -> 0;
            case 1 -> 200 + rnd.nextInt(3000);
            default -> rnd.nextInt(20);
        };
        byte[] b = new byte[len];
        rnd.nextBytes(b);
        if (len > 0 && rnd.nextBoolean()) {
            b[rnd.nextInt(len)] = '\r'; // line ends inside data must not confuse anyone
        }
        return b;
    }

    // ---- requests: any args, any fragmentation ----

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shouldDecodeRandomRequestsSplitAnyway(long seed) {
        Random rnd = new Random(seed);
        ByteBuf wire = Unpooled.buffer();
        List<String> expected = new ArrayList<>();
        try {
            for (int n = 1 + rnd.nextInt(20), i = 0; i < n; i++) {
                if (rnd.nextInt(10) == 0) {
                    wire.writeBytes(Wire.bytes(rnd.nextBoolean() ? "*0\r\n" : "*-1\r\n")); // skipped
                    continue;
                }
                byte[][] args = new byte[1 + rnd.nextInt(6)][];
                List<String> parts = new ArrayList<>();
                for (int a = 0; a < args.length; a++) {
                    args[a] = randomBytes(rnd);
                    parts.add(Wire.str(args[a]));
                }
                RespWriter.writeCommand(wire, args);
                expected.add(String.join("|", parts));
            }
            byte[] bytes = new byte[wire.readableBytes()];
            wire.getBytes(0, bytes);
            assertThat(Wire.decodeRequests(LIMITS, Wire.randomSplit(bytes, rnd))).as("seed %d", seed)
                    .isEqualTo(expected);
        } finally {
            wire.release();
        }
    }

    // ---- random bytes: decode or RespProtocolException, the same for any split, never hang ----

    private static final byte[] ALPHABET = Wire.bytes("*$:+-_#,(!=%~|>\r\n\r\n0123456789-1 \"'\\xaA\0");

    static byte[] randomGarbage(Random rnd) {
        byte[] b = new byte[rnd.nextInt(200)];
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextInt(8) == 0 ? (byte) rnd.nextInt(256) : ALPHABET[rnd.nextInt(ALPHABET.length)];
        }
        return b;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shouldDecodeOrRejectRandomBytesTheSameForAnySplit(long seed) {
        Random rnd = new Random(seed);
        RespLimits small = new RespLimits(64, 16, 32, 8);
        for (int round = 0; round < 40; round++) {
            byte[] garbage = randomGarbage(rnd);
            for (RespLimits limits : List.of(LIMITS, small)) {
                List<String> requests = Wire.decodeRequests(limits, Wire.whole(garbage));
                assertThat(Wire.decodeRequests(limits, Wire.randomSplit(garbage, rnd)))
                        .as("seed %d round %d requests", seed, round).isEqualTo(requests);
                List<String> replies = Wire.decodeReplies(limits, Wire.whole(garbage));
                assertThat(Wire.decodeReplies(limits, Wire.randomSplit(garbage, rnd)))
                        .as("seed %d round %d replies", seed, round).isEqualTo(replies);
            }
        }
    }
}
