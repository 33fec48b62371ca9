package io.cacheproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ClusterRedirectTest {

    private static ClusterRedirect.Redirection parse(String reply) {
        ByteBuf in = Unpooled.copiedBuffer("xx" + reply, StandardCharsets.US_ASCII);
        try {
            return ClusterRedirect.Redirection.parse(in, 2, in.readableBytes() - 2);
        } finally {
            in.release();
        }
    }

    @Test
    void shouldParseMovedAndAskWhereverTheReplyLiesInTheBuffer() {
        assertThat(parse("-MOVED 3999 127.0.0.1:6381\r\n"))
                .isEqualTo(new ClusterRedirect.Redirection(false, 3999, "127.0.0.1", 6381));
        assertThat(parse("-ASK 16383 10.0.0.7:7000\r\n"))
                .isEqualTo(new ClusterRedirect.Redirection(true, 16383, "10.0.0.7", 7000));
    }

    @Test
    void shouldKeepAnIpv6HostAndSpellItWithBrackets() {
        ClusterRedirect.Redirection redirection = parse("-MOVED 1 ::1:7001\r\n");
        assertThat(redirection).isEqualTo(new ClusterRedirect.Redirection(false, 1, "::1", 7001));
        assertThat(redirection.address()).isEqualTo("[::1]:7001");
    }

    @Test
    void shouldIgnoreOtherRepliesAndMalformedRedirections() {
        assertThat(parse("+OK\r\n")).isNull();
        assertThat(parse("-ERR MOVED 1 h:1\r\n")).isNull();
        assertThat(parse("-TRYAGAIN Multiple keys request during rehashing of slot\r\n")).isNull();
        assertThat(parse("-MOVED 12 nowhere\r\n")).isNull();
        assertThat(parse("-MOVED x 127.0.0.1:6379\r\n")).isNull();
        assertThat(parse("-ASK 12 127.0.0.1:port\r\n")).isNull();
        assertThat(parse("-MOVED\r\n")).isNull();
    }

    @Test
    void shouldSayWhatHappenedToATransaction() {
        ClusterRedirect.Redirection moved = parse("-MOVED 5 127.0.0.1:7002\r\n");
        assertThat(moved.queuedError()).isEqualTo(
                "TRYAGAIN slot 5 has moved to 127.0.0.1:7002; the transaction will be aborted (EXECABORT): retry it");
        assertThat(moved.execError()).startsWith("EXECABORT Transaction discarded because slot 5 has moved to ");
        assertThat(parse("-ASK 5 127.0.0.1:7002\r\n").watchError())
                .isEqualTo("TRYAGAIN slot 5 is being migrated to 127.0.0.1:7002; the key is not watched: retry");
    }
}
