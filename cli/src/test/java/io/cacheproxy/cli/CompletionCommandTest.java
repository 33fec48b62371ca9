package io.cacheproxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code cacheproxy completion}: the script covers the subcommands and bash accepts it. */
class CompletionCommandTest {

    private static String runCompletion() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("completion");
        assertThat(code).as(err.toString()).isZero();
        assertThat(err.toString()).isEmpty();
        return out.toString();
    }

    @Test
    void shouldPrintACompletionScriptNamingEverySubcommand() {
        String script = runCompletion();
        assertThat(script).contains("complete -F _complete_cacheproxy");
        for (String command : new String[] {"nodes", "status", "keys", "reload", "bench", "hotkeys", "completion"}) {
            assertThat(script).as(command).containsPattern("\\b" + command + "\\b");
        }
        // options of a nested command come from the real model, not a hand-written list
        assertThat(script).contains("--dry-run").contains("--pattern").contains("--interval");
    }

    @Test
    void shouldPrintAScriptThatBashParses(@TempDir Path dir) throws IOException, InterruptedException {
        Path bash = findOnPath("bash");
        // the build runs where bash is (.ci/run and ./cacheproxy are bash scripts): a missing one fails, not skips
        assertThat(bash).as("bash on PATH").isNotNull();
        Path file = dir.resolve("cacheproxy-completion.bash");
        Files.writeString(file, runCompletion(), StandardCharsets.UTF_8);
        Process check = new ProcessBuilder(bash.toString(), "-n", file.toString()).redirectErrorStream(true).start();
        assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.exitValue()).as(output).isZero();
    }

    @Test
    void shouldExplainHowToLoadTheScriptInItsHelp() {
        StringWriter out = new StringWriter();
        new CommandLine(new Main()).setOut(new PrintWriter(out)).execute("completion", "--help");
        assertThat(out.toString()).contains("source <(cacheproxy completion)");
    }

    private static Path findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
