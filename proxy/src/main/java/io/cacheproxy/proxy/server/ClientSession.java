package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.tracking.TrackingOptions;
import io.cacheproxy.resp.RespVersion;

/**
 * The connection state a client expects of "its" Redis server, kept by the proxy because backend
 * connections are shared: protocol version (HELLO), name (CLIENT SETNAME), library info
 * (CLIENT SETINFO), authentication, reply mode (CLIENT REPLY) and open transaction/watch.
 *
 * <p>Confined to the client's event loop.
 */
final class ClientSession {
    /** What CLIENT REPLY has set. */
    enum ReplyMode { ON, OFF, SKIP }

    final long id;
    final long createdAtMillis = System.currentTimeMillis();
    RespVersion protocol = RespVersion.RESP2;
    String name;
    String libName;
    String libVersion;
    String user;
    boolean authenticated;
    ReplyMode replyMode = ReplyMode.ON;
    /** MULTI sent and not yet EXEC/DISCARD. */
    boolean inMulti;
    /** A command was refused while queueing: EXEC must answer EXECABORT. */
    boolean multiFailed;
    /** WATCH sent and not yet EXEC/DISCARD/UNWATCH. */
    boolean watching;
    /** Subscribed: every command goes through the client's tunnel to its node. */
    boolean tunneled;
    long lastCommandAtMillis = createdAtMillis;
    /** CLIENT TRACKING on: its options; null while off. */
    TrackingOptions tracking;
    /** CLIENT CACHING yes/no, for the next command only; null when not given. */
    Boolean cachingNext;
    /** RESP2: SUBSCRIBEd to {@code __redis__:invalidate}, so it can be a tracking redirect target. */
    volatile boolean subscribedToInvalidations;

    ClientSession(long id, boolean authRequired) {
        this.id = id;
        this.authenticated = !authRequired;
        this.user = authRequired ? null : "default";
    }

    /** RESET: back to a fresh connection's state, authentication included. */
    void reset(boolean authRequired) {
        protocol = RespVersion.RESP2;
        name = null;
        replyMode = ReplyMode.ON;
        inMulti = false;
        multiFailed = false;
        watching = false;
        tracking = null;
        cachingNext = null;
        subscribedToInvalidations = false;
        authenticated = !authRequired;
        user = authRequired ? null : "default";
    }

    boolean pinned() {
        return inMulti || watching;
    }

    @Override
    public String toString() {
        return "client " + id;
    }
}
