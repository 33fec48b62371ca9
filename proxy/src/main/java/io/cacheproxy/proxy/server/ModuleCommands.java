package io.cacheproxy.proxy.server;

import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespValue;
import io.cacheproxy.routing.CommandKind;
import io.cacheproxy.routing.CommandSpec;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Commands the proxy's table does not know (modules: {@code FT.SEARCH}, {@code JSON.GET} …), located
 * through the backend's own {@code COMMAND INFO}: its first key, last key and step say where the
 * keys are, so the command can be routed like a built-in one. Each name is asked once per proxy and
 * the answer kept. Shared by every event loop; thread-safe.
 */
public final class ModuleCommands {

    /** What the backend said of a command. */
    sealed interface Lookup permits Located, Unlocatable, UnknownToBackend {
    }

    /** Keys at fixed positions (or none): routed with {@code spec} like a built-in command. */
    record Located(CommandSpec spec) implements Lookup {
    }

    /** Keys that only parsing the arguments would find ({@code movablekeys}): refused on a many-node pool. */
    record Unlocatable(String name) implements Lookup {
    }

    /** The backend does not know it either: it is sent on, and Redis answers its own error. */
    record UnknownToBackend() implements Lookup {
    }

    private final ConcurrentHashMap<String, Lookup> known = new ConcurrentHashMap<>();

    /** What is known of {@code lowerCaseName}, or null when the backend has not been asked yet. */
    Lookup get(String lowerCaseName) {
        return known.get(lowerCaseName);
    }

    void put(String lowerCaseName, Lookup lookup) {
        known.put(lowerCaseName, lookup);
    }

    /**
     * Reads the reply to {@code COMMAND INFO name} (RESP2 or RESP3): an array holding one entry,
     * null when the command does not exist, else {@code [name, arity, flags, first, last, step, …]}.
     * Returns null for a reply of any other shape.
     */
    static Lookup parse(ByteBuf reply, String lowerCaseName, int metricsId) {
        RespValue value;
        try {
            value = RespValue.read(reply.duplicate(), RespLimits.DEFAULTS);
        } catch (RuntimeException e) {
            return null;
        }
        if (!(value instanceof RespValue.ArrayValue outer) || outer.elements() == null || outer.elements().size() != 1) {
            return null;
        }
        RespValue entry = outer.elements().get(0);
        if (entry instanceof RespValue.NullValue                                   // RESP3: _
                || entry instanceof RespValue.BulkString b && b.value() == null      // RESP2: $-1
                || entry instanceof RespValue.ArrayValue a && a.elements() == null) {
            return new UnknownToBackend();
        }
        if (!(entry instanceof RespValue.ArrayValue info) || info.elements().size() < 6) {
            return null;
        }
        List<RespValue> e = info.elements();
        if (!(e.get(1) instanceof RespValue.IntegerValue arity)
                || !(e.get(3) instanceof RespValue.IntegerValue first)
                || !(e.get(4) instanceof RespValue.IntegerValue last)
                || !(e.get(5) instanceof RespValue.IntegerValue step)) {
            return null;
        }
        Set<String> flags = new HashSet<>();
        List<RespValue> flagValues = e.get(2) instanceof RespValue.ArrayValue fa && fa.elements() != null ? fa.elements()
                : e.get(2) instanceof RespValue.SetValue fs ? fs.elements() : List.of();
        for (RespValue flag : flagValues) {
            if (flag instanceof RespValue.SimpleString s) {
                flags.add(s.value());
            } else if (flag instanceof RespValue.BulkString b && b.value() != null) {
                flags.add(new String(b.value(), StandardCharsets.UTF_8));
            }
        }
        if (flags.contains("movablekeys")) {
            return new Unlocatable(lowerCaseName);
        }
        CommandKind kind = first.value() > 0 ? CommandKind.KEYED : CommandKind.KEYLESS;
        return new Located(new CommandSpec(lowerCaseName, (int) arity.value(), flags, (int) first.value(),
                (int) last.value(), (int) Math.max(0, step.value()), Set.of(), kind, metricsId));
    }
}
