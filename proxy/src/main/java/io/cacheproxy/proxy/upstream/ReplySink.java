package io.cacheproxy.proxy.upstream;

import io.netty.buffer.ByteBuf;

/**
 * Where the reply to one forwarded command goes. An {@link UpstreamConnection} keeps its sinks in
 * a FIFO in the order the commands were written and completes each exactly once: with the reply
 * bytes, or with a failure when the connection breaks or the deadline passes.
 */
public interface ReplySink {

    /** Takes ownership of {@code reply}: the exact bytes of one RESP reply. */
    void onReply(ByteBuf reply);

    /** The backend could not answer; {@code error} is the error reply text without the leading '-'. */
    void onFailure(String error);

    /** {@link System#nanoTime()} after which the request has failed; {@link Long#MAX_VALUE} for none. */
    long deadlineNanos();
}
