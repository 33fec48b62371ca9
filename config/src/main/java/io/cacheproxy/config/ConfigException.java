package io.cacheproxy.config;

import java.util.List;

/**
 * An invalid configuration, with every problem found in it.
 *
 * <p>Thrown by {@link ConfigLoader} with all errors of a file (absolute key paths, the source
 * named in the message), and by the configuration records' constructors with the errors of that
 * record (paths relative to it). It is an {@link IllegalArgumentException}, so code that builds
 * records by hand sees the usual exception for a bad argument; the message has the form
 * {@code name: value (expected: ...)}, one line per error.
 */
public final class ConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient List<ConfigError> errors;
    private final String source;

    public ConfigException(List<ConfigError> errors) {
        this(null, errors);
    }

    /**
     * @param source where the configuration came from (a file name), or {@code null}
     * @param errors at least one error
     */
    public ConfigException(String source, List<ConfigError> errors) {
        super(message(source, errors));
        this.errors = List.copyOf(errors);
        this.source = source;
    }

    static ConfigException of(String path, String value, String reason) {
        return new ConfigException(List.of(new ConfigError(path, value, reason)));
    }

    /** Every problem found, in the order of the file; never empty. */
    public List<ConfigError> errors() {
        return errors;
    }

    /** The file or other source the errors are about, or {@code null} when not from a file. */
    public String source() {
        return source;
    }

    private static String message(String source, List<ConfigError> errors) {
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("errors: [] (expected: at least one error)");
        }
        if (source == null && errors.size() == 1) {
            return errors.get(0).toString();
        }
        StringBuilder sb = new StringBuilder("invalid configuration");
        if (source != null) {
            sb.append(" in ").append(source);
        }
        sb.append(" (").append(errors.size()).append(errors.size() == 1 ? " error):" : " errors):");
        for (ConfigError e : errors) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
