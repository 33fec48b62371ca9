package io.cacheproxy.cli;

import io.cacheproxy.config.ConfigError;
import io.cacheproxy.config.ConfigException;
import java.io.PrintWriter;

/** Prints a {@link ConfigException} as one line per error: key path, value, why. */
final class ConfigErrors {
    private ConfigErrors() {
    }

    static void print(PrintWriter err, ConfigException e) {
        err.println("cacheproxy: invalid config" + (e.source() == null ? "" : " " + e.source())
                + " (" + e.errors().size() + " error" + (e.errors().size() == 1 ? "" : "s") + "):");
        for (ConfigError error : e.errors()) {
            err.println("  " + error);
        }
        err.flush();
    }
}
