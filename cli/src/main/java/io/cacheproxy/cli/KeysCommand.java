package io.cacheproxy.cli;

import io.cacheproxy.config.ConfigError;
import io.cacheproxy.config.ConfigException;
import io.cacheproxy.config.Durations;
import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespProtocolException;
import io.cacheproxy.resp.RespValue;
import io.cacheproxy.resp.RespValue.ArrayValue;
import io.cacheproxy.resp.RespValue.BulkString;
import io.cacheproxy.resp.RespValue.ErrorValue;
import io.cacheproxy.resp.RespValue.IntegerValue;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cacheproxy keys scan|delete|expire --pattern P}: pattern operations on every key a running
 * proxy serves. They speak RESP to the proxy ({@code --target}), whose {@code SCAN} walks every shard
 * with one cursor and lists each key once in a replicated pool; each SCAN page ({@code COUNT --batch})
 * is then acted on before the next is asked for: one {@code UNLINK} per page (the proxy splits it by
 * shard), or one pipelined {@code PEXPIRE} per key. Like any SCAN, a key that exists for the whole run
 * is seen, and one created or deleted meanwhile may or may not be; a key may be listed twice if the
 * keyspace is resized during the run.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
        subcommands = {KeysCommand.Scan.class, KeysCommand.Delete.class, KeysCommand.Expire.class},
        description = {"Pattern operations across every shard, through the proxy: SCAN-based and batched.",
                "Exit codes: 0 ok, 1 runtime error (unreachable target, error reply), 2 usage error."},
        footer = {"", "Examples:",
            "  cacheproxy keys scan --pattern 'session:*'",
            "  cacheproxy keys delete --pattern 'tmp:*' --dry-run",
            "  cacheproxy keys expire --pattern 'cache:*' --ttl 10m --target 127.0.0.1:6380"})
