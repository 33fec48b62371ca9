package io.cacheproxy.cli;

import io.cacheproxy.config.ConfigException;
import io.cacheproxy.config.ConfigLoader;
import io.cacheproxy.config.ProxyConfig;
import io.cacheproxy.proxy.ProxyServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cacheproxy run --config FILE}: the proxy in the foreground; SIGTERM drains and exits 0. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start the proxy in the foreground. SIGTERM/Ctrl-C drains in-flight requests and exits 0.")
final class RunCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the YAML config file")
    Path config;

    @Option(names = "--log-format", paramLabel = "text|json",
            description = "text (default) or json: one JSON object per line (also CACHEPROXY_LOG_FORMAT)")
    String logFormat;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (logFormat != null) {
            if (!logFormat.equals("text") && !logFormat.equals("json")) {
                spec.commandLine().getErr().println("cacheproxy run: --log-format: " + logFormat + " (expected: text or json)");
                return Main.EXIT_USAGE;
            }
            LogFormat.use(logFormat);
        }
        ProxyConfig proxyConfig;
        try {
            proxyConfig = ConfigLoader.load(config);
        } catch (ConfigException e) {
            ConfigErrors.print(spec.commandLine().getErr(), e);
            return Main.EXIT_USAGE;
        }
        ProxyServer server = ProxyServer.start(proxyConfig, config);
        runUntilSignalled(server::close);
        return Main.EXIT_OK;
    }

    /**
     * Blocks until SIGTERM or SIGINT, then runs {@code stop} and returns, so the process exits 0
     * after a drain (a JVM shutdown hook would exit 143). {@code sun.misc.Signal} is the JDK's
     * supported-in-practice way to take over a signal (module jdk.unsupported).
     */
    static void runUntilSignalled(Runnable stop) throws InterruptedException {
        CountDownLatch signalled = new CountDownLatch(1);
        for (String name : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), s -> signalled.countDown());
        }
        signalled.await();
        stop.run();
    }
}
