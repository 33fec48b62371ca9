package io.cacheproxy.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A RESP client that shows the wire: it sends bytes as given and returns each reply as the exact
 * bytes received, so tests can compare replies byte for byte.
 *
 * <p>{@link #readReply()} reads exactly one complete reply, whatever its type (RESP2 and RESP3,
 * nested aggregates, attributes together with the value they annotate, push messages). Its small
 * parser is independent of the proxy's codec on purpose: a bug there must not hide itself here.
 *
 * <p>Every read has a timeout (5 s unless {@link #timeout(Duration) changed}), so a hang fails the
 * test instead of stalling it. Not thread-safe, except that one thread may {@link #send} while
 * another reads.
 */
public final class RawRedisClient implements AutoCloseable {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawRedisClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.out = socket.getOutputStream();
    }

    public static RawRedisClient connect(String host, int port) {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), (int) DEFAULT_TIMEOUT.toMillis());
            socket.setSoTimeout((int) DEFAULT_TIMEOUT.toMillis());
            return new RawRedisClient(socket);
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("cannot connect to " + host + ":" + port, e);
        }
    }

    /** Sets the read timeout of every later read. */
    public RawRedisClient timeout(Duration timeout) {
        try {
            socket.setSoTimeout((int) timeout.toMillis());
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Sends {@code args} as a RESP array of bulk strings (UTF-8) and returns the reply's bytes. */
    public byte[] call(String... args) {
        return call(utf8(args));
    }

    /** Sends {@code args} as a RESP array of bulk strings and returns the reply's bytes. */
    public byte[] call(byte[]... args) {
        send(encode(args));
        return readReply();
    }

    /** {@link #call(String...)} with the reply as text (UTF-8, CRLFs kept). */
    public String callString(String... args) {
        return text(call(args));
    }

    /** Writes {@code bytes} as they are (inline commands, pipelines, garbage). */
    public void send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("write failed", e);
        }
    }

    public void send(String raw) {
        send(raw.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads exactly one complete reply and returns its bytes.
     *
     * @throws UncheckedIOException wrapping {@link EOFException} if the peer closed the connection, or
     *                              {@link SocketTimeoutException} if the reply did not come in time
     */
    public byte[] readReply() {
        ByteArrayOutputStream reply = new ByteArrayOutputStream();
        try {
            readValue(reply, 0);
        } catch (IOException e) {
            throw new UncheckedIOException("reading a reply failed after " + reply.size() + " bytes: "
                    + escape(reply.toByteArray()), e);
        }
        return reply.toByteArray();
    }

    /** {@link #readReply()} as text. */
    public String readString() {
        return text(readReply());
    }

    /**
     * Waits up to {@code timeout} for the peer to close the connection; any bytes that arrive first
     * make it return false (they are consumed).
     */
    public boolean isClosedByPeer(Duration timeout) {
        try {
            int old = socket.getSoTimeout();
            socket.setSoTimeout((int) timeout.toMillis());
            try {
                return in.read() == -1;
            } finally {
                socket.setSoTimeout(old);
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // connection reset: closed as well
        }
    }

    /**
     * Reads everything the peer sends until it closes the connection; fails if it is still open
     * after {@code timeout}.
     */
    public byte[] readUntilClosed(Duration timeout) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            byte[] buffer = new byte[8192];
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException("connection still open after " + timeout);
                }
                socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketException e) {
                    return all.toByteArray(); // reset by peer counts as closed
                }
                if (n < 0) {
                    return all.toByteArray();
                }
                all.write(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("received " + escape(all.toByteArray()) + " and then", e);
        }
    }

    private void readValue(ByteArrayOutputStream reply, int depth) throws IOException {
        if (depth > 64) {
            throw new IOException("reply nested more than 64 levels");
        }
        int type = in.read();
        if (type < 0) {
            throw new EOFException("connection closed by peer");
        }
        reply.write(type);
        String line = readLine(reply);
        switch (type) {
            case '+', '-', ':', ',', '(', '#', '_' -> {
                // the line is the whole value
            }
            case '$', '!', '=' -> {
                long length = Long.parseLong(line);
                if (length >= 0) {
                    copy(length, reply);
                    int cr = in.read();
                    int lf = in.read();
                    if (cr != '\r' || lf != '\n') {
                        throw new IOException("no CRLF after bulk data of " + length + " bytes");
                    }
                    reply.write(cr);
                    reply.write(lf);
                }
            }
            case '*', '~', '>', '%', '|' -> {
                long n = Long.parseLong(line);
                long elements = type == '%' || type == '|' ? 2 * n : n;
                for (long i = 0; i < elements; i++) {
                    readValue(reply, depth + 1);
                }
                if (type == '|') {
                    readValue(reply, depth + 1); // the value the attribute annotates
                }
            }
            default -> throw new IOException("unknown reply type byte 0x" + Integer.toHexString(type));
        }
    }

    private String readLine(ByteArrayOutputStream reply) throws IOException {
        StringBuilder line = new StringBuilder();
        for (;;) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed inside a reply line");
            }
            reply.write(b);
            if (b == '\r') {
                int lf = in.read();
                if (lf < 0) {
                    throw new EOFException("connection closed inside a reply line");
                }
                reply.write(lf);
                if (lf != '\n') {
                    throw new IOException("CR not followed by LF");
                }
                return line.toString();
            }
            line.append((char) b);
        }
    }

    private void copy(long length, ByteArrayOutputStream reply) throws IOException {
        byte[] buffer = new byte[8192];
        long left = length;
        while (left > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new EOFException("connection closed inside a bulk string");
            }
            reply.write(buffer, 0, n);
            left -= n;
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    /** Encodes a command as a RESP array of bulk strings. */
    public static byte[] encode(byte[]... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (byte[] arg : args) {
            b.writeBytes(("$" + arg.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            b.writeBytes(arg);
            b.writeBytes(new byte[] {'\r', '\n'});
        }
        return b.toByteArray();
    }

    public static byte[] encode(String... args) {
        return encode(utf8(args));
    }

    static byte[][] utf8(String... args) {
        byte[][] bytes = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            bytes[i] = args[i].getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }

    public static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A printable form of {@code bytes} ({@code \r \n \xHH}), cut after {@code max} bytes. */
    public static String escape(byte[] bytes, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, max); i++) {
            int c = bytes[i] & 0xff;
            switch (c) {
                case '\r' -> b.append("\\r");
                case '\n' -> b.append("\\n");
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                default -> {
                    if (c >= 0x20 && c < 0x7f) {
                        b.append((char) c);
                    } else {
                        b.append(String.format("\\x%02x", c));
                    }
                }
            }
        }
        if (bytes.length > max) {
            b.append("...(").append(bytes.length).append(" bytes)");
        }
        return b.toString();
    }

    public static String escape(byte[] bytes) {
        return escape(bytes, 600);
    }
}
