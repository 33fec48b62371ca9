package io.cacheproxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cacheproxy.config.ConfigException;
import io.cacheproxy.config.Durations;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cacheproxy status [--admin HOST:PORT] [--interval D] [--json]}: a running proxy at a glance
 * (shared/SPEC.md §1), from its admin API: one line per backend node ({@code GET /status}: pool,
 * node, state, circuit, up, errors, ejections), a summary line (clients, ready, ops/s, L1), then the
 * migrations under way ({@code GET /nodes}).
 *
 * <p>ops/s is proxy-wide: the rise of {@code cacheproxy_commands_total} (summed over its labels)
 * between two scrapes of {@code GET /metrics} {@code --interval} apart, divided by the time measured
 * between the two answers. The proxy counts no command per pool, so there is no per-pool rate.
 * {@code --interval 0s} skips the second scrape and prints no rate. Exit codes as
 * {@link AdminEndpoint} says; a bad {@code --interval} is 2.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show a running proxy's pools and nodes (health, circuit state, errors), clients, "
                + "ops/s, L1 hit ratio, and the migrations under way.",
                "ops/s is counted over --interval, so the command takes that long."})
final class StatusCommand implements Callable<Integer> {
    private static final String COMMAND = "cacheproxy status";
    private static final String COMMANDS_TOTAL = "cacheproxy_commands_total";
    private static final Duration MAX_INTERVAL = Duration.ofSeconds(60);

    @Mixin
    AdminEndpoint admin;

    @Option(names = "--interval", defaultValue = "1s", paramLabel = "DURATION",
            description = "how long to count commands for ops/s, e.g. 500ms, 5s; 0s = no ops/s "
                    + "(default ${DEFAULT-VALUE})")
    String interval;

