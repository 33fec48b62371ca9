package io.cacheproxy.routing;

import io.cacheproxy.resp.RespRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every command the proxy knows, with Redis's arity and key positions and the proxy's
 * {@link CommandKind}. Built from {@code commands.tsv}, which {@code routing/tools/dump-commands.py}
 * generates from a real server's {@code COMMAND} reply, plus the few commands of newer Redis
 * versions listed in {@link #NEWER_COMMANDS}.
 *
 * <p>Lookups read the command name straight from the request bytes (no {@code String} per request).
 * Container commands ({@code CONFIG}, {@code CLIENT}, {@code OBJECT} …) resolve to their subcommand's
 * spec when it is known, else to the container's spec.
 *
 * <p>Immutable and thread-safe.
 */
public final class CommandTable {

    /** Commands never allowed through the proxy, whatever the pool says (shared/SPEC.md §4). */
    static final Set<String> FORBIDDEN = Set.of(
            "shutdown", "replicaof", "slaveof", "sync", "psync", "monitor", "replconf", "failover");

    /** Answered by the proxy from the client's session. */
    static final Set<String> CONNECTION = Set.of(
            "ping", "echo", "quit", "reset", "hello", "auth", "select",
            "client", "client|setname", "client|getname", "client|id", "client|setinfo", "client|info",
            "client|reply", "client|help", "client|tracking", "client|caching", "client|trackinginfo",
            "client|getredir", "client|no-touch");

    /** Need every shard: answered by fanning out and merging. */
    static final Set<String> WHOLE_KEYSPACE = Set.of(
            "dbsize", "keys", "scan", "randomkey", "flushdb", "flushall", "info",
            "script", "script|load", "script|exists", "script|flush", "script|kill",
            "function", "function|load", "function|flush", "function|delete", "function|restore",
            "function|dump", "function|list", "function|stats", "function|kill");

    /** Administration beyond Redis's own {@code admin} flag (shared/SPEC.md §2 {@code admin-commands}). */
    static final Set<String> EXTRA_ADMIN = Set.of(
            "config", "debug", "object", "memory", "cluster", "acl", "module", "slowlog", "latency",
            "swapdb", "lastsave", "save", "bgsave", "bgrewriteaof", "pfdebug", "pfselftest", "migrate",
            "script|debug");

    static final Set<String> TRANSACTION = Set.of("multi", "exec", "discard", "watch", "unwatch");

    static final Set<String> SUBSCRIBE = Set.of(
            "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe");

    /**
     * Publishing to a shard channel. Every subscription, shard channels included, lives on the
     * default pool's first node, where publishers and subscribers on any proxy meet; so SPUBLISH goes
     * there like PUBLISH instead of to its channel's owner on the ring.
     */
    static final Set<String> PUBLISH_TO_SUBSCRIBERS_NODE = Set.of("spublish");

    /** Commands of Redis 7.2 that the 7.0 {@code COMMAND} dump lacks: name, arity, flags, first, last, step, categories. */
    static final List<String> NEWER_COMMANDS = List.of(
            "client|setinfo\t-4\tnoscript,loading,stale\t0\t0\t0\tslow,connection",
            "client|no-touch\t3\tnoscript,loading,stale\t0\t0\t0\tslow,connection",
            "waitaof\t4\tnoscript\t0\t0\t0\tslow,connection");

    private static final String RESOURCE = "commands.tsv";

    private final Map<String, CommandSpec> byName;
    private final NameIndex<Entry> index;

    /** A top-level command and, for containers, the index of its subcommands. */
    private record Entry(CommandSpec spec, NameIndex<CommandSpec> subcommands) {
    }

    private CommandTable(Map<String, CommandSpec> specs) {
        TreeMap<String, CommandSpec> sorted = new TreeMap<>();
        int id = 0;
        for (CommandSpec spec : new TreeMap<>(specs).values()) {
            sorted.put(spec.name(), spec.withId(id++));
        }
        this.byName = Collections.unmodifiableMap(sorted);
        Map<String, CommandSpec> top = new HashMap<>();
        Map<String, Map<String, CommandSpec>> subs = new HashMap<>();
        for (CommandSpec spec : sorted.values()) {
            int bar = spec.name().indexOf('|');
            if (bar < 0) {
                top.put(spec.name(), spec);
            } else {
                subs.computeIfAbsent(spec.name().substring(0, bar), k -> new HashMap<>())
                        .put(spec.name().substring(bar + 1), spec);
            }
        }
        Map<String, NameIndex<CommandSpec>> subIndexes = new HashMap<>();
        subs.forEach((container, subSpecs) -> subIndexes.put(container, new NameIndex<>(subSpecs)));
        Map<String, Entry> entries = new HashMap<>();
        top.forEach((name, spec) -> entries.put(name, new Entry(spec, subIndexes.get(name))));
        this.index = new NameIndex<>(entries);
    }

    /** The table shipped with the proxy. */
    public static CommandTable standard() {
        try (InputStream in = CommandTable.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCE);
            }
            Map<String, CommandSpec> specs = new LinkedHashMap<>();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    CommandSpec spec = parseLine(line);
                    specs.put(spec.name(), spec);
                }
            }
            for (String line : NEWER_COMMANDS) {
                CommandSpec spec = parseLine(line);
                specs.putIfAbsent(spec.name(), spec);
            }
            return new CommandTable(specs);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }

    static CommandSpec parseLine(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 7) {
            throw new IllegalArgumentException("command table line: " + line + " (expected: 7 tab-separated fields)");
        }
        String name = f[0];
        Set<String> flags = splitSet(f[2]);
        int firstKey = Integer.parseInt(f[3]);
        Set<String> categories = splitSet(f[6]);
        return new CommandSpec(name, Integer.parseInt(f[1]), flags, firstKey, Integer.parseInt(f[4]),
                Integer.parseInt(f[5]), categories, classify(name, flags, firstKey), -1);
    }

    private static Set<String> splitSet(String field) {
        return field.isEmpty() ? Set.of() : Set.copyOf(Arrays.asList(field.split(",")));
    }

    /** The proxy's handling of a command; the order of the checks is the precedence. */
    static CommandKind classify(String name, Set<String> flags, int firstKey) {
        String container = name.contains("|") ? name.substring(0, name.indexOf('|')) : name;
        if (FORBIDDEN.contains(container)) {
            return CommandKind.FORBIDDEN;
        }
        if (CONNECTION.contains(name) || (CONNECTION.contains(container) && !flags.contains("admin"))) {
            return CommandKind.CONNECTION;
        }
        if (flags.contains("admin") || EXTRA_ADMIN.contains(name) || EXTRA_ADMIN.contains(container)) {
            return CommandKind.ADMIN;
        }
        if (TRANSACTION.contains(name)) {
            return CommandKind.TRANSACTION;
        }
        if (SUBSCRIBE.contains(name)) {
            return CommandKind.SUBSCRIBE;
        }
        if (PUBLISH_TO_SUBSCRIBERS_NODE.contains(name)) {
            return CommandKind.KEYLESS;
        }
        if (flags.contains("blocking") || name.equals("wait") || name.equals("waitaof")) {
            return CommandKind.BLOCKING;
        }
        if (WHOLE_KEYSPACE.contains(name) || WHOLE_KEYSPACE.contains(container)) {
            return CommandKind.WHOLE_KEYSPACE;
        }
        if (flags.contains("movablekeys")) {
            return CommandKind.MOVABLE_KEYS;
        }
        if (firstKey > 0) {
            return CommandKind.KEYED;
        }
        return CommandKind.KEYLESS;
    }

    /**
     * The spec for a request, resolving {@code container subcommand}; null for an unknown command.
     * Reads the name bytes in place: no allocation.
     */
    public CommandSpec lookup(RespRequest request) {
        if (request.argCount() == 0) {
            return null;
        }
        Entry entry = index.get(request.content(), request.argOffset(0), request.argLength(0));
        if (entry == null) {
            return null;
        }
        if (entry.subcommands() != null && request.argCount() > 1) {
            CommandSpec sub = entry.subcommands().get(request.content(), request.argOffset(1), request.argLength(1));
            if (sub != null) {
                return sub;
            }
        }
        return entry.spec();
    }

    /**
     * The index of the last key argument of a request with {@code argc} arguments, resolving
     * negative {@link CommandSpec#lastKey()} values (counted from the end).
     */
    public static int lastKeyIndex(CommandSpec spec, int argc) {
        int last = spec.lastKey() < 0 ? argc + spec.lastKey() : spec.lastKey();
        return Math.min(last, argc - 1);
    }

    /** The spec for a lower-case name such as {@code "get"} or {@code "config|set"}, or null. */
    public CommandSpec get(String name) {
        return byName.get(name);
    }

    /** Number of specs; ids run from 0 to size() - 1. */
    public int size() {
        return byName.size();
    }

    /** Every spec, sorted by name (and so by id). */
    public Collection<CommandSpec> all() {
        return byName.values();
    }
}
