package io.cacheproxy.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import org.slf4j.LoggerFactory;

/**
 * Switches the log format at run time ({@code cacheproxy run --log-format json}): sets
 * {@code CACHEPROXY_LOG_FORMAT}, which logback.xml names the appender by, and has Logback read its
 * configuration again (it may have started already).
 */
final class LogFormat {
    private LogFormat() {
    }

    /** {@code format} is {@code text} or {@code json}. */
    static void use(String format) {
        System.setProperty("CACHEPROXY_LOG_FORMAT", format);
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.reset();
            try {
                new ContextInitializer(context).autoConfig();
            } catch (JoranException e) {
                throw new IllegalStateException("logging could not be configured for --log-format " + format, e);
            }
        }
    }
}
