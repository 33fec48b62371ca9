package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stock {@code redis-cli} against the proxy: plain commands, {@code --pipe} mass insertion and
 * RESP3 output ({@code -3}). Where the output format matters, it is compared with what the same
 * {@code redis-cli} prints against Redis directly.
 */
class RedisCliIT {

    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    @RegisterExtension
    static final RedisExtension reference = new RedisExtension();

    @RegisterExtension
    static final ProxyExtension proxy = ProxyExtension.singlePool(redis, "admin-commands: pass");

    @TempDir
    Path tmp;

    record Result(int exitCode, String stdout) {
    }

    @BeforeEach
    void flush() {
        for (RedisExtension server : List.of(redis, reference)) {
            try (RawRedisClient direct = server.connect()) {
                assertThat(direct.callString("FLUSHALL")).isEqualTo("+OK\r\n");
            }
        }
    }

    private Result cli(int port, byte[] stdin, String... args) {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        try {
            Path input = Files.write(Files.createTempFile(tmp, "stdin", ".txt"), stdin);
            Path output = Files.createTempFile(tmp, "stdout", ".txt");
            Process process;
            try {
                process = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectInput(input.toFile()).redirectOutput(output.toFile()).start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot run redis-cli: it must be on PATH (it comes with redis-server, "
                        + "e.g. 'apt-get install redis-tools')", e);
            }
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("redis-cli " + String.join(" ", args) + " did not finish within 30 s; output:\n"
                        + Files.readString(output));
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Result cli(int port, String... args) {
        return cli(port, new byte[0], args);
    }

    @Test
    void shouldSetAndGet() {
        assertThat(cli(proxy.port(), "SET", "greeting", "hello world")).isEqualTo(new Result(0, "OK\n"));
        assertThat(cli(proxy.port(), "GET", "greeting")).isEqualTo(new Result(0, "hello world\n"));
        assertThat(cli(proxy.port(), "GET", "missing")).isEqualTo(new Result(0, "\n"));
        assertThat(cli(proxy.port(), "INCRBY", "n", "42")).isEqualTo(new Result(0, "42\n"));
        assertThat(cli(proxy.port(), "RPUSH", "l", "a", "b")).isEqualTo(new Result(0, "2\n"));
        assertThat(cli(proxy.port(), "LRANGE", "l", "0", "-1")).isEqualTo(new Result(0, "a\nb\n"));
        cli(reference.port(), "SET", "greeting", "hello world");
        Result error = cli(proxy.port(), "LPUSH", "greeting", "x");
        assertThat(error.stdout()).startsWith("WRONGTYPE Operation against a key holding the wrong kind of value\n");
        assertThat(error).isEqualTo(cli(reference.port(), "LPUSH", "greeting", "x"));
        try (RawRedisClient direct = redis.connect()) {
            assertThat(direct.callString("GET", "greeting")).isEqualTo("$11\r\nhello world\r\n");
        }
    }

    @Test
    void shouldMassInsertWithPipeMode() {
        ByteArrayOutputStream commands = new ByteArrayOutputStream();
        for (int i = 0; i < 9_990; i++) {
            commands.writeBytes(RawRedisClient.encode("SET", "pipe:" + i, "value-" + i));
        }
        for (int i = 0; i < 10; i++) {
            commands.writeBytes(RawRedisClient.encode("LPUSH", "pipe:0", "not-a-list"));
        }
        Result result = cli(proxy.port(), commands.toByteArray(), "--pipe");
        assertThat(result.exitCode()).as(result.stdout()).isEqualTo(1); // redis-cli --pipe exits 1 when a reply was an error
        assertThat(result.stdout()).contains("All data transferred")
                .contains("Last reply received from server.")
                .contains("errors: 10, replies: 10000");

        Result clean = cli(proxy.port(), RawRedisClient.encode("SET", "pipe:last", "x"), "--pipe");
        assertThat(clean.stdout()).contains("errors: 0, replies: 1");
        assertThat(clean.exitCode()).isZero();

        try (RawRedisClient direct = redis.connect()) {
            assertThat(direct.callString("DBSIZE")).isEqualTo(":9991\r\n");
            assertThat(direct.callString("GET", "pipe:9989")).isEqualTo("$10\r\nvalue-9989\r\n");
        }
    }

    @Test
    void shouldPrintResp3MapsLikeRedis() {
        for (int port : new int[] {proxy.port(), reference.port()}) {
            assertThat(cli(port, "HSET", "h", "f1", "v1", "f2", "v2").stdout()).isEqualTo("2\n");
        }
        Result throughProxy = cli(proxy.port(), "-3", "HGETALL", "h");
        Result direct = cli(reference.port(), "-3", "HGETALL", "h");
        assertThat(throughProxy).isEqualTo(direct);
        assertThat(throughProxy.stdout()).isEqualTo("f1 v1\nf2 v2\n"); // a RESP3 map: one "key value" per line
        assertThat(cli(proxy.port(), "-2", "HGETALL", "h").stdout()).isEqualTo("f1\nv1\nf2\nv2\n");
        for (int port : new int[] {proxy.port(), reference.port()}) {
            assertThat(cli(port, "-3", "ZADD", "z", "1.5", "m").stdout()).isEqualTo("1\n");
        }
        Result score = cli(proxy.port(), "-3", "ZSCORE", "z", "m"); // a RESP3 double
        assertThat(score).isEqualTo(cli(reference.port(), "-3", "ZSCORE", "z", "m"));
        assertThat(score.stdout()).isEqualTo("1.5\n");
    }
}
