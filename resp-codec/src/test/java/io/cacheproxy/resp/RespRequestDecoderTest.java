package io.cacheproxy.resp;

import static io.cacheproxy.resp.Wire.byteAtATime;
import static io.cacheproxy.resp.Wire.bytes;
import static io.cacheproxy.resp.Wire.decodeRequests;
import static io.cacheproxy.resp.Wire.whole;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(LeakCheckExtension.class)
class RespRequestDecoderTest {

    private static final RespLimits LIMITS = RespLimits.DEFAULTS;

    /** Decodes {@code input} whole, byte at a time and split at every point; all must agree. */
    private static List<String> decodeAnyway(String input) {
        return decodeAnyway(LIMITS, input);
    }

    private static List<String> decodeAnyway(RespLimits limits, String input) {
        byte[] data = bytes(input);
        List<String> expected = decodeRequests(limits, whole(data));
        assertThat(decodeRequests(limits, byteAtATime(data))).as("byte at a time").isEqualTo(expected);
        for (List<byte[]> split : Wire.allTwoWaySplits(data)) {
            assertThat(decodeRequests(limits, split)).as("split after %d bytes", split.get(0).length)
                    .isEqualTo(expected);
        }
        return expected;
    }

    @Test
    void shouldDecodeMultibulkRequestAsZeroCopySliceWithArgOffsets() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        ch.writeInbound(Wire.tracked(bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")));
        RespRequest r = ch.readInbound();
        try {
            assertThat(r.argCount()).isEqualTo(3);
            assertThat(r.inline()).isFalse();
            assertThat(r.argString(0)).isEqualTo("SET");
            assertThat(r.argOffset(1)).isEqualTo(17);
            assertThat(r.argLength(1)).isEqualTo(3);
            assertThat(r.content().getByte(r.argOffset(2))).isEqualTo((byte) 'v');
            assertThat(Wire.str(r.argBytes(2))).isEqualTo("value");
            assertThat(r.arg(1).toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("key");
            assertThat(r.content().toString(java.nio.charset.StandardCharsets.US_ASCII))
                    .isEqualTo("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
        } finally {
            r.release();
        }
        assertFalse(ch.finish());
    }

    @Test
    void shouldDecodeBulkStringSplitAcrossReads() {
        assertThat(decodeAnyway("*2\r\n$3\r\nGET\r\n$11\r\nkey:\r\n12345\r\n"))
                .containsExactly("GET|key:\r\n12345");
    }

    @Test
    void shouldDecodePipelinedRequestsInOrder() {
        assertThat(decodeAnyway("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nECHO x\r\n*1\r\n$4\r\nQUIT\r\n"))
                .containsExactly("PING", "GET|a", "ECHO|x!inline", "QUIT");
    }

    @Test
    void shouldDecodeBinaryAndEmptyArguments() {
        assertThat(decodeAnyway("*4\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\n\0\r\n\u00ff\r\n$0\r\n\r\n"))
                .containsExactly("SET||\0\r\n\u00ff|");
    }

    @Test
    void shouldSkipEmptyAndNegativeMultibulkCounts() {
        assertThat(decodeAnyway("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n*0\r\n"))
                .containsExactly("PING");
    }

    @Test
    void shouldAcceptArgCountAndBulkLengthExactlyAtTheLimits() {
        RespLimits small = LIMITS.withMaxArgs(2).withMaxBulkLength(3);
        assertThat(decodeAnyway(small, "*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n")).containsExactly("GET|abc");
    }

    @ParameterizedTest
    @ValueSource(strings = {"*1048577\r\n", "*x\r\n", "*01\r\n", "*+1\r\n", "*-0\r\n", "*\r\n", "*1 \r\n",
        "*99999999999999999999\r\n", "*1\rx", "*2147483648\r\n"})
    void shouldRejectInvalidMultibulkLength(String input) {
        assertThat(decodeAnyway(input)).containsExactly("ERR Protocol error: invalid multibulk length");
    }

    static List<Arguments> malformedBulkHeaders() {
        return List.of(
                Arguments.of("*1\r\nx\r\n", "ERR Protocol error: expected '$', got 'x'"),
                Arguments.of("*1\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"),
                Arguments.of("*1\r\n\r\n", "ERR Protocol error: expected '$', got ' '"),
                Arguments.of("*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
                Arguments.of("*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"),
                Arguments.of("*1\r\n$\r\n", "ERR Protocol error: invalid bulk length"),
                Arguments.of("*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length"),
                Arguments.of("*1\r\n$3\r\nabcde", "ERR Protocol error: expected CRLF after bulk data"),
                Arguments.of("*1\r\n$3\r\nabc\n\r", "ERR Protocol error: expected CRLF after bulk data"));
    }

    @ParameterizedTest
    @MethodSource("malformedBulkHeaders")
    void shouldRejectMalformedBulkHeadersWithRedisErrorText(String input, String error) {
        assertThat(decodeAnyway(input)).containsExactly(error);
    }

    @Test
    void shouldRejectHeaderLinesLongerThanInlineLimitHoweverTheyArrive() {
        RespLimits small = LIMITS.withMaxInlineLength(16);
        assertThat(decodeAnyway(small, "*" + "1".repeat(17)))
                .containsExactly("ERR Protocol error: too big mbulk count string");
        assertThat(decodeAnyway(small, "*1\r\n$" + "1".repeat(16)))
                .containsExactly("ERR Protocol error: too big bulk count string");
        // 16 bytes before the CR is still a complete line (here an invalid number).
        assertThat(decodeAnyway(small, "*" + "1".repeat(15) + "\r\n"))
                .containsExactly("ERR Protocol error: invalid multibulk length");
    }

    @Test
    void shouldEmitNothingAfterProtocolError() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        RespProtocolException e = assertThrows(RespProtocolException.class, () -> ch.writeInbound(
                Wire.tracked(bytes("*1\r\n$4\r\nPING\r\n*1\r\n$-2\r\n*1\r\n$4\r\nPING\r\n"))));
        assertThat(e).hasMessage("Protocol error: invalid bulk length");
        RespRequest first = ch.readInbound();
        assertThat(first.argString(0)).isEqualTo("PING");
        first.release();
        assertThat(ch.<Object>readInbound()).isNull();
        ch.writeInbound(Wire.tracked(bytes("*1\r\n$4\r\nPING\r\n")));
        assertThat(ch.<Object>readInbound()).isNull();
        assertFalse(ch.finish());
    }

    @Test
    void shouldReleaseHalfReceivedRequestWhenChannelCloses() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        ch.writeInbound(Wire.tracked(bytes("*2\r\n$3\r\nGET\r\n$100\r\nabc")));
        assertThat(ch.<Object>readInbound()).isNull();
        assertFalse(ch.finish());
    }

    @Test
    void shouldDecodeLargeBulkArrivingInManyReads() {
        int size = 1 << 20;
        byte[] value = new byte[size];
        new java.util.Random(1).nextBytes(value);
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        ch.writeInbound(Wire.tracked(bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + size + "\r\n")));
        for (int i = 0; i < size; i += 4096) {
            ch.writeInbound(Wire.tracked(java.util.Arrays.copyOfRange(value, i, i + 4096)));
            assertThat(ch.<Object>readInbound()).isNull();
        }
        ch.writeInbound(Wire.tracked(bytes("\r\n")));
        RespRequest r = ch.readInbound();
        try {
            assertThat(r.argBytes(2)).isEqualTo(value);
        } finally {
            r.release();
        }
        assertFalse(ch.finish());
    }

    // ---- limits: rejected early, and nothing is allocated in proportion to a declared size ----

    private static long allocatedBytes(Runnable r) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        r.run();
        return mx.getCurrentThreadAllocatedBytes() - before;
    }

