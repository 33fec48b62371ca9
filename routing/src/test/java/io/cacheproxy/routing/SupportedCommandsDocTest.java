package io.cacheproxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SupportedCommandsDocTest {
    private static final Path DOC = Path.of("..", "docs", "supported-commands.md");

    @Test
    void shouldMatchTheCheckedInDocument() throws IOException {
        String rendered = SupportedCommandsDoc.render(CommandTable.standard());
        if (Boolean.getBoolean("cacheproxy.updateDocs") || !Files.exists(DOC)) {
            Files.createDirectories(DOC.getParent());
            Files.writeString(DOC, rendered, StandardCharsets.UTF_8);
        }
        assertThat(Files.readString(DOC, StandardCharsets.UTF_8))
                .as("docs/supported-commands.md is stale: run the routing tests with -Dcacheproxy.updateDocs=true")
                .isEqualTo(rendered);
        assertThat(rendered).contains("| KEYED |").contains("GET").contains("CONFIG GET");
    }
}
