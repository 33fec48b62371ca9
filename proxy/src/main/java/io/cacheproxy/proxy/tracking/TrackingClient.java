package io.cacheproxy.proxy.tracking;

import io.cacheproxy.resp.RespVersion;
import io.netty.buffer.ByteBuf;

/** A client connection as {@link ClientTracking} sees it: where invalidation messages go. */
public interface TrackingClient {

    long id();

    /** The protocol it speaks now (decides the form of the message). */
    RespVersion protocol();

    /** RESP2: whether it is subscribed to {@code __redis__:invalidate} (else it gets no messages). */
    boolean subscribedToInvalidations();

    /**
     * Queues {@code message} (taking ownership) after every reply the client has been sent or is
     * owed so far. Safe from any thread.
     */
    void push(ByteBuf message);
}
