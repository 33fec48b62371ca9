package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/** server.limits.client-output-buffer and server.idle-timeout, through a real proxy and Redis. */
class ClientLimitsIT {
    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    private static TestProxy start(String serverExtra) {
        return TestProxy.start("server:\n  listen: 127.0.0.1:0\n" + serverExtra
                + "admin:\n  listen: 127.0.0.1:0\n"
                + "pools:\n  main:\n    type: sharded\n    nodes: [" + redis.address() + "]\n");
    }

    /** Reads until the peer closes or {@code millis} pass without data; returns the bytes read and whether EOF came. */
    private static long drain(Socket socket, long millis, boolean[] closed) throws Exception {
        socket.setSoTimeout((int) millis);
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
            }
            closed[0] = true;
        } catch (SocketTimeoutException e) {
            closed[0] = false;
        } catch (java.net.SocketException e) {
            closed[0] = true;      // reset by peer
        }
        return total;
    }

    @Test
    void shouldDisconnectAClientThatDoesNotReadItsRepliesWhileOthersCarryOn() throws Exception {
        try (TestProxy proxy = start("  limits: {client-output-buffer: 4mb}\n");
             Jedis setup = new Jedis(proxy.host(), proxy.port())) {
            setup.set("big".getBytes(StandardCharsets.UTF_8), new byte[1024 * 1024]);
            try (Socket slow = new Socket()) {
                slow.setReceiveBufferSize(4096);
                slow.connect(new InetSocketAddress(proxy.host(), proxy.port()));
                OutputStream out = slow.getOutputStream();
                byte[] get = RawRedisClient.encode("GET", "big");
                for (int i = 0; i < 100; i++) {        // 100 MB of replies, never read
                    out.write(get);
                }
                out.flush();
                Thread.sleep(1500);
                try (Jedis other = new Jedis(proxy.host(), proxy.port())) {
                    assertThat(other.ping()).isEqualTo("PONG");
                    assertThat(other.strlen("big")).isEqualTo(1024 * 1024);
                }
                boolean[] closed = new boolean[1];
                long read = drain(slow, 5000, closed);
                assertThat(closed[0]).as("the proxy closed the slow client").isTrue();
                assertThat(read).as("it got far less than the 100 MB it asked for").isLessThan(50L * 1024 * 1024);
            }
        }
    }

    @Test
    void shouldCloseIdleClientsAfterTheIdleTimeout() throws Exception {
        try (TestProxy proxy = start("  idle-timeout: 1s\n");
             Socket idle = new Socket(proxy.host(), proxy.port())) {
            idle.getOutputStream().write(RawRedisClient.encode("PING"));
            boolean[] closed = new boolean[1];
            long read = drain(idle, 4000, closed);
            assertThat(read).isEqualTo("+PONG\r\n".length());
            assertThat(closed[0]).as("closed after about 1 s of idleness").isTrue();
        }
    }
}
