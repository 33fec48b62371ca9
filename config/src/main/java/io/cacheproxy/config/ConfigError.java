package io.cacheproxy.config;

import java.util.Objects;

/**
 * One problem in a configuration: which key, which value, and why it is wrong.
 *
 * <p>{@code path} is the dotted key path from the top of the file, with list indexes in brackets:
 * {@code pools.main.replication.factor}, {@code routes[1].pool}, {@code auth.users[0].password}.
 * It is empty for problems that have no key (a YAML syntax error, an unreadable file). Records
 * constructed in code report paths relative to themselves ({@code max-clients}); the loader
 * rebases them onto the section they came from. {@code value} is the offending value as written
 * (after {@code ${VAR}} expansion, secrets masked), or {@code null} when the key is missing or
 * the problem is not about one value.
 *
 * @param path   the key path, e.g. {@code pools.main.nodes[2]}; empty when there is none
 * @param value  the offending value as text, or {@code null}
 * @param reason why it is wrong, e.g. {@code expected: >= 1} or {@code unknown key}
 */
public record ConfigError(String path, String value, String reason) {

    public ConfigError {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(reason, "reason");
    }

    /** This error with {@code prefix} put in front of its path ({@code factor} under {@code pools.main.replication}). */
    public ConfigError under(String prefix) {
        return new ConfigError(join(prefix, path), value, reason);
    }

    static String join(String prefix, String path) {
        if (prefix.isEmpty()) {
            return path;
        }
        if (path.isEmpty()) {
            return prefix;
        }
        return path.startsWith("[") ? prefix + path : prefix + "." + path;
    }

    /** {@code path: value (reason)}, or {@code path: reason} without a value. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (!path.isEmpty()) {
            sb.append(path).append(": ");
        }
        if (value != null) {
            sb.append(value.isEmpty() ? "\"\"" : value).append(" (").append(reason).append(')');
        } else {
            sb.append(reason);
        }
        return sb.toString();
    }
}
