package io.cacheproxy.resp;

import static io.cacheproxy.resp.Wire.byteAtATime;
import static io.cacheproxy.resp.Wire.bytes;
import static io.cacheproxy.resp.Wire.decodeReplies;
import static io.cacheproxy.resp.Wire.whole;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(LeakCheckExtension.class)
class RespReplyScannerTest {

    private static final RespLimits LIMITS = RespLimits.DEFAULTS;

    /** Scans {@code reply + "tail"} and checks every proper prefix is incomplete, fresh and resumed. */
    private static void assertFramed(String reply) {
        byte[] data = bytes(reply + "+next\r\n");
        RespReplyScanner fresh = new RespReplyScanner(LIMITS);
        RespReplyScanner resumed = new RespReplyScanner(LIMITS);
        ByteBuf growing = Unpooled.buffer();
        try {
            for (int i = 0; i < reply.length(); i++) {
                ByteBuf prefix = Unpooled.wrappedBuffer(data, 0, i);
                assertThat(fresh.scan(prefix)).as("prefix of %d bytes", i).isEqualTo(-1);
                fresh.reset();
                growing.writeByte(data[i]);
                int n = resumed.scan(growing);
                if (i < reply.length() - 1) {
                    assertThat(n).as("resumed at %d bytes", i + 1).isEqualTo(-1);
                } else {
                    assertThat(n).isEqualTo(reply.length());
                }
            }
            ByteBuf all = Unpooled.wrappedBuffer(data);
            assertThat(fresh.scan(all)).isEqualTo(reply.length());
            assertThat(all.readerIndex()).as("reader index untouched").isZero();
        } finally {
            growing.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "+OK\r\n", "-ERR no\r\n", ":-42\r\n", "$5\r\nhello\r\n", "$0\r\n\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n",
        "*2\r\n$3\r\nfoo\r\n:1\r\n", "_\r\n", "#t\r\n", "#f\r\n", ",1.5\r\n", ",-inf\r\n", "(12345678901234567890\r\n",
        "!21\r\nSYNTAX invalid syntax\r\n", "=15\r\ntxt:Some string\r\n", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%0\r\n",
        "~3\r\n:1\r\n:2\r\n:3\r\n", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
        "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n$1\r\nb\r\n,0.05\r\n*2\r\n:2039123\r\n:9543892\r\n",
        "*3\r\n*0\r\n%1\r\n*1\r\n_\r\n~0\r\n$-1\r\n", "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n",
        "$4\r\n\r\n\r\n\r\n"})
    void shouldFrameEveryReplyTypeInAnyFragmentation(String reply) {
        assertFramed(reply);
    }