final class KeysCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("cacheproxy keys: missing subcommand: scan, delete or expire");
        spec.commandLine().usage(spec.commandLine().getErr());
        return Main.EXIT_USAGE;
    }

    /** The options every subcommand takes. */
    static final class Options {
        @Option(names = "--pattern", required = true, paramLabel = "PATTERN",
                description = "glob-style pattern, as SCAN MATCH takes it, e.g. 'session:*'")
        String pattern;

        @Option(names = "--target", defaultValue = "127.0.0.1:6380", paramLabel = "HOST:PORT",
                description = "the proxy's RESP address (server.listen; default: ${DEFAULT-VALUE})")
        String target;

        @Option(names = "--password", paramLabel = "PASSWORD",
                description = "send AUTH with this password first, if the proxy requires one")
        String password;

        @Option(names = "--batch", defaultValue = "1000", paramLabel = "N",
                description = "SCAN COUNT, and the keys of one UNLINK or of one pipelined batch of PEXPIREs "
                        + "(default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--no-progress", description = "no progress line on stderr")
        boolean noProgress;
    }

    /** Runs the SCAN loop; a subclass decides what to do with each page of keys. */
    abstract static class PatternCommand implements Callable<Integer> {
        private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
        private static final int READ_TIMEOUT_MILLIS = 30_000;

        @Mixin
        Options options;

        @Spec
        CommandSpec spec;

        /** Checks this subcommand's own options; throws {@link IllegalArgumentException} for a usage error. */
        void validate() {
        }

        /** Acts on one page of keys and returns how many it touched (listed, deleted, given a TTL). */
        abstract long apply(Connection connection, List<byte[]> keys, PrintWriter out) throws IOException, Failure;

        /** Prints the outcome once the scan has finished. */
        abstract void summary(long matched, long touched, PrintWriter out, PrintWriter err);

        final String name() {
            return "cacheproxy keys " + spec.name();
        }

        @Override
        public final Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            HostAndPort target;
            try {
                if (options.batch < 1) {
                    throw new IllegalArgumentException("--batch: " + options.batch + " (expected: >= 1)");
                }
                target = parse("--target", options.target, HostAndPort::parse);
                validate();
            } catch (IllegalArgumentException e) {
                return fail(err, e.getMessage(), Main.EXIT_USAGE);
            }
            Progress progress = new Progress(err, !options.noProgress && Terminal.isTerminal());
            long matched = 0;
            long touched = 0;
            Connection connection;
            try {
                connection = Connection.open(target, CONNECT_TIMEOUT_MILLIS, READ_TIMEOUT_MILLIS);
            } catch (IOException e) {
                return fail(err, "cannot connect to " + target + " (" + message(e)
                        + "); is the proxy running, and is --target its server.listen?", Main.EXIT_RUNTIME);
            }
            try (connection) {
                if (options.password != null) {
                    RespValue reply = connection.call(List.of(ascii("AUTH"), utf8(options.password)));
                    if (reply instanceof ErrorValue error) {
                        throw new Failure("AUTH answered " + error.message());
                    }
                }
                byte[] cursor = ascii("0");
                do {
                    RespValue reply = connection.call(List.of(ascii("SCAN"), cursor, ascii("MATCH"), utf8(options.pattern),
                            ascii("COUNT"), ascii(Integer.toString(options.batch))));
                    if (!(reply instanceof ArrayValue(List<RespValue> page)) || page == null || page.size() != 2
                            || !(page.get(0) instanceof BulkString(byte[] next)) || next == null
                            || !(page.get(1) instanceof ArrayValue(List<RespValue> found)) || found == null) {
                        throw new Failure("SCAN answered " + describe(reply));
                    }
                    List<byte[]> keys = new ArrayList<>(found.size());
                    for (RespValue key : found) {
                        if (!(key instanceof BulkString(byte[] bytes)) || bytes == null) {
                            throw new Failure("SCAN answered a key that is not a string: " + describe(key));
                        }
                        keys.add(bytes);
                    }
                    matched += keys.size();
                    if (!keys.isEmpty()) {
                        touched += apply(connection, keys, out);
                        out.flush();
                    }
                    progress.show(matched, touched);
                    cursor = next;
                } while (!new String(cursor, StandardCharsets.US_ASCII).equals("0"));
            } catch (SocketTimeoutException e) {
                progress.clear();
                return fail(err, "no reply from " + target + " within " + READ_TIMEOUT_MILLIS / 1000 + "s (after "
                        + matched + " keys)", Main.EXIT_RUNTIME);
            } catch (IOException | RespProtocolException e) {
                progress.clear();
                return fail(err, "lost the connection to " + target + " (" + message(e) + ") after " + matched
                        + " keys", Main.EXIT_RUNTIME);
            } catch (Failure e) {
                progress.clear();
                return fail(err, e.getMessage() + (matched > 0 ? " (after " + matched + " keys)" : ""), Main.EXIT_RUNTIME);
            }
            progress.clear();
            out.flush();
            summary(matched, touched, out, err);
            out.flush();
            err.flush();
            return Main.EXIT_OK;
        }

        /** Lists keys on stdout, one per line (as UTF-8), and counts them. */
        static long list(List<byte[]> keys, PrintWriter out) {
            for (byte[] key : keys) {
                out.println(new String(key, StandardCharsets.UTF_8));
            }
            return keys.size();
        }

        final String quotedPattern() {
            return "'" + options.pattern + "'";
        }

        private int fail(PrintWriter err, String message, int exitCode) {
            err.println(name() + ": " + message);
            err.flush();
            return exitCode;
        }
    }

    @Command(name = "scan", mixinStandardHelpOptions = true,
            description = "List the keys matching --pattern on stdout, one per line; their count goes to stderr.")
    static final class Scan extends PatternCommand {
        @Override
        long apply(Connection connection, List<byte[]> keys, PrintWriter out) {
            return list(keys, out);
        }

        @Override
        void summary(long matched, long touched, PrintWriter out, PrintWriter err) {
            err.printf("%d keys match %s%n", matched, quotedPattern());
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Delete the keys matching --pattern: one UNLINK per SCAN page.",
                    "With --dry-run, list them on stdout instead (their count goes to stderr) and delete nothing."})
    static final class Delete extends PatternCommand {
        @Option(names = "--dry-run", description = "list and count the keys, delete nothing")
        boolean dryRun;

        @Override
        long apply(Connection connection, List<byte[]> keys, PrintWriter out) throws IOException, Failure {
            if (dryRun) {
                return list(keys, out);
            }
            List<byte[]> command = new ArrayList<>(keys.size() + 1);
            command.add(ascii("UNLINK"));
            command.addAll(keys);
            RespValue reply = connection.call(command);
            if (!(reply instanceof IntegerValue(long deleted))) {
                throw new Failure("UNLINK answered " + describe(reply));
            }
            return deleted;
        }

        @Override
        void summary(long matched, long touched, PrintWriter out, PrintWriter err) {
            if (dryRun) {
                err.printf("dry run: %d keys match %s; none deleted%n", matched, quotedPattern());
            } else {
                out.printf("deleted %d keys (%d matched %s)%n", touched, matched, quotedPattern());
            }
        }
    }

    @Command(name = "expire", mixinStandardHelpOptions = true,
            description = {"Give the keys matching --pattern a time to live: one PEXPIRE per key, pipelined per SCAN page.",
                    "With --dry-run, list them on stdout instead (their count goes to stderr) and change nothing."})
    static final class Expire extends PatternCommand {
        @Option(names = "--ttl", required = true, paramLabel = "DURATION",
                description = "the time to live, e.g. 30s, 10m or 1d (at least 1ms)")
        String ttl;

        @Option(names = "--dry-run", description = "list and count the keys, change nothing")
        boolean dryRun;

        private Duration duration;

        @Override
        void validate() {
            duration = parse("--ttl", ttl, Durations::parse);
            if (duration.toMillis() < 1) {
                throw new IllegalArgumentException("--ttl: " + ttl + " (expected: at least 1ms; a TTL of 0 would delete the keys)");
            }
        }

        @Override
        long apply(Connection connection, List<byte[]> keys, PrintWriter out) throws IOException, Failure {
            if (dryRun) {
                return list(keys, out);
            }
            byte[] millis = ascii(Long.toString(duration.toMillis()));
            List<List<byte[]>> commands = new ArrayList<>(keys.size());
            for (byte[] key : keys) {
                commands.add(List.of(ascii("PEXPIRE"), key, millis));
            }
            long set = 0;
            for (RespValue reply : connection.pipeline(commands)) {
                if (!(reply instanceof IntegerValue(long n))) {
                    throw new Failure("PEXPIRE answered " + describe(reply));
                }
                set += n;
            }
            return set;
        }

        @Override
        void summary(long matched, long touched, PrintWriter out, PrintWriter err) {
            if (dryRun) {
                err.printf("dry run: %d keys match %s; no TTL set%n", matched, quotedPattern());
            } else {
                out.printf("set a TTL of %s on %d keys (%d matched %s)%n", Durations.format(duration), touched, matched,
                        quotedPattern());
            }
        }
    }

    /** An error reply or a reply of the wrong shape; the message is the one line the user sees. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * One blocking RESP2 connection: commands are written as RESP arrays, replies are framed and
     * parsed by the codec's {@link RespValue#read}. Not thread-safe.
     */
    static final class Connection implements AutoCloseable {
        private static final int READ_CHUNK = 64 * 1024;

        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final ByteBuf received = Unpooled.buffer(READ_CHUNK);

        private Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = new BufferedOutputStream(socket.getOutputStream(), READ_CHUNK);
        }

        static Connection open(HostAndPort address, int connectTimeoutMillis, int readTimeoutMillis) throws IOException {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(address.host(), address.port()), connectTimeoutMillis);
                socket.setSoTimeout(readTimeoutMillis);
                socket.setTcpNoDelay(true);
                return new Connection(socket);
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        }

        RespValue call(List<byte[]> command) throws IOException {
            return pipeline(List.of(command)).get(0);
        }

        /** Sends all commands in one write, then reads their replies, in order. */
        List<RespValue> pipeline(List<List<byte[]>> commands) throws IOException {
            ByteBuf request = Unpooled.buffer();
            try {
                for (List<byte[]> command : commands) {
                    RespWriter.writeCommand(request, command.toArray(byte[][]::new));
                }
                request.readBytes(out, request.readableBytes());
                out.flush();
            } finally {
                request.release();
            }
            List<RespValue> replies = new ArrayList<>(commands.size());
            while (replies.size() < commands.size()) {
                replies.add(read());
            }
            return replies;
        }

        private RespValue read() throws IOException {
            while (true) {
                RespValue reply = RespValue.read(received, RespLimits.DEFAULTS);
                if (reply != null) {
                    if (!received.isReadable()) {
                        received.clear();
                    }
                    return reply;
                }
                received.discardReadBytes();
                if (received.writeBytes(in, READ_CHUNK) < 0) {
                    throw new IOException("the server closed the connection");
                }
            }
        }

        @Override
        public void close() {
            received.release();
            try {
                socket.close();
            } catch (IOException e) {
                // nothing left to do with it
            }
        }
    }

    /**
     * {@code scanned 12,000 keys  deleted 11,000  8,100 keys/s} on stderr, redrawn in place at most
     * every 200 ms and erased at the end; prints nothing when disabled.
     */
    static final class Progress {
        private static final long REDRAW_NANOS = 200_000_000L;

        private final PrintWriter err;
        private final boolean enabled;
        private final long start = System.nanoTime();
        private long lastDraw;
        private int shown;

        Progress(PrintWriter err, boolean enabled) {
            this.err = err;
            this.enabled = enabled;
        }

        void show(long matched, long touched) {
            long now = System.nanoTime();
            if (!enabled || now - lastDraw < REDRAW_NANOS) {
                return;
            }
            lastDraw = now;
            double rate = matched * 1e9 / Math.max(1, now - start);
            String line = String.format("scanned %,d keys  done %,d  %,.0f keys/s", matched, touched, rate);
            err.print("\r" + line + " ".repeat(Math.max(0, shown - line.length())));
            err.flush();
            shown = line.length();
        }

        void clear() {
            if (shown > 0) {
                err.print("\r" + " ".repeat(shown) + "\r");
                err.flush();
                shown = 0;
            }
        }
    }

    /** Parses with a config parser, naming the option instead of the config key in the message. */
    static <T> T parse(String option, String text, Function<String, T> parser) {
        try {
            return parser.apply(text);
        } catch (ConfigException e) {
            ConfigError error = e.errors().get(0);
            throw new IllegalArgumentException(new ConfigError(option, error.value(), error.reason()).toString(), e);
        }
    }

    private static String message(Exception e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    static String describe(RespValue reply) {
        return reply instanceof ErrorValue(String message) ? message : reply.toString();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
