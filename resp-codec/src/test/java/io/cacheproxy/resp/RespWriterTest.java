package io.cacheproxy.resp;

import static io.cacheproxy.resp.Wire.written;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(LeakCheckExtension.class)
class RespWriterTest {

    private static final RespVersion R2 = RespVersion.RESP2;
    private static final RespVersion R3 = RespVersion.RESP3;

    @Test
    void shouldWriteSimpleStringsAndErrors() {
        assertThat(written(o -> RespWriter.writeSimpleString(o, "OK"))).isEqualTo("+OK\r\n");
        assertThat(written(o -> RespWriter.writeSimpleString(o, ""))).isEqualTo("+\r\n");
        assertThat(written(o -> RespWriter.writeError(o, "ERR unknown command 'x'")))
                .isEqualTo("-ERR unknown command 'x'\r\n");
    }

    @Test
    void shouldReplaceCrLfInLinesLikeRedis() {
        assertThat(written(o -> RespWriter.writeError(o, "ERR a\r\nb"))).isEqualTo("-ERR a  b\r\n");
        assertThat(written(o -> RespWriter.writeSimpleString(o, "a\nb"))).isEqualTo("+a b\r\n");
    }

    @Test
    void shouldWriteIntegersIncludingExtremes() {
        assertThat(written(o -> RespWriter.writeInteger(o, 0))).isEqualTo(":0\r\n");
        assertThat(written(o -> RespWriter.writeInteger(o, 9))).isEqualTo(":9\r\n");
        assertThat(written(o -> RespWriter.writeInteger(o, 10))).isEqualTo(":10\r\n");
        assertThat(written(o -> RespWriter.writeInteger(o, -1))).isEqualTo(":-1\r\n");
        assertThat(written(o -> RespWriter.writeInteger(o, 1234567890123L))).isEqualTo(":1234567890123\r\n");
        assertThat(written(o -> RespWriter.writeInteger(o, Long.MAX_VALUE))).isEqualTo(":9223372036854775807\r\n");
        assertThat(written(o -> RespWriter.writeInteger(o, Long.MIN_VALUE))).isEqualTo(":-9223372036854775808\r\n");
    }

    @Test
    void shouldWriteBulkStringsFromBytesBuffersAndText() {
        assertThat(written(o -> RespWriter.writeBulk(o, new byte[] {'a', 0, '\r'}))).isEqualTo("$3\r\na\0\r\r\n");
        assertThat(written(o -> RespWriter.writeBulk(o, new byte[0]))).isEqualTo("$0\r\n\r\n");
        assertThat(written(o -> RespWriter.writeBulk(o, "h\u00e9llo"))).isEqualTo(
                "$6\r\n" + new String("h\u00e9llo".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1)
                        + "\r\n");
        ByteBuf src = Unpooled.copiedBuffer("xxvaluexx", StandardCharsets.US_ASCII);
        src.readerIndex(2).writerIndex(7);
        assertThat(written(o -> RespWriter.writeBulk(o, src))).isEqualTo("$5\r\nvalue\r\n");
        assertThat(src.readerIndex()).as("source not consumed").isEqualTo(2);
        assertThat(src.refCnt()).as("source not released").isEqualTo(1);
        src.release();
    }

    @Test
    void shouldWriteNullsForEachVersion() {
        assertThat(written(o -> RespWriter.writeNull(o, R2))).isEqualTo("$-1\r\n");
        assertThat(written(o -> RespWriter.writeNull(o, R3))).isEqualTo("_\r\n");
        assertThat(written(o -> RespWriter.writeNullArray(o, R2))).isEqualTo("*-1\r\n");
        assertThat(written(o -> RespWriter.writeNullArray(o, R3))).isEqualTo("_\r\n");
    }

