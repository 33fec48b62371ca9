package io.cacheproxy.cli;

import io.cacheproxy.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code cacheproxy.jar}. Exit codes: 0 ok, 1 runtime error, 2 usage or config error.
 */
@Command(name = "cacheproxy",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "A Redis-protocol cache proxy with a coherent near cache.",
        subcommands = {RunCommand.class, CheckConfigCommand.class, DemoCommand.class, BenchCommand.class, HotKeysCommand.class, KeysCommand.class,
                NodesCommand.class, ReloadCommand.class, StatusCommand.class,
                CompletionCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_RUNTIME = 1;
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        enableNettyUnsafe();
        System.exit(execute(args));
    }

    /**
     * Netty turns off its {@code sun.misc.Unsafe} buffer access by default on Java 25+, which measured
     * at about half the throughput here (every {@code ByteBuf.getByte} goes through a bounds- and
     * session-checked {@code ByteBuffer}). Unless the user chose otherwise with
     * {@code -Dio.netty.noUnsafe}, keep it on. The launcher also passes
     * {@code --sun-misc-unsafe-memory-access=allow} on Java 23+ so the JDK does not warn.
     */
    static void enableNettyUnsafe() {
        if (System.getProperty("io.netty.noUnsafe") == null) {
            System.setProperty("io.netty.noUnsafe", "false");
        }
    }

    /** Runs the command line and returns the exit code (tests call this instead of main). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("cacheproxy: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return EXIT_RUNTIME;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
