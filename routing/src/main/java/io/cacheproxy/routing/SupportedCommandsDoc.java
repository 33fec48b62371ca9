package io.cacheproxy.routing;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Renders {@code docs/supported-commands.md} from the {@link CommandTable}, so the document cannot
 * drift from the code: {@code SupportedCommandsDocTest} fails when the checked-in file differs and
 * rewrites it with {@code -Dcacheproxy.updateDocs=true}.
 */
public final class SupportedCommandsDoc {
    private SupportedCommandsDoc() {
    }

    private static final Map<CommandKind, String> MEANING = new EnumMap<>(Map.of(
            CommandKind.CONNECTION, "Answered by the proxy from the client's session.",
            CommandKind.KEYED, "Sent to the node owning the key; reply passed back byte for byte. Multi-key commands run when every key shares a node ({hash tags}), else -CROSSSLOT; MGET, MSET, DEL, UNLINK, EXISTS and TOUCH are split per node and merged instead.",
            CommandKind.MOVABLE_KEYS, "Keys found by parsing arguments (numkeys, STREAMS, STORE): run on the keys' node when they share one, else -CROSSSLOT; without keys, on the default pool's first node.",
            CommandKind.KEYLESS, "No keys: answered by a node of the default pool.",
            CommandKind.WHOLE_KEYSPACE, "Sent to every node and merged: DBSIZE summed, KEYS concatenated, SCAN with a cursor that encodes the node, FLUSHALL/FLUSHDB/SCRIPT/FUNCTION on every node; INFO gets a # Proxy section and the keyspace summed over nodes.",
            CommandKind.BLOCKING, "Runs on a connection the client borrows from the node's bounded pool for blocking commands until the reply, so it stalls nobody else; with all `blocking-connections` of the node busy it is refused at once.",
            CommandKind.TRANSACTION, "Runs on a connection dedicated to the client on the node of the transaction's first key; keys on other nodes are refused at queue time and EXEC answers EXECABORT.",
            CommandKind.SUBSCRIBE, "Turns the client connection into a subscriber tunnel to the default pool's first node, where PUBLISH and SPUBLISH also go (shard channels are not spread over the nodes). For a cluster pool, SPUBLISH and SSUBSCRIBE go to the channel's slot master.",
            CommandKind.ADMIN, "Refused (`-ERR command 'x' is not allowed through the proxy`) unless the pool says `admin-commands: pass`.",
            CommandKind.FORBIDDEN, "Always refused."));

    public static String render(CommandTable table) {
        StringBuilder md = new StringBuilder();
        md.append("# Supported commands\n\n")
                .append("Generated from `routing/src/main/resources/io/cacheproxy/routing/commands.tsv` by ")
                .append("`SupportedCommandsDoc`; do not edit by hand (run the routing tests with ")
                .append("`-Dcacheproxy.updateDocs=true` to regenerate).\n\n")
                .append("Commands the table does not know (modules) are passed to a one-node pool as they are. ")
                .append("Elsewhere the proxy asks the backend's `COMMAND INFO` once per name and routes them by ")
                .append("the keys it names (first, last, step); keys that move with the arguments (`movablekeys`) ")
                .append("cannot be located and are refused; a command the backend does not know either gets ")
                .append("Redis's own error.\n\n");
        md.append("| handling | meaning | commands |\n|---|---|---|\n");
        for (CommandKind kind : CommandKind.values()) {
            TreeSet<String> names = new TreeSet<>();
            for (CommandSpec spec : table.all()) {
                if (spec.kind() == kind) {
                    names.add(spec.displayName().toUpperCase(java.util.Locale.ROOT));
                }
            }
            md.append("| ").append(kind.name()).append(" | ").append(MEANING.get(kind)).append(" | ")
                    .append(String.join(", ", List.copyOf(names))).append(" |\n");
        }
        return md.toString();
    }
}
