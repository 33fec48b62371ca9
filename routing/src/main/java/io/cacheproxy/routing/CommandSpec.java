package io.cacheproxy.routing;

import java.util.Objects;
import java.util.Set;

/**
 * One command (or {@code container|subcommand}) as Redis describes it in {@code COMMAND INFO}, plus
 * the proxy's decision on how to handle it.
 *
 * @param name        lower-case name; subcommands are {@code "config|set"}
 * @param arity       Redis arity: positive = exact argument count (name included), negative = at least -arity
 * @param flags       Redis command flags ({@code readonly}, {@code write}, {@code blocking} …)
 * @param firstKey    index of the first key argument, 0 when the command has no fixed key positions
 * @param lastKey     index of the last key; negative counts from the end (-1 = last argument)
 * @param keyStep     distance between keys (2 for MSET)
 * @param categories  ACL categories without the {@code @}
 * @param kind        how the proxy handles it
 * @param id          dense index of the command in its {@link CommandTable} (name order), for
 *                    per-command arrays such as metrics; -1 outside a table
 */
public record CommandSpec(
        String name, int arity, Set<String> flags, int firstKey, int lastKey, int keyStep,
        Set<String> categories, CommandKind kind, int id) {

    public CommandSpec {
        Objects.requireNonNull(name, "name");
        flags = Set.copyOf(flags);
        categories = Set.copyOf(categories);
        Objects.requireNonNull(kind, "kind");
        if (keyStep < 0) {
            throw new IllegalArgumentException("keyStep: " + keyStep + " (expected: >= 0)");
        }
    }

    public CommandSpec withId(int newId) {
        return new CommandSpec(name, arity, flags, firstKey, lastKey, keyStep, categories, kind, newId);
    }

    /** True when {@code argc} arguments (command name included) satisfy the arity. */
    public boolean arityAccepts(int argc) {
        return arity >= 0 ? argc == arity : argc >= -arity;
    }

    public boolean isWrite() {
        return flags.contains("write");
    }

    public boolean isReadOnly() {
        return flags.contains("readonly");
    }

    /** The upper-case name Redis uses in error messages ({@code CONFIG SET} → {@code config|set}). */
    public String displayName() {
        return name.replace('|', ' ');
    }
}
