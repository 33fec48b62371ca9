package io.cacheproxy.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects the problems of one record's constructor so that all of them are reported together
 * (a file with a bad {@code max-clients} and a bad {@code io-threads} gets both errors), then
 * throws them as one {@link ConfigException}. Paths are the record's YAML key names.
 */
final class Violations {

    private final List<ConfigError> errors = new ArrayList<>();

    /** Records {@code key: value (expected: expected)} unless {@code ok}. */
    Violations require(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            errors.add(new ConfigError(key, value == null ? null : String.valueOf(value), "expected: " + expected));
        }
        return this;
    }

    /** Records {@code key: reason} (no value) unless {@code ok}. */
    Violations requirePresent(boolean ok, String key, String reason) {
        if (!ok) {
            errors.add(new ConfigError(key, null, reason));
        }
        return this;
    }

    Violations add(ConfigError error) {
        errors.add(error);
        return this;
    }

    Violations addAll(List<ConfigError> more) {
        errors.addAll(more);
        return this;
    }

    void throwIfAny() {
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
    }

    static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    static boolean hasWhitespace(String s) {
        return s.chars().anyMatch(Character::isWhitespace);
    }
}
