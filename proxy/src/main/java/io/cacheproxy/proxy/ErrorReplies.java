package io.cacheproxy.proxy;

/**
 * Every error text the proxy itself sends, in one place (Envoy's {@code ResponseValues}). Texts
 * follow Redis's own where Redis has one, so clients that match on them keep working. Each method
 * returns the reply without the leading {@code -} and without CRLF.
 */
public final class ErrorReplies {
    private ErrorReplies() {
    }

    public static String backendUnavailable(String pool, String node) {
        return "ERR backend unavailable: pool " + pool + ", node " + node;
    }

    /** A blocking command while every connection the pool allows for them to the node is taken. */
    public static String tooManyBlockingCommands(String pool, String node, int limit) {
        return "ERR too many blocking commands in flight: pool " + pool + ", node " + node + " has all " + limit
                + " of its blocking connections busy (pools." + pool + ".blocking-connections)";
    }

    public static String notAllowed(String command) {
        return "ERR command '" + command + "' is not allowed through the proxy";
    }

    public static String unknownSubcommand(String sub, String container) {
        return "ERR unknown subcommand '" + sub + "'. Try " + container.toUpperCase(java.util.Locale.ROOT) + " HELP.";
    }

    public static String wrongArity(String name) {
        return "ERR wrong number of arguments for '" + name + "' command";
    }

    public static String crossShardNotSupported(String command) {
        return "ERR command '" + command + "' needs every shard and is not supported on a pool with more than one node yet";
    }

    public static String scanCursorTooLarge(String node) {
        return "ERR SCAN cursor of node " + node + " does not fit the proxy's cursor encoding";
    }

    public static String crossSlot() {
        return "CROSSSLOT Keys in request don't hash to the same slot";
    }

    public static String notInTransaction(String command) {
        return "ERR command '" + command + "' is not allowed inside a transaction through the proxy";
    }

    public static final String EXECABORT = "EXECABORT Transaction discarded because of previous errors.";
    public static final String NOAUTH = "NOAUTH Authentication required.";
    public static final String WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";
    public static final String AUTH_WITHOUT_PASSWORD = "ERR AUTH <password> called without any password configured "
            + "for the default user. Are you sure your configuration is correct?";
    public static final String NOPROTO = "NOPROTO unsupported protocol version";
    public static final String DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range";
    public static final String NOT_AN_INTEGER = "ERR value is not an integer or out of range";
    public static final String SYNTAX = "ERR syntax error";
    public static final String CLIENT_NAME_INVALID =
            "ERR Client names cannot contain spaces, newlines or special characters.";
    public static final String MAX_CLIENTS = "ERR max number of clients reached";
    public static final String SHUTTING_DOWN = "ERR the proxy is shutting down";
}
