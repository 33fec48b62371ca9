package io.cacheproxy.cli.bench;

import io.cacheproxy.config.HostAndPort;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * How many commands a Redis server processed during the measured interval: the difference of
 * {@code total_commands_processed} in {@code INFO stats} before and after, less the first INFO itself.
 * Pointed at the backends behind a proxy, it shows how many commands reached them (a near-cache hit
 * reaches none). Other clients of that server are counted too. One short blocking connection per
 * sample.
 */
final class BackendCommands extends IntervalCounter {

    private static final String FIELD = "total_commands_processed:";
    private static final int TIMEOUT_MILLIS = 5_000;

    private final HostAndPort address;

    BackendCommands(HostAndPort address) {
        this.address = address;
    }

    HostAndPort address() {
        return address;
    }

    /** Commands processed in between, not counting the INFO that took the first sample. */
    long commands() {
        return Math.max(0, delta() - 1);
    }

    @Override
    long sample() throws BenchFailure {
        try {
            return parse(infoStats(address));
        } catch (IOException | IllegalArgumentException e) {
            throw new BenchFailure("--info-stats " + address + ": " + e.getMessage());
        }
    }

    static String infoStats(HostAndPort address) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address.host(), address.port()), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            OutputStream out = socket.getOutputStream();
            out.write("*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String header = readLine(in);
            if (!header.startsWith("$") && !header.startsWith("=")) {
                throw new IOException("INFO stats answered " + header);
            }
            int length = Integer.parseInt(header.substring(1));
            byte[] body = in.readNBytes(length);
            if (body.length < length) {
                throw new IOException("the connection closed in the INFO reply");
            }
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new IOException("the connection closed before the INFO reply");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    /** {@code total_commands_processed} from the text of {@code INFO} or {@code INFO stats}. */
    static long parse(String info) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(FIELD)) {
                return Long.parseLong(line.substring(FIELD.length()).strip());
            }
        }
        throw new IllegalArgumentException("no " + FIELD.substring(0, FIELD.length() - 1) + " in INFO stats");
    }
}
