package io.cacheproxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.cacheproxy.config.HostAndPort;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cacheproxy nodes [list]}, {@code nodes add POOL HOST:PORT} and
 * {@code nodes remove POOL HOST:PORT}: the nodes of a running proxy's sharded pools, through its
 * admin API ({@code GET /nodes}, {@code POST /nodes}, {@code DELETE /nodes/POOL/HOST:PORT}). A
 * change starts a migration that copies the keys whose nodes change; it prints what the proxy
 * said it started, and {@code nodes} shows how far it is. Exit codes as {@link AdminEndpoint} says.
 */
@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = {"Change the nodes of a running proxy's sharded pools, or (with no subcommand) show the "
                + "migrations under way.",
                "Adding or removing a node copies the keys whose nodes change in the background; clients keep "
                        + "their connections."},
        subcommands = {NodesCommand.ListMigrations.class, NodesCommand.AddNode.class, NodesCommand.RemoveNode.class})
final class NodesCommand implements Callable<Integer> {
    @Mixin
    AdminEndpoint admin;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        return list(admin, spec, "cacheproxy nodes");
    }

    static int list(AdminEndpoint admin, CommandSpec spec, String command) throws InterruptedException {
        AdminEndpoint.Reply reply;
        try {
            reply = admin.send("GET", "/nodes", null);
        } catch (AdminEndpoint.Unreachable e) {
            return unreachable(spec, command, e);
        }
        if (!reply.ok()) {
            return AdminEndpoint.fail(spec.commandLine().getErr(), command, reply);
        }
        PrintWriter out = spec.commandLine().getOut();
        JsonNode migrations = reply.body().path("migrations");
        if (migrations.isEmpty()) {
            out.println("no migration under way");
        }
        for (JsonNode migration : migrations) {
            out.println(migration.asText());
        }
        out.flush();
        return Main.EXIT_OK;
    }

    /** Sends a node change and prints the proxy's message, or why it refused. */
    static int change(AdminEndpoint admin, CommandSpec spec, String command, String method, String path, JsonNode body)
            throws InterruptedException {
        AdminEndpoint.Reply reply;
        try {
            reply = admin.send(method, path, body);
        } catch (AdminEndpoint.Unreachable e) {
            return unreachable(spec, command, e);
        }
        if (!reply.ok()) {
            return AdminEndpoint.fail(spec.commandLine().getErr(), command, reply);
        }
        spec.commandLine().getOut().println(reply.body().path("message").asText());
        spec.commandLine().getOut().flush();
        return Main.EXIT_OK;
    }

    private static int unreachable(CommandSpec spec, String command, AdminEndpoint.Unreachable e) {
        spec.commandLine().getErr().println(command + ": " + e.getMessage());
        spec.commandLine().getErr().flush();
        return Main.EXIT_RUNTIME;
    }

    private static int usage(CommandSpec spec, String command, IllegalArgumentException e) {
        spec.commandLine().getErr().println(command + ": " + e.getMessage());
        spec.commandLine().getErr().flush();
        return Main.EXIT_USAGE;
    }

    /** {@code cacheproxy nodes list}: the same as {@code cacheproxy nodes}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Show the migrations under way: pool, nodes added or removed, keys copied so far.")
    static final class ListMigrations implements Callable<Integer> {
        @Mixin
        AdminEndpoint admin;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            return list(admin, spec, "cacheproxy nodes list");
        }
    }

    /** What {@code nodes add} and {@code nodes remove} share: the pool, the node, the admin endpoint. */
    abstract static class NodeChange implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL", description = "the pool (a key under pools: in the config)")
        String pool;

        @Parameters(index = "1", paramLabel = "HOST:PORT", description = "the Redis node, e.g. 127.0.0.1:7004")
        String node;

        @Mixin
        AdminEndpoint admin;

        @Spec
        CommandSpec spec;

        /** The command's name for messages, e.g. {@code cacheproxy nodes add}. */
        abstract String command();

        /** Asks the admin endpoint for the change to {@code address}. */
        abstract int send(HostAndPort address) throws InterruptedException;

        @Override
        public Integer call() throws InterruptedException {
            HostAndPort address;
            try {
                AdminEndpoint.pool(pool);
                address = AdminEndpoint.node(node);
            } catch (IllegalArgumentException e) {
                return usage(spec, command(), e);
            }
            return send(address);
        }
    }

    /** {@code cacheproxy nodes add POOL HOST:PORT}. */
    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a node to a sharded pool: the keys it will own are copied to it, then it serves them.")
    static final class AddNode extends NodeChange {
        @Override
        String command() {
            return "cacheproxy nodes add";
        }

        @Override
        int send(HostAndPort address) throws InterruptedException {
            JsonNode body = JsonNodeFactory.instance.objectNode().put("pool", pool).put("node", address.toString());
            return change(admin, spec, command(), "POST", "/nodes", body);
        }
    }

    /** {@code cacheproxy nodes remove POOL HOST:PORT}. */
    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove a node from a sharded pool: its keys are copied to the nodes that take them over, "
                    + "then it leaves.")
    static final class RemoveNode extends NodeChange {
        @Override
        String command() {
            return "cacheproxy nodes remove";
        }

        @Override
        int send(HostAndPort address) throws InterruptedException {
            String path = "/nodes/" + pool + "/" + URLEncoder.encode(address.toString(), StandardCharsets.UTF_8);
            return change(admin, spec, command(), "DELETE", path, null);
        }
    }
}
