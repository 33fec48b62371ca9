package io.cacheproxy.resp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Jazzer fuzz tests. Under plain {@code mvn verify} they run in regression mode over the seed inputs in
 * {@code src/test/resources/io/cacheproxy/resp/RespFuzzTestInputs/<method>/}; to fuzz for real, run
 * {@code JAZZER_FUZZ=1 ./mvnw -pl resp-codec test -Dtest=RespFuzzTest} and add any crash to the seeds.
 *
 * <p>Properties: any input either decodes or fails with {@link RespProtocolException} (nothing else),
 * the result does not depend on how the input is split into reads, and no buffer leaks.
 */
@ExtendWith(LeakCheckExtension.class)
class RespFuzzTest {

    private static final RespLimits SMALL = new RespLimits(256, 32, 64, 8);

    @FuzzTest(maxDuration = "60s")
    void requestDecoderShouldDecodeOrRejectAnyInput(FuzzedDataProvider data) {
        int cut = data.consumeInt(0, 64);
        byte[] input = data.consumeRemainingAsBytes();
        List<String> whole = Wire.decodeRequests(SMALL, Wire.whole(input));
        int at = Math.min(cut, input.length);
        List<byte[]> split = List.of(Arrays.copyOfRange(input, 0, at), Arrays.copyOfRange(input, at, input.length));
        assertThat(Wire.decodeRequests(SMALL, split)).isEqualTo(whole);
        assertThat(Wire.decodeRequests(SMALL, Wire.byteAtATime(input))).isEqualTo(whole);
    }

    @FuzzTest(maxDuration = "60s")
    void replyScannerShouldFrameOrRejectAnyInput(FuzzedDataProvider data) {
        int cut = data.consumeInt(0, 64);
        byte[] input = data.consumeRemainingAsBytes();
        List<String> whole = Wire.decodeReplies(SMALL, Wire.whole(input));
        int at = Math.min(cut, input.length);
        List<byte[]> split = List.of(Arrays.copyOfRange(input, 0, at), Arrays.copyOfRange(input, at, input.length));
        assertThat(Wire.decodeReplies(SMALL, split)).isEqualTo(whole);
        assertThat(Wire.decodeReplies(SMALL, Wire.byteAtATime(input))).isEqualTo(whole);
        // Whatever was framed must also parse as a value.
        for (String reply : whole) {
            if (!reply.startsWith("ERR ")) {
                io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(Wire.bytes(reply));
                try {
                    RespValue.read(buf, SMALL);
                } catch (RespProtocolException e) {
                    // The value model is stricter than the scanner about ',' '(' and '=' contents.
                }
            }
        }
    }
}
