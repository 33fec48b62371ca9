package io.cacheproxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

class LogFormatTest {
    private final PrintStream stdout = System.out;

    @AfterEach
    void restore() {
        System.setOut(stdout);
        LogFormat.use("text");
        System.clearProperty("CACHEPROXY_LOG_FORMAT");
    }

    /** Logs one line at INFO from a proxy logger with the format in use, and returns what reached stdout. */
    private String logOneLine(String format) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        LogFormat.use(format);      // the console appender is made again, on the captured stdout
        LoggerFactory.getLogger("io.cacheproxy.proxy.ProxyServer").info("pool {}, node {}: ejected", "main", "127.0.0.1:7001");
        System.setOut(stdout);
        return captured.toString(StandardCharsets.UTF_8).strip();
    }

    @Test
    void shouldLogOneJsonObjectPerLineWithTheFormattedMessage() throws Exception {
        String line = logOneLine("json");
        assertThat(line).doesNotContain("\n");
        JsonNode event = new ObjectMapper().readTree(line);
        assertThat(event.path("level").asText()).isEqualTo("INFO");
        assertThat(event.path("loggerName").asText()).isEqualTo("io.cacheproxy.proxy.ProxyServer");
        assertThat(event.path("formattedMessage").asText()).isEqualTo("pool main, node 127.0.0.1:7001: ejected");
    }

    @Test
    void shouldLogTextLinesByDefault() {
        String line = logOneLine("text");
        assertThat(line).endsWith("INFO  [main] i.c.proxy.ProxyServer - pool main, node 127.0.0.1:7001: ejected");
        assertThat(line).doesNotStartWith("{");
    }

    @Test
    void shouldRefuseAnUnknownFormatAsAUsageError() {
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setErr(new PrintWriter(err))
                .execute("run", "--config", "no-such-file.yaml", "--log-format", "xml");
        assertThat(code).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("--log-format: xml (expected: text or json)");
    }
}
