package io.cacheproxy.resp;

import static io.cacheproxy.resp.Wire.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(LeakCheckExtension.class)
class RespValueTest {

    static List<Arguments> values() {
        return List.of(
                Arguments.of("+OK\r\n", new SimpleString("OK")),
                Arguments.of("-ERR x\r\n", new ErrorValue("ERR x")),
                Arguments.of(":-7\r\n", new IntegerValue(-7)),
                Arguments.of("$3\r\na\r\n\r\n", new BulkString(bytes("a\r\n"))),
                Arguments.of("$-1\r\n", BulkString.NULL),
                Arguments.of("*-1\r\n", ArrayValue.NULL),
                Arguments.of("_\r\n", NullValue.INSTANCE),
                Arguments.of("#t\r\n", new BooleanValue(true)),
                Arguments.of(",1.5\r\n", new DoubleValue(1.5)),
                Arguments.of(",-inf\r\n", new DoubleValue(Double.NEGATIVE_INFINITY)),
                Arguments.of(",nan\r\n", new DoubleValue(Double.NaN)),
                Arguments.of("(-123456789012345678901234567890\r\n", new BigNumber("-123456789012345678901234567890")),
                Arguments.of("!3\r\nERR\r\n", new BlobError(bytes("ERR"))),
                Arguments.of("=7\r\nmkd:# a\r\n", new Verbatim("mkd", bytes("# a"))),
                Arguments.of("*2\r\n:1\r\n*0\r\n", new ArrayValue(List.of(new IntegerValue(1), new ArrayValue(List.of())))),
                Arguments.of("%1\r\n+k\r\n~1\r\n_\r\n", new MapValue(List.of(
                        Map.entry(new SimpleString("k"), new SetValue(List.of(NullValue.INSTANCE)))))),
                Arguments.of("|1\r\n+ttl\r\n:5\r\n$1\r\nv\r\n", new AttributeValue(
                        List.of(Map.entry(new SimpleString("ttl"), new IntegerValue(5))), BulkString.of("v"))),
                Arguments.of(">2\r\n+message\r\n$0\r\n\r\n", new PushValue(List.of(new SimpleString("message"),
                        BulkString.of("")))));
    }

    @ParameterizedTest
    @MethodSource("values")
    void shouldReadAndWriteEveryTypeExactly(String wire, RespValue expected) {
        ByteBuf in = Wire.tracked(bytes(wire + "+after\r\n"));
        try {
            assertThat(RespValue.read(in, RespLimits.DEFAULTS)).isEqualTo(expected);
            assertThat(in.readerIndex()).isEqualTo(wire.length());
        } finally {
            in.release();
        }
        assertThat(Wire.written(expected::writeTo)).isEqualTo(wire);
    }

    @Test
    void shouldReturnNullWithoutMovingReaderIndexWhenIncomplete() {
        ByteBuf in = Wire.tracked(bytes("*2\r\n$5\r\nhello\r\n"));
        try {
            in.readerIndex(0);
            assertThat(RespValue.read(in, RespLimits.DEFAULTS)).isNull();
            assertThat(in.readerIndex()).isZero();
        } finally {
            in.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {",abc\r\n", ",NaN\r\n", ",1d\r\n", ",0x1p3\r\n", ",\r\n", "(12a\r\n", "(\r\n",
        "=3\r\ntxt\r\n", "=5\r\ntxt;a\r\n", "?\r\n", "#x\r\n"})
    void shouldRejectMalformedValues(String wire) {
        ByteBuf in = Wire.tracked(bytes(wire));
        try {
            assertThatThrownBy(() -> RespValue.read(in, RespLimits.DEFAULTS)).isInstanceOf(RespProtocolException.class);
        } finally {
            in.release();
        }
    }

    @Test
    void shouldCompareByteArrayValuesByContent() {
        assertThat(BulkString.of("a")).isEqualTo(new BulkString(new byte[] {'a'})).hasSameHashCodeAs(BulkString.of("a"));
        assertThat(new Verbatim("txt", bytes("x"))).isEqualTo(new Verbatim("txt", bytes("x")));
        assertThat(new BlobError(bytes("x"))).isNotEqualTo(new BlobError(bytes("y")));
        assertThat(BulkString.of("secret\u0001").toString()).isEqualTo("BulkString[\"secret\\x01\"]");
    }
}