    @Option(names = "--json", description = "print one JSON object with the same data")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        Duration period;
        try {
            period = Durations.parse(interval);
        } catch (ConfigException e) {
            return usage("--interval: " + interval + " (" + e.errors().get(0).reason() + ")");
        }
        if (period.isNegative() || period.compareTo(MAX_INTERVAL) > 0) {
            return usage("--interval: " + interval + " (expected: 0s to 60s)");
        }
        try {
            long started = System.nanoTime();
            AdminEndpoint.Reply before = period.isZero() ? null : get("/metrics");
            long firstScrape = System.nanoTime();
            AdminEndpoint.Reply status = get("/status?top=0");
            AdminEndpoint.Reply nodes = get("/nodes");
            for (AdminEndpoint.Reply reply : new AdminEndpoint.Reply[] {before, status, nodes}) {
                if (reply != null && !reply.ok()) {
                    return AdminEndpoint.fail(spec.commandLine().getErr(), COMMAND, reply);
                }
            }
            Double opsPerSecond = null;
            if (before != null) {
                Thread.sleep(Math.max(0, (period.toNanos() - (System.nanoTime() - started)) / 1_000_000));
                AdminEndpoint.Reply after = get("/metrics");
                if (!after.ok()) {
                    return AdminEndpoint.fail(spec.commandLine().getErr(), COMMAND, after);
                }
                double seconds = (System.nanoTime() - firstScrape) / 1e9;
                // a proxy restarted between the scrapes counts from 0 again: no rate is better than a negative one
                opsPerSecond = Math.max(0, counterSum(after.text()) - counterSum(before.text())) / seconds;
            }
            ObjectNode summary = summary(status.body(), nodes.body(), opsPerSecond);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(summary.toString());
            } else {
                printTable(out, summary);
            }
            out.flush();
            return Main.EXIT_OK;
        } catch (AdminEndpoint.Unreachable e) {
            spec.commandLine().getErr().println(COMMAND + ": " + e.getMessage());
            spec.commandLine().getErr().flush();
            return Main.EXIT_RUNTIME;
        }
    }

    private AdminEndpoint.Reply get(String path) throws AdminEndpoint.Unreachable, InterruptedException {
        return admin.send("GET", path, null);
    }

    private int usage(String message) {
        spec.commandLine().getErr().println(COMMAND + ": " + message);
        spec.commandLine().getErr().flush();
        return Main.EXIT_USAGE;
    }

    /**
     * The sum of every {@code cacheproxy_commands_total} sample in a Prometheus text scrape: 0 when
     * the proxy has counted no command yet (the counter appears with its first label set).
     */
    static double counterSum(String scrape) {
        double sum = 0;
        for (String line : scrape.split("\n")) {
            if (!line.startsWith(COMMANDS_TOTAL)) {
                continue;
            }
            String rest = line.substring(COMMANDS_TOTAL.length());
            if (rest.startsWith("{")) {
                // label values are escaped but may hold '}': the value follows the last one
                rest = rest.substring(rest.lastIndexOf('}') + 1);
            } else if (!rest.startsWith(" ")) {
                continue; // another metric whose name starts the same way
            }
            String[] fields = rest.strip().split("\\s+");
            try {
                sum += Double.parseDouble(fields[0]);
            } catch (NumberFormatException e) {
                // not a sample line; the next scrape will do
            }
        }
        return sum;
    }

    /** What both outputs show, as the JSON object {@code --json} prints. */
    private static ObjectNode summary(JsonNode status, JsonNode nodes, Double opsPerSecond) {
        ObjectNode summary = JsonNodeFactory.instance.objectNode();
        summary.set("clients", status.path("clients"));
        summary.set("ready", status.path("ready"));
        if (opsPerSecond == null) {
            summary.putNull("opsPerSecond");
        } else {
            summary.put("opsPerSecond", Math.round(opsPerSecond * 10) / 10.0);
        }
        summary.set("pools", status.path("pools"));
        ObjectNode l1 = status.path("l1").isObject() ? ((ObjectNode) status.path("l1")).deepCopy()
                : JsonNodeFactory.instance.objectNode();
        l1.remove("hotKeys");
        summary.set("l1", l1);
        summary.set("migrations", nodes.path("migrations").isArray() ? nodes.path("migrations")
                : JsonNodeFactory.instance.arrayNode());
        return summary;
    }

    private static void printTable(PrintWriter out, JsonNode summary) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"POOL", "NODE", "STATE", "CIRCUIT", "UP", "ERRORS", "EJECTIONS"});
        for (JsonNode pool : summary.path("pools")) {
            for (JsonNode node : pool.path("nodes")) {
                rows.add(new String[] {pool.path("name").asText(), node.path("address").asText(),
                        text(node.path("state")), text(node.path("circuit")),
                        node.path("up").asBoolean() ? "yes" : "no", node.path("errors").asText("-"),
                        text(node.path("ejections"))});
            }
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 0 ? "" : "  ").append(i == row.length - 1 ? row[i]
                        : String.format("%-" + widths[i] + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        if (rows.size() == 1) {
            out.println("(no backend nodes)");
        }
        JsonNode ops = summary.path("opsPerSecond");
        JsonNode l1 = summary.path("l1");
        out.printf(Locale.ROOT, "clients %d, ready %s, ops/s %s, %s%n", summary.path("clients").asLong(),
                summary.path("ready").asBoolean() ? "yes" : "no (GET /ready says why)",
                ops.isNumber() ? String.format(Locale.ROOT, "%.1f", ops.asDouble()) : "-",
                l1.path("enabled").asBoolean()
                        ? String.format(Locale.ROOT, "L1 hit ratio %.1f%%, L1 entries %d", 100 * l1.path("hitRatio").asDouble(),
                                l1.path("entries").asLong())
                        : "L1 off");
        for (JsonNode migration : summary.path("migrations")) {
            out.println("migration: " + migration.asText());
        }
    }

    /** A field that only some pools have (state, circuit, ejections): "-" when absent. */
    private static String text(JsonNode field) {
        return field.isMissingNode() || field.isNull() ? "-" : field.asText();
    }
}
