package io.cacheproxy.proxy.l1;

import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.routing.CommandSpec;
import io.cacheproxy.routing.CommandTable;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;

/**
 * The reads whose replies L1 may hold: each reads one key (at argument 1) and its reply depends only
 * on that key's value and the arguments. GET, HGET, HMGET, HGETALL, HEXISTS, STRLEN, EXISTS with one
 * key, GETRANGE, SMEMBERS, SISMEMBER, LRANGE, TYPE, and ZRANGE in its plain form
 * ({@code ZRANGE key start stop [WITHSCORES]}; the BYSCORE/BYLEX/REV/LIMIT forms are not cached).
 * Immutable.
 */
public final class CacheableReads {
    static final List<String> NAMES = List.of("get", "hget", "hmget", "hgetall", "hexists", "strlen", "exists",
            "getrange", "smembers", "sismember", "zrange", "lrange", "type");
    private static final byte[] WITHSCORES = "WITHSCORES".getBytes(StandardCharsets.US_ASCII);

    private final BitSet ids = new BitSet();
    private final java.util.Map<Integer, String> names = new java.util.HashMap<>();
    private final int exists;
    private final int zrange;
    private final int get;
    private final int mget;

    public CacheableReads(CommandTable table) {
        java.util.Map<String, Integer> idByName = new java.util.HashMap<>();
        for (CommandSpec spec : table.all()) {
            idByName.put(spec.name(), spec.id());
        }
        for (String name : NAMES) {
            int id = idOf(idByName, name);
            ids.set(id);
            names.put(id, name);
        }
        exists = idOf(idByName, "exists");
        zrange = idOf(idByName, "zrange");
        get = idOf(idByName, "get");
        mget = idOf(idByName, "mget");
    }

    private static int idOf(java.util.Map<String, Integer> idByName, String name) {
        Integer id = idByName.get(name);
        if (id == null) {
            throw new IllegalStateException("the command table lacks " + name);
        }
        return id;
    }

    /** GET's id: MGET's keys are looked up as L1's GET entries. */
    public int getId() {
        return get;
    }

    /** MGET's id (MGET is served per key, see the server's NearCacheMget). */
    public int mgetId() {
        return mget;
    }

    /** The name of the cacheable read with {@code id}, or null. */
    public String nameOf(int id) {
        return names.get(id);
    }

    /** Whether {@code request} (a {@code spec} command of valid arity) is a read L1 may answer. */
    public boolean accepts(CommandSpec spec, RespRequest request) {
        int id = spec.id();
        if (!ids.get(id)) {
            return false;
        }
        if (id == exists) {
            return request.argCount() == 2;
        }
        if (id == zrange) {
            int n = request.argCount();
            return n == 4 || n == 5 && request.argEqualsIgnoreCase(4, WITHSCORES);
        }
        return true;
    }
}