    @Test
    void shouldRejectBulkLongerThan512MbWithoutAllocating() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        long allocated = allocatedBytes(() -> assertThat(assertThrows(RespProtocolException.class,
                () -> ch.writeInbound(Wire.tracked(bytes("*2\r\n$3\r\nGET\r\n$536870913\r\n")))))
                .hasMessage("Protocol error: invalid bulk length"));
        assertThat(allocated).isLessThan(1 << 20);
        assertFalse(ch.finish());
    }

    @Test
    void shouldWaitFor512MbBulkWithoutAllocatingIt() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        long allocated = allocatedBytes(() -> {
            ch.writeInbound(Wire.tracked(bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nabc")));
            ch.writeInbound(Wire.tracked(new byte[1000]));
        });
        assertThat(ch.<Object>readInbound()).isNull();
        assertThat(allocated).isLessThan(1 << 20);
        assertFalse(ch.finish());
    }

    @Test
    void shouldRejectMoreThan1MArgsWithoutAllocating() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        long allocated = allocatedBytes(() -> assertThat(assertThrows(RespProtocolException.class,
                () -> ch.writeInbound(Wire.tracked(bytes("*1048577\r\n")))))
                .hasMessage("Protocol error: invalid multibulk length"));
        assertThat(allocated).isLessThan(1 << 20);
        assertFalse(ch.finish());
    }

    @Test
    void shouldNotPreallocateArgumentTableForDeclared1MArgs() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        long allocated = allocatedBytes(() ->
                ch.writeInbound(Wire.tracked(bytes("*1048576\r\n$3\r\nDEL\r\n$1\r\na\r\n"))));
        assertThat(ch.<Object>readInbound()).isNull();
        assertThat(allocated).isLessThan(1 << 20);
        assertFalse(ch.finish());
    }

    @Test
    void shouldGrowArgumentTableAsArgumentsArrive() {
        int n = 1000;
        StringBuilder sb = new StringBuilder("*" + (n + 1) + "\r\n$3\r\nDEL\r\n");
        List<String> expected = new ArrayList<>(List.of("DEL"));
        for (int i = 0; i < n; i++) {
            String key = "k" + i;
            sb.append('$').append(key.length()).append("\r\n").append(key).append("\r\n");
            expected.add(key);
        }
        assertThat(decodeRequests(LIMITS, Wire.randomSplit(bytes(sb.toString()), new java.util.Random(7))))
                .containsExactly(String.join("|", expected));
    }

    @Test
    void shouldRejectInlineRequestOver64KbWithoutAllocating() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        byte[] line = bytes("GET " + "k".repeat(64 * 1024));
        long allocated = allocatedBytes(() -> assertThat(assertThrows(RespProtocolException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(line))))
                .hasMessage("Protocol error: too big inline request"));
        assertThat(allocated).isLessThan(1 << 20);
        assertFalse(ch.finish());
    }

    // ---- inline commands ----

    @Test
    void shouldDecodeInlineCommandsEndingInLfOrCrlf() {
        assertThat(decodeAnyway("PING\r\nset a b\nget   a\t\r\n"))
                .containsExactly("PING!inline", "set|a|b!inline", "get|a!inline");
    }

    @Test
    void shouldSkipEmptyInlineLines() {
        assertThat(decodeAnyway("\r\n\n   \r\n\t\nPING\n")).containsExactly("PING!inline");
    }

    @Test
    void shouldSplitInlineArgumentsLikeSdssplitargs() {
        assertThat(decodeAnyway("set \"a b\" 'c d'\r\n")).containsExactly("set|a b|c d!inline");
        assertThat(decodeAnyway("echo \"\\x41\\x4a\\n\\r\\t\\b\\a\\z\\\"\"\n"))
                .containsExactly("echo|AJ\n\r\t\b\u0007z\"!inline");
        assertThat(decodeAnyway("echo \"\\x4g\"\n")).containsExactly("echo|x4g!inline");
        assertThat(decodeAnyway("echo 'it\\'s' 'a\\b'\n")).containsExactly("echo|it's|a\\b!inline");
        assertThat(decodeAnyway("echo a\"b c\"d\n")).as("a quote may open mid-token")
                .containsExactly("ERR Protocol error: unbalanced quotes in request");
        assertThat(decodeAnyway("echo a\"b c\"\n")).containsExactly("echo|ab c!inline");
        assertThat(decodeAnyway("echo \"\" ''\n")).containsExactly("echo||!inline");
    }

    @ParameterizedTest
    @ValueSource(strings = {"set \"a\r\n", "set 'a\n", "set \"a\"b\n", "set 'a'b\n", "get \"a\\\"\n"})
    void shouldRejectUnbalancedQuotesInInlineCommand(String input) {
        assertThat(decodeAnyway(input)).containsExactly("ERR Protocol error: unbalanced quotes in request");
    }

    @Test
    void shouldStopInlineLineAtNulByteLikeRedis() {
        assertThat(decodeAnyway("echo a\0b c\n")).containsExactly("echo|a!inline");
    }

    @Test
    void shouldAcceptInlineLineExactlyAtTheLimitAndRejectOneByteMore() {
        RespLimits small = LIMITS.withMaxInlineLength(8);
        assertThat(decodeAnyway(small, "echo abc\n")).containsExactly("echo|abc!inline");
        assertThat(decodeAnyway(small, "echo ab\r\n")).containsExactly("echo|ab!inline");
        assertThat(decodeAnyway(small, "echo abcd\n"))
                .containsExactly("ERR Protocol error: too big inline request");
    }

    @Test
    void shouldBuildInlineRequestContentInMultibulkForm() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(LIMITS));
        ch.writeInbound(Wire.tracked(bytes("set k \"v v\"\r\n")));
        RespRequest r = ch.readInbound();
        try {
            assertThat(r.inline()).isTrue();
            ByteBuf content = r.content();
            assertThat(content.toString(java.nio.charset.StandardCharsets.US_ASCII))
                    .isEqualTo("*3\r\n$3\r\nset\r\n$1\r\nk\r\n$3\r\nv v\r\n");
        } finally {
            r.release();
        }
        assertFalse(ch.finish());
    }
}