    @Test
    void shouldNotRescanWhatItAlreadyScanned() {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeBytes(bytes("*2\r\n$5\r\nhello\r\n:1"));
            RespReplyScanner scanner = new RespReplyScanner(LIMITS);
            assertThat(scanner.scan(buf)).isEqualTo(-1);
            // Garble what was already scanned: a scanner that resumes never looks at it again.
            buf.setByte(0, 'X');
            buf.setByte(8, 'X');
            buf.writeBytes(bytes("\r\n"));
            assertThat(scanner.scan(buf)).isEqualTo(buf.readableBytes());
            assertThatThrownBy(() -> new RespReplyScanner(LIMITS).scan(buf))
                    .isInstanceOf(RespProtocolException.class);
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldRejectNestingDeeperThanLimitWithoutRecursion() {
        String ok = "*1\r\n".repeat(128) + ":1\r\n";
        assertThat(new RespReplyScanner(LIMITS).scan(Unpooled.wrappedBuffer(bytes(ok)))).isEqualTo(ok.length());
        String deep = "*1\r\n".repeat(129) + ":1\r\n";
        assertThatThrownBy(() -> new RespReplyScanner(LIMITS).scan(Unpooled.wrappedBuffer(bytes(deep))))
                .isInstanceOf(RespProtocolException.class).hasMessage("Protocol error: nesting too deep");
        String veryDeep = "%1\r\n+k\r\n".repeat(200_000) + "_\r\n";
        RespReplyScanner unlimited = new RespReplyScanner(LIMITS.withMaxNestingDepth(1_000_000));
        assertThat(unlimited.scan(Unpooled.wrappedBuffer(bytes(veryDeep)))).isEqualTo(veryDeep.length());
    }

    static List<Arguments> malformedReplies() {
        return List.of(
                Arguments.of("?x\r\n", "Protocol error: unknown reply type byte 0x3f"),
                Arguments.of("$-2\r\n", "Protocol error: invalid bulk length"),
                Arguments.of("!-1\r\n", "Protocol error: invalid bulk length"),
                Arguments.of("$x\r\n", "Protocol error: invalid bulk length"),
                Arguments.of("$536870913\r\n", "Protocol error: invalid bulk length"),
                Arguments.of("*-2\r\n", "Protocol error: invalid multibulk length"),
                Arguments.of("%-1\r\n", "Protocol error: invalid multibulk length"),
                Arguments.of("*01\r\n", "Protocol error: invalid multibulk length"),
                Arguments.of(":1x\r\n", "Protocol error: invalid integer"),
                Arguments.of("#x\r\n", "Protocol error: invalid boolean"),
                Arguments.of("_x\r\n", "Protocol error: invalid null"),
                Arguments.of("$3\r\nabcd\r\n", "Protocol error: expected CRLF after bulk data"),
                Arguments.of("+OK\rx", "Protocol error: expected LF after CR"),
                Arguments.of("*" + "1".repeat(40), "Protocol error: invalid length or number line"));
    }

    @ParameterizedTest
    @MethodSource("malformedReplies")
    void shouldRejectMalformedReplies(String input, String message) {
        assertThat(decodeReplies(LIMITS, whole(bytes(input)))).containsExactly("ERR " + message);
        assertThat(decodeReplies(LIMITS, byteAtATime(bytes(input)))).containsExactly("ERR " + message);
    }

    @Test
    void shouldRejectSimpleLineLongerThanBulkLimit() {
        RespLimits small = LIMITS.withMaxBulkLength(8);
        assertThat(decodeReplies(small, whole(bytes("+12345678\r\n")))).containsExactly("+12345678\r\n");
        assertThat(decodeReplies(small, whole(bytes("+123456789"))))
                .containsExactly("ERR Protocol error: too big reply line");
    }

    @Test
    void shouldEmitEachPipelinedReplyAsExactBytesIncludingPushes() {
        String input = "+OK\r\n>2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n$-1\r\n*2\r\n:1\r\n_\r\n";
        List<String> expected = List.of("+OK\r\n", ">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n", "$-1\r\n",
                "*2\r\n:1\r\n_\r\n");
        assertThat(decodeReplies(LIMITS, whole(bytes(input)))).isEqualTo(expected);
        assertThat(decodeReplies(LIMITS, byteAtATime(bytes(input)))).isEqualTo(expected);
        for (List<byte[]> split : Wire.allTwoWaySplits(bytes(input))) {
            assertThat(decodeReplies(LIMITS, split)).isEqualTo(expected);
        }
    }

    @Test
    void shouldEmitNothingAfterProtocolError() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespReplyDecoder(LIMITS));
        assertThrows(RespProtocolException.class,
                () -> ch.writeInbound(Wire.tracked(bytes("+OK\r\n?\r\n+OK\r\n"))));
        ByteBuf first = ch.readInbound();
        assertThat(Wire.drain(first)).isEqualTo("+OK\r\n");
        assertThat(ch.<Object>readInbound()).isNull();
        ch.writeInbound(Wire.tracked(bytes("+OK\r\n")));
        assertThat(ch.<Object>readInbound()).isNull();
        assertFalse(ch.finish());
    }

    @Test
    void shouldReleaseHalfReceivedReplyWhenChannelCloses() {
        EmbeddedChannel ch = new EmbeddedChannel(new RespReplyDecoder(LIMITS));
        ch.writeInbound(Wire.tracked(bytes("*2\r\n$5\r\nhel")));
        assertThat(ch.<Object>readInbound()).isNull();
        assertFalse(ch.finish());
    }
}