    @Test
    void shouldWriteAggregateHeadersForEachVersion() {
        assertThat(written(o -> RespWriter.writeArrayHeader(o, 0))).isEqualTo("*0\r\n");
        assertThat(written(o -> RespWriter.writeArrayHeader(o, 12))).isEqualTo("*12\r\n");
        assertThat(written(o -> RespWriter.writeMapHeader(o, R3, 2))).isEqualTo("%2\r\n");
        assertThat(written(o -> RespWriter.writeMapHeader(o, R2, 2))).isEqualTo("*4\r\n");
        assertThat(written(o -> RespWriter.writeSetHeader(o, R3, 3))).isEqualTo("~3\r\n");
        assertThat(written(o -> RespWriter.writeSetHeader(o, R2, 3))).isEqualTo("*3\r\n");
        assertThat(written(o -> RespWriter.writePushHeader(o, R3, 3))).isEqualTo(">3\r\n");
        assertThat(written(o -> RespWriter.writePushHeader(o, R2, 3))).isEqualTo("*3\r\n");
        assertThat(written(o -> RespWriter.writeAttributeHeader(o, 1))).isEqualTo("|1\r\n");
        assertThatThrownBy(() -> written(o -> RespWriter.writeArrayHeader(o, -1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("n: -1 (expected: >= 0)");
    }

    static List<Arguments> doubles() {
        // Expected texts are C's printf("%.17g"), as Redis 7.0's addReplyDouble writes them.
        return List.of(
                Arguments.of(1.5, "1.5"), Arguments.of(0.1, "0.10000000000000001"), Arguments.of(1e20, "1e+20"),
                Arguments.of(1.0 / 3, "0.33333333333333331"),
                Arguments.of(123456789012345678.0, "1.2345678901234568e+17"),
                Arguments.of(1e-5, "1.0000000000000001e-05"), Arguments.of(-2.5, "-2.5"), Arguments.of(100.0, "100"),
                Arguments.of(1e16, "10000000000000000"), Arguments.of(1e17, "1e+17"), Arguments.of(0.0001, "0.0001"),
                Arguments.of(3.14159, "3.1415899999999999"), Arguments.of(0.0, "0"), Arguments.of(-0.0, "-0"),
                Arguments.of(Double.MIN_VALUE, "4.9406564584124654e-324"),
                Arguments.of(Double.MAX_VALUE, "1.7976931348623157e+308"),
                Arguments.of(Double.POSITIVE_INFINITY, "inf"), Arguments.of(Double.NEGATIVE_INFINITY, "-inf"),
                Arguments.of(Double.NaN, "nan"));
    }

    @ParameterizedTest
    @MethodSource("doubles")
    void shouldWriteDoublesLikeRedis(double d, String text) {
        assertThat(written(o -> RespWriter.writeDouble(o, R3, d))).isEqualTo("," + text + "\r\n");
        assertThat(written(o -> RespWriter.writeDouble(o, R2, d)))
                .isEqualTo("$" + text.length() + "\r\n" + text + "\r\n");
        if (!Double.isNaN(d)) {
            assertThat(Double.parseDouble(text.replace("inf", "Infinity"))).as("reads back exactly").isEqualTo(d);
        }
    }

    @Test
    void shouldWriteBooleansForEachVersion() {
        assertThat(written(o -> RespWriter.writeBoolean(o, R3, true))).isEqualTo("#t\r\n");
        assertThat(written(o -> RespWriter.writeBoolean(o, R3, false))).isEqualTo("#f\r\n");
        assertThat(written(o -> RespWriter.writeBoolean(o, R2, true))).isEqualTo(":1\r\n");
        assertThat(written(o -> RespWriter.writeBoolean(o, R2, false))).isEqualTo(":0\r\n");
    }

    @Test
    void shouldWriteVerbatimForEachVersion() {
        assertThat(written(o -> RespWriter.writeVerbatim(o, R3, "txt", "Some string")))
                .isEqualTo("=15\r\ntxt:Some string\r\n");
        assertThat(written(o -> RespWriter.writeVerbatim(o, R2, "txt", "Some string")))
                .isEqualTo("$11\r\nSome string\r\n");
        assertThatThrownBy(() -> written(o -> RespWriter.writeVerbatim(o, R3, "text", "x")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldWriteBigNumbersAndBlobErrors() {
        assertThat(written(o -> RespWriter.writeBigNumber(o, "-3492890328409238509324850943850943825024385")))
                .isEqualTo("(-3492890328409238509324850943850943825024385\r\n");
        assertThat(written(o -> RespWriter.writeBlobError(o, "SYNTAX x".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("!8\r\nSYNTAX x\r\n");
    }

    @Test
    void shouldWriteCommandsAsArraysOfBulkStrings() {
        assertThat(written(o -> RespWriter.writeCommand(o, "SET", "k", "")))
                .isEqualTo("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
        assertThat(written(o -> RespWriter.writeCommand(o, new byte[] {'G', 'E', 'T'}, new byte[] {1})))
                .isEqualTo("*2\r\n$3\r\nGET\r\n$1\r\n\u0001\r\n");
    }

    @Test
    void shouldExposeImmutableSharedReplies() {
        assertThat(Wire.str(bytesOf(RespReplies.OK))).isEqualTo("+OK\r\n");
        assertThat(Wire.str(bytesOf(RespReplies.PONG))).isEqualTo("+PONG\r\n");
        assertThat(Wire.str(bytesOf(RespReplies.QUEUED))).isEqualTo("+QUEUED\r\n");
        assertThat(Wire.str(bytesOf(RespReplies.NULL_BULK))).isEqualTo("$-1\r\n");
        assertThat(Wire.str(bytesOf(RespReplies.NULL_ARRAY))).isEqualTo("*-1\r\n");
        assertThat(Wire.str(bytesOf(RespReplies.NULL3))).isEqualTo("_\r\n");
        assertThat(Wire.str(bytesOf(RespReplies.EMPTY_ARRAY))).isEqualTo("*0\r\n");
        assertThat(Wire.str(bytesOf(RespReplies.ZERO))).isEqualTo(":0\r\n");
        assertThat(Wire.str(bytesOf(RespReplies.ONE))).isEqualTo(":1\r\n");
        assertThat(RespReplies.OK.isReadOnly()).isTrue();
        assertThat(RespReplies.OK.release()).as("unreleasable").isFalse();
        assertThat(RespReplies.OK.refCnt()).isEqualTo(1);
        assertThat(written(o -> RespReplies.copyTo(RespReplies.PONG, o))).isEqualTo("+PONG\r\n");
        assertThat(RespReplies.PONG.readableBytes()).isEqualTo(7);
    }

    private static byte[] bytesOf(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), out);
        return out;
    }
}
