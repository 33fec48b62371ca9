package io.cacheproxy.routing;

/**
 * How the proxy handles a command. Decided once per command name when the table is built, so the
 * hot path does a table lookup and a {@code switch}, nothing more.
 */
public enum CommandKind {
    /** Answered by the proxy itself: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT, CLIENT …. */
    CONNECTION,
    /** Sent to the node that owns the key at {@link CommandSpec#firstKey()}. */
    KEYED,
    /** Keys found by parsing the arguments (EVAL, XREAD, ZUNIONSTORE …), or no keys but data: any node of the pool holds the answer only when the pool has one node. */
    MOVABLE_KEYS,
    /** No keys, answerable by any node (TIME, LOLWUT, COMMAND …). */
    KEYLESS,
    /** Needs every node: DBSIZE, KEYS, SCAN, FLUSHALL, INFO, RANDOMKEY, SCRIPT … (merged across shards). */
    WHOLE_KEYSPACE,
    /** Blocks the connection it runs on: sent over a connection dedicated to this client. */
    BLOCKING,
    /** MULTI/EXEC/DISCARD/WATCH/UNWATCH: the client is pinned to a dedicated connection while a transaction or watch is open. */
    TRANSACTION,
    /** SUBSCRIBE and friends: the client's connection turns into a subscriber tunnel. */
    SUBSCRIBE,
    /** Server administration: refused unless the pool says {@code admin-commands: pass}. */
    ADMIN,
    /** Never allowed through the proxy, whatever the pool says (SHUTDOWN, REPLICAOF, SYNC, PSYNC, MONITOR …). */
    FORBIDDEN
}
