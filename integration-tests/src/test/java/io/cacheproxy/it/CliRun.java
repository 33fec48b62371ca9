package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cacheproxy.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine;

/** Runs the {@code cacheproxy} CLI in this JVM, as {@link Main} registers it, with its output captured. */
final class CliRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CliRun() {
    }

    /** What a run printed and returned. */
    record Outcome(int exitCode, String out, String err) {
        List<String> outLines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\n"));
        }

        /** The single JSON line a successful {@code --json} run printed. */
        JsonNode json() throws Exception {
            assertThat(exitCode).as("exit code; stderr: %s", err).isZero();
            assertThat(out.lines()).as("one JSON line").hasSize(1);
            return JSON.readTree(out);
        }
    }

    /** Through picocli's own writers: for commands that print with {@code spec.commandLine().getOut()}. */
    static Outcome inProcess(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Outcome(code, out.toString(), err.toString());
    }

    /**
     * Through {@link Main#execute} with {@code System.out} and {@code System.err} captured, for
     * commands that print there; one run at a time in this JVM.
     */
    static synchronized Outcome capturingStdStreams(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.execute(args);
        } finally {
            System.out.flush();
            System.err.flush();
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
