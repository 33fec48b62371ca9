package io.cacheproxy.cli;

import io.cacheproxy.config.ConfigException;
import io.cacheproxy.config.ConfigLoader;
import io.cacheproxy.config.ConfigPrinter;
import io.cacheproxy.config.ProxyConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code cacheproxy check-config FILE}: validate, print the effective config or every error. */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Validate a config file and print the effective config (defaults filled in, secrets masked).")
final class CheckConfigCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the YAML config file")
    Path file;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try {
            ProxyConfig config = ConfigLoader.load(file);
            spec.commandLine().getOut().print(ConfigPrinter.effectiveYaml(config));
            spec.commandLine().getOut().flush();
            return Main.EXIT_OK;
        } catch (ConfigException e) {
            ConfigErrors.print(spec.commandLine().getErr(), e);
            return Main.EXIT_USAGE;
        }
    }
}
