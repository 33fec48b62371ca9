package io.cacheproxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code cacheproxy reload [--admin HOST:PORT]}: a running proxy re-reads the config file it was
 * started with ({@code POST /reload}) and applies the node lists of its sharded pools, without
 * dropping client connections. Prints each change started and each difference that needs a
 * restart; an invalid file is reported with every error (key path, value, why) and changes
 * nothing. Exit codes as {@link AdminEndpoint} says.
 */
@Command(name = "reload", mixinStandardHelpOptions = true,
        description = {"Make a running proxy re-read its config file without dropping client connections.",
                "Node lists of sharded pools are applied (keys move in the background); other differences are "
                        + "listed as needing a restart. An invalid file changes nothing."})
final class ReloadCommand implements Callable<Integer> {
    @Mixin
    AdminEndpoint admin;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        AdminEndpoint.Reply reply;
        try {
            reply = admin.send("POST", "/reload", null);
        } catch (AdminEndpoint.Unreachable e) {
            spec.commandLine().getErr().println("cacheproxy reload: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return Main.EXIT_RUNTIME;
        }
        if (!reply.ok()) {
            return AdminEndpoint.fail(spec.commandLine().getErr(), "cacheproxy reload", reply);
        }
        PrintWriter out = spec.commandLine().getOut();
        JsonNode changes = reply.body().path("changes");
        if (changes.isEmpty()) {
            out.println("reloaded " + reply.body().path("file").asText() + ": nothing to change");
        } else {
            out.println("reloaded " + reply.body().path("file").asText() + ":");
            for (JsonNode change : changes) {
                out.println("  " + change.asText());
            }
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
