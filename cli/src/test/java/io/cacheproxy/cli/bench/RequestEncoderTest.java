package io.cacheproxy.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestEncoderTest {

    private static String encode(Consumer<ByteBuf> writer) {
        ByteBuf buf = Unpooled.buffer(4);
        try {
            writer.accept(buf);
            return buf.toString(StandardCharsets.US_ASCII);
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldWriteGetAsARespArray() {
        RequestEncoder encoder = new RequestEncoder(100);
        assertThat(encode(b -> encoder.writeGet(b, 0))).isEqualTo("*2\r\n$3\r\nGET\r\n$5\r\nkey:0\r\n");
        assertThat(encode(b -> encoder.writeGet(b, 123456))).isEqualTo("*2\r\n$3\r\nGET\r\n$10\r\nkey:123456\r\n");
    }

    @Test
    void shouldWriteSetWithAValueOfTheGivenSize() {
        assertThat(encode(b -> new RequestEncoder(3).writeSet(b, 7)))
                .isEqualTo("*3\r\n$3\r\nSET\r\n$5\r\nkey:7\r\n$3\r\nabc\r\n");
        assertThat(encode(b -> new RequestEncoder(0).writeSet(b, 42)))
                .isEqualTo("*3\r\n$3\r\nSET\r\n$6\r\nkey:42\r\n$0\r\n\r\n");
        assertThat(encode(b -> new RequestEncoder(30).writeSet(b, 1)))
                .endsWith("$30\r\nabcdefghijklmnopqrstuvwxyzabcd\r\n");
    }

    @Test
    void maxRequestBytesShouldBoundTheLargestRequest() {
        RequestEncoder encoder = new RequestEncoder(100);
        String largest = encode(b -> encoder.writeSet(b, Integer.MAX_VALUE));
        assertThat(largest).contains("$14\r\nkey:2147483647\r\n");
        assertThat(largest.length()).isEqualTo(encoder.maxRequestBytes());
    }

    @ParameterizedTest
    @CsvSource({"0, 1", "9, 1", "10, 2", "99, 2", "100, 3", "999999, 6", "1000000, 7", "2147483647, 10"})
    void shouldCountDecimalDigits(int value, int digits) {
        assertThat(RequestEncoder.digits(value)).isEqualTo(digits);
    }
}
