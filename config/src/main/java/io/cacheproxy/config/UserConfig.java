package io.cacheproxy.config;

import java.util.List;
import java.util.Objects;

/**
 * One entry of {@code auth.users}: a name and password clients give to {@code AUTH}, and what
 * that user may do, in Redis ACL terms.
 *
 * @param name     {@code name}: user name for {@code AUTH name password}; required, no spaces
 * @param password {@code password}: required, not empty; printed as {@code "****"}
 * @param commands {@code commands}: ACL command rules applied in order, each {@code +} or
 *                 {@code -} followed by a command or {@code @category}; default {@code ["+@all"]}
 * @param keys     {@code keys}: glob patterns of the keys the user may touch; default {@code ["*"]}
 */
public record UserConfig(String name, String password, List<String> commands, List<String> keys) {

    /** {@code ["+@all"]}. */
    public static final List<String> DEFAULT_COMMANDS = List.of("+@all");
    /** {@code ["*"]}. */
    public static final List<String> DEFAULT_KEYS = List.of("*");

    public UserConfig {
        commands = List.copyOf(Objects.requireNonNull(commands, "commands"));
        keys = List.copyOf(Objects.requireNonNull(keys, "keys"));
        Violations v = new Violations();
        if (name == null) {
            v.requirePresent(false, "name", "required");
        } else {
            v.require(!name.isEmpty() && !Violations.hasWhitespace(name), "name", name, "a user name without spaces");
        }
        v.requirePresent(password != null && !password.isEmpty(), "password", "required (a non-empty password)");
        v.require(!commands.isEmpty(), "commands", "[]", "at least one rule, e.g. +@all");
        for (int i = 0; i < commands.size(); i++) {
            String rule = commands.get(i);
            v.require(rule.length() > 1 && (rule.charAt(0) == '+' || rule.charAt(0) == '-')
                    && !Violations.hasWhitespace(rule), "commands[" + i + "]", rule,
                    "+ or - then a command or @category, e.g. +@all, -@dangerous, +get");
        }
        v.require(!keys.isEmpty(), "keys", "[]", "at least one key pattern, e.g. \"*\"");
        for (int i = 0; i < keys.size(); i++) {
            String pattern = keys.get(i);
            v.require(!pattern.isEmpty() && !Violations.hasWhitespace(pattern), "keys[" + i + "]", pattern,
                    "a key pattern without spaces, e.g. app:*");
        }
        v.throwIfAny();
    }

    /** Keeps the password out of logs. */
    @Override
    public String toString() {
        return "UserConfig[name=" + name + ", password=****, commands=" + commands + ", keys=" + keys + "]";
    }

    /** A user allowed every command on every key. */
    public static UserConfig of(String name, String password) {
        return new UserConfig(name, password, DEFAULT_COMMANDS, DEFAULT_KEYS);
    }
}
