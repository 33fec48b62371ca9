package io.cacheproxy.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** Options and usage errors of {@code cacheproxy bench} (nothing here opens a connection). */
class BenchCommandTest {

    record Outcome(int exitCode, String out, String err) {
    }

    /** Runs {@code cacheproxy args...} with its output captured: the command as registered in {@link Main}. */
    private static Outcome execute(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Outcome(code, out.toString(), err.toString());
    }

    @Test
    void helpShouldListTheOptions() {
        Outcome outcome = execute("bench", "--help");
        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.out()).contains("--target=HOST:PORT", "--clients=N", "--pipeline=P", "--duration",
                "--requests", "--keys", "--distribution=uniform|zipf", "--zipf-exponent", "--read-ratio",
                "--value-size", "--prefill", "--warmup", "--cpu-pid=NAME=PID", "--info-stats", "--json",
                "--no-progress", "(default: 127.0.0.1:6380)");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--clients 0            | --clients: 0 (expected: >= 1)",
        "--pipeline 0           | --pipeline: 0 (expected: 1 to 65536)",
        "--threads 0            | --threads: 0 (expected: >= 1)",
        "--duration 5           | --duration: 5 (expected: a unit after the number (ms, s, m, h or d), e.g. 5s)",
        "--duration 0s          | --duration: 0s (expected: > 0, e.g. 10s)",
        "--warmup soon          | --warmup: soon (expected: a whole number and a unit",
        "--requests 0           | --requests: 0 (expected: >= 1)",
        "--requests 5 --duration 1s | --duration and --requests: give one of them, not both",
        "--keys 0               | --keys: 0 (expected: >= 1)",
        "--distribution pareto  | --distribution: pareto (expected: uniform or zipf)",
        "--zipf-exponent 0      | --zipf-exponent: 0.0 (expected: > 0 and <= 100, e.g. 0.99)",
        "--read-ratio 1.5       | --read-ratio: 1.5 (expected: 0.0 to 1.0)",
        "--value-size -1        | --value-size: -1 (expected: 0 to 536870912)",
        "--target nohost        | --target: nohost (expected: host:port, e.g. 127.0.0.1:6380)",
        "--target 127.0.0.1:0   | --target: 127.0.0.1:0 (expected: host:port with a port 1..65535)",
        "--info-stats x:y       | --info-stats: x:y (expected: host:port with a port 0..65535)",
        "--transport carrier-pigeon | --transport: carrier-pigeon (expected: auto, io_uring, epoll or nio)",
        "--cpu-pid ghost=999999999 | --cpu-pid: cannot read the CPU time of ghost (pid 999999999)",
    })
    void shouldExitTwoWithOneLineForABadOption(String args, String message) {
        Outcome outcome = execute(("bench " + args.strip()).split(" +"));
        assertThat(outcome.exitCode()).as(outcome.toString()).isEqualTo(Main.EXIT_USAGE);
        assertThat(outcome.err()).startsWith("cacheproxy bench: " + message.strip());
        assertThat(outcome.err().strip().lines()).as("one line").hasSize(1);
        assertThat(outcome.out()).isEmpty();
    }

    @Test
    void shouldExitTwoForAnOptionPicocliCannotParse() {
        Outcome outcome = execute("bench", "--clients", "many");
        assertThat(outcome.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(outcome.err()).contains("--clients").contains("many");
    }
}
