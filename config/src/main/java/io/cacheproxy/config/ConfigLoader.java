package io.cacheproxy.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads the YAML configuration into a {@link ProxyConfig}, or fails with every problem in it.
 *
 * <p>Three steps. Jackson parses the text into a tree (a syntax error is reported with its line
 * and column, and a key given twice is an error). The tree is then mapped onto the records by
 * hand, not by databind, so that each problem becomes a {@link ConfigError} with the full key
 * path and the value as written, and mapping goes on after a problem to find the others. While
 * mapping, {@code ${VAR}} and {@code ${VAR:-default}} in scalar values are replaced from the
 * environment (<code>$${</code> writes a literal <code>${</code>); an unset variable without default is an
 * error naming the key and the variable. Last, the records' own constructors check ranges and
 * the rules between keys, and their errors are rebased onto the section's path.
 *
 * <p>Unknown keys are errors, with a suggestion when a known key is close (edit distance at most
 * 2, or equal apart from case, {@code -} and {@code _}). Numbers and booleans may also be given as
 * strings, so that {@code max-clients: ${MAX_CLIENTS}} works. A key present with no value
 * ({@code idle-timeout:}) takes its default.
 *
 * <p>This class and the CLI are the only places that read files and environment variables.
 */
public final class ConfigLoader {

    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private ConfigLoader() {
    }

    /** Loads {@code file}, expanding variables from the process environment. */
    public static ProxyConfig load(Path file) {
        return load(file, System.getenv());
    }

    /**
     * Loads {@code file} (UTF-8), expanding variables from {@code env}.
     *
     * @throws ConfigException if the file cannot be read or is not a valid configuration; its
     *                         message names the file and lists every error
     */
    public static ProxyConfig load(Path file, Map<String, String> env) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), List.of(new ConfigError("", null, "no such file")));
        } catch (CharacterCodingException e) {
            throw new ConfigException(file.toString(), List.of(new ConfigError("", null, "not UTF-8 text")));
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of(new ConfigError("", null,
                    "cannot read the file: " + e.getClass().getSimpleName() + ": " + e.getMessage())));
        }
        return parse(text, env, file.toString());
    }

    /**
     * Parses YAML text.
     *
     * @param yaml       the configuration; empty text is an error ("no pools defined")
     * @param env        the variables {@code ${VAR}} expands from
     * @param sourceName where the text came from, for the exception message (a file name)
     * @throws ConfigException listing every error
     */
    public static ProxyConfig parse(String yaml, Map<String, String> env, String sourceName) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JacksonException e) {
            throw new ConfigException(sourceName, List.of(syntaxError(e)));
        }
        return new TreeMapper(env).map(root, sourceName);
    }

    private static ConfigError syntaxError(JacksonException e) {
        if (e.getCause() instanceof MarkedYAMLException m && m.getProblemMark() != null && m.getProblem() != null) {
            // SnakeYAML (the parser under jackson-dataformat-yaml) knows where the problem is and
            // what it was parsing; Jackson's own location can point at the last token it read.
            Mark at = m.getProblemMark();
            Mark contextAt = m.getContextMark();
            String context = m.getContext() == null ? "" : " (" + m.getContext()
                    + (contextAt == null ? "" : " that starts at line " + (contextAt.getLine() + 1) + ", column "
                    + (contextAt.getColumn() + 1)) + ")";
            return new ConfigError("", null, "YAML syntax error at line " + (at.getLine() + 1) + ", column "
                    + (at.getColumn() + 1) + ": " + oneLine(m.getProblem()) + context);
        }
        JsonLocation at = e.getLocation();
        String problem = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : oneLine(e.getOriginalMessage());
        problem = problem.replaceFirst("^Duplicate field '(.*)'$", "key `$1` given twice in one mapping");
        String where = at == null || at.getLineNr() < 1 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        return new ConfigError("", null, "YAML syntax error" + where + ": " + problem);
    }

    private static String oneLine(String s) {
        return s.strip().lines().findFirst().orElse("").strip();
    }
}
