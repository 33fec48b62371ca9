package io.cacheproxy.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits until a server answers {@code PING} with {@code +PONG}. */
final class Ping {
    private Ping() {
    }

    /** True if {@code host:port} answers {@code +PONG} within about {@code timeout}. */
    static boolean once(String host, int port, Duration timeout) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] expected = "+PONG\r\n".getBytes(StandardCharsets.US_ASCII);
            InputStream in = socket.getInputStream();
            for (byte b : expected) {
                if (in.read() != b) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Polls until {@code host:port} answers; fails early when {@code alive} turns false, with
     * {@code diagnostics} (e.g. the server's log) in the message.
     */
    static void await(String host, int port, Duration timeout, BooleanSupplier alive, Supplier<String> diagnostics) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!alive.getAsBoolean()) {
                throw new IllegalStateException("Redis on " + host + ":" + port + " exited before answering PING\n"
                        + diagnostics.get());
            }
            if (once(host, port, Duration.ofMillis(500))) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Redis on " + host + ":" + port, e);
            }
        }
        throw new IllegalStateException("Redis on " + host + ":" + port + " did not answer PING within " + timeout
                + "\n" + diagnostics.get());
    }
}
