package io.cacheproxy.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code redis-server} child process from {@code PATH}, bound to 127.0.0.1 on a free port, with
 * persistence off and its working directory (and log) in a fresh temporary directory.
 *
 * <p>Every signal goes to this process's own PID ({@link Process#destroyForcibly()} is SIGKILL,
 * {@code kill -STOP/-CONT <pid>} for pausing), never to processes found by name. A shutdown hook
 * kills the process if the JVM exits without {@link #stop()} (a test run killed by a timeout).
 */
public final class LocalRedisServer implements RedisFixture {
    private static final String HOST = "127.0.0.1";
    private static final int START_ATTEMPTS = 3;

    private final String executable;
    /** Extra {@code redis-server} options, e.g. {@code --replicaof 127.0.0.1 6379}. */
    private final List<String> extraArgs;
    /** For a sentinel: the lines of its config file (Sentinel needs a writable one); else null. */
    private final List<String> sentinelConfig;
    private Path dir;
    private int port;
    private Process process;
    private boolean paused;
    private int launches;
    private Thread shutdownHook;

    public LocalRedisServer() {
        this(List.of(), null);
    }

    private LocalRedisServer(List<String> extraArgs, List<String> sentinelConfig) {
        this.executable = findOnPath("redis-server");
        if (executable == null) {
            throw new IllegalStateException("no executable 'redis-server' on PATH (" + System.getenv("PATH") + ")");
        }
        this.extraArgs = List.copyOf(extraArgs);
        this.sentinelConfig = sentinelConfig == null ? null : List.copyOf(sentinelConfig);
    }

    /** A server started with extra options, e.g. {@code replicaOf(master)}'s. */
    public static LocalRedisServer withArgs(String... args) {
        return new LocalRedisServer(List.of(args), null);
    }

    /** A replica of {@code master} (which must run already). */
    public static LocalRedisServer replicaOf(RedisFixture master) {
        return withArgs("--replicaof", master.host(), Integer.toString(master.port()));
    }

    /**
     * A Redis Sentinel monitoring {@code master} as {@code masterName}, with a quorum of
     * {@code quorum} and fast failure detection (1 s down-after, 3 s failover timeout).
     */
    public static LocalRedisServer sentinel(String masterName, RedisFixture master, int quorum) {
        return new LocalRedisServer(List.of(), List.of(
                "sentinel monitor " + masterName + " " + master.host() + " " + master.port() + " " + quorum,
                "sentinel down-after-milliseconds " + masterName + " 1000",
                "sentinel failover-timeout " + masterName + " 3000",
                "sentinel parallel-syncs " + masterName + " 1"));
    }

    /** Whether {@code redis-server} is on {@code PATH}. */
    public static boolean isAvailable() {
        return findOnPath("redis-server") != null;
    }

    private static String findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String entry : path.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(entry, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    @Override
    public void start() {
        if (process != null) {
            throw new IllegalStateException("already started on port " + port);
        }
        try {
            dir = Files.createTempDirectory("cacheproxy-it-redis-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        shutdownHook = new Thread(this::killQuietly, "kill redis-server");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        IllegalStateException last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            port = FreePorts.find();
            try {
                launch();
                return;
            } catch (IllegalStateException e) {
                // most likely the free port was taken in between: try another one
                last = e;
                killQuietly();
            }
        }
        stop();
        throw last;
    }

    private void launch() {
        Path log = dir.resolve("redis-" + (++launches) + ".log");
        List<String> command = new ArrayList<>();
        command.add(executable);
        if (sentinelConfig != null) {
            Path conf = dir.resolve("sentinel.conf");
            try {
                Files.write(conf, sentinelConfig, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            command.addAll(List.of(conf.toString(), "--sentinel"));
        } else {
            command.addAll(List.of("--save", "", "--appendonly", "no"));
        }
        command.addAll(List.of("--port", Integer.toString(port), "--bind", HOST,
                "--dir", dir.toString(), "--logfile", log.toString()));
        command.addAll(extraArgs);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout-" + launches + ".txt").toFile());
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + executable, e);
        }
        paused = false;
        Process started = process;
        Ping.await(HOST, port, START_TIMEOUT, started::isAlive, () -> tail(log));
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public String host() {
        return HOST;
    }

    @Override
    public int port() {
        if (process == null) {
            throw new IllegalStateException("not started");
        }
        return port;
    }

    /** The PID of the running server process. */
    public long pid() {
        return process.pid();
    }

    @Override
    public void kill() {
        requireStarted();
        process.destroyForcibly();
        waitForExit(process);
        paused = false;
    }

    @Override
    public void pause() {
        requireStarted();
        signal("STOP");
        paused = true;
    }

    @Override
    public void resume() {
        requireStarted();
        signal("CONT");
        paused = false;
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .redirectErrorStream(true).start();
            if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed: "
                        + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void restart() {
        requireStarted();
        if (process.isAlive()) {
            if (paused) {
                resume();
            }
            kill();
        }
        launch();
    }

    @Override
    public boolean isServing() {
        return process != null && process.isAlive() && !paused;
    }

    @Override
    public boolean isPaused() {
        return paused && process != null && process.isAlive();
    }

    @Override
    public void stop() {
        if (process != null && process.isAlive()) {
            if (paused) {
                resume();
            }
            process.destroy(); // SIGTERM: Redis exits at once (no save points configured)
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    waitForExit(process);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down and runs the hook anyway
            }
            shutdownHook = null;
        }
        if (dir != null) {
            deleteRecursively(dir);
            dir = null;
        }
    }

    private void killQuietly() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            waitForExit(p);
        }
    }

    private static void waitForExit(Process p) {
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server " + p.pid() + " did not exit after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void requireStarted() {
        if (process == null) {
            throw new IllegalStateException("not started");
        }
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temp directory is harmless
        }
    }

    @Override
    public String toString() {
        return "redis-server[127.0.0.1:" + port + (process == null ? "" : ", pid " + process.pid()) + "]";
    }
}
