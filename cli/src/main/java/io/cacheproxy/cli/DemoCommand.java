package io.cacheproxy.cli;

import io.cacheproxy.config.ConfigLoader;
import io.cacheproxy.config.ProxyConfig;
import io.cacheproxy.proxy.ProxyServer;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cacheproxy demo}: local {@code redis-server} processes on free ports and a proxy in front
 * of them on 127.0.0.1:6380. Ctrl-C stops all of it and removes its temporary directory.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start local redis-server processes and a proxy in front of them; Ctrl-C stops everything.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "6380", description = "proxy RESP port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--admin-port", defaultValue = "9121", description = "admin HTTP port (default: ${DEFAULT-VALUE})")
    int adminPort;

    @Option(names = "--nodes", defaultValue = "3",
            description = "number of redis-server backends (default: ${DEFAULT-VALUE})")
    int nodes;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String redisServer = findOnPath("redis-server");
        if (redisServer == null) {
            err.println("cacheproxy demo: redis-server is not on PATH and no Docker engine is reachable.");
            err.println("Install it: sudo apt-get install redis-server   (macOS: brew install redis)");
            err.flush();
            return Main.EXIT_RUNTIME;
        }
        if (nodes < 1 || nodes > 16) {
            err.println("cacheproxy demo: --nodes: " + nodes + " (expected: 1 to 16)");
            err.flush();
            return Main.EXIT_USAGE;
        }
        Path dir = Files.createTempDirectory("cacheproxy-demo-");
        List<Process> backends = new ArrayList<>();
        ProxyServer proxy = null;
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                int p = freePort();
                Path nodeDir = Files.createDirectories(dir.resolve("node-" + p));
                Process process = new ProcessBuilder(redisServer, "--port", String.valueOf(p), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--dir", nodeDir.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(nodeDir.resolve("redis.log").toFile())
                        .start();
                backends.add(process);
                ports.add(p);
            }
            for (int p : ports) {
                awaitPort(p, 10_000);
            }
            StringBuilder yaml = new StringBuilder()
                    .append("server:\n  listen: 127.0.0.1:").append(port).append('\n')
                    .append("admin:\n  listen: 127.0.0.1:").append(adminPort).append('\n')
                    .append("pools:\n  main:\n    type: sharded\n    nodes: [");
            for (int i = 0; i < ports.size(); i++) {
                yaml.append(i == 0 ? "" : ", ").append("127.0.0.1:").append(ports.get(i));
            }
            yaml.append("]\n    admin-commands: pass\n");
            if (nodes >= 2) {
                yaml.append("    replication: {factor: 2}\n");    // each key on two backends: kill one, lose nothing
            }
            ProxyConfig config = ConfigLoader.parse(yaml.toString(), Map.of(), "demo");
            proxy = ProxyServer.start(config);
            out.println();
            out.println("cacheproxy demo is running: " + nodes + " redis-server backend" + (nodes == 1 ? "" : "s")
                    + " on ports " + ports + ", proxy on 127.0.0.1:" + port);
            out.println("  connect:  redis-cli -p " + port);
            out.println("  metrics:  curl http://127.0.0.1:" + adminPort + "/metrics");
            out.println("  health:   curl http://127.0.0.1:" + adminPort + "/ready");
            out.println("  L1:       on for keys read " + config.l1().hotKeys().minReadsPerSecond()
                    + "+ times a second; see them with: ./cacheproxy hotkeys --admin 127.0.0.1:" + adminPort);
            if (nodes >= 2) {
                out.println("  replicas: every key is on 2 of the backends; kill one (kill -9) and reads and writes go on;");
                out.println("            restarted, it is repaired before it serves reads (watch curl .../status)");
            }
            out.println("  load:     ./cacheproxy bench --target 127.0.0.1:" + port + " --prefill --keys 100000");
            out.println("Press Ctrl-C to stop everything.");
            out.flush();
            ProxyServer running = proxy;
            RunCommand.runUntilSignalled(running::close);
            proxy = null;
            out.println("cacheproxy demo stopped; nothing left running.");
            out.flush();
            return Main.EXIT_OK;
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            for (Process process : backends) {
                process.destroy();
            }
            for (Process process : backends) {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
            deleteTree(dir);
        }
    }

    static String findOnPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String entry : path.split(File.pathSeparator)) {
            File candidate = new File(entry, program);
            if (candidate.isFile() && candidate.canExecute()) {
                return candidate.getAbsolutePath();
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void awaitPort(int port, long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IOException("redis-server on port " + port + " did not start within "
                            + timeoutMillis + " ms", e);
                }
                Thread.sleep(20);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
