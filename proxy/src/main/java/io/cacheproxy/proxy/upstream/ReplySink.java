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

    /**
     * The reply is {@code in[index, index + length)}, valid only during this call and not owned by
     * the sink: a sink that keeps it retains a slice or copies it. By default it keeps a retained
     * slice and calls {@link #onReply(ByteBuf)}.
     */
    default void onReply(ByteBuf in, int index, int length) {
        onReply(in.retainedSlice(index, length));
    }

    /** The backend could not answer; {@code error} is the error reply text without the leading '-'. */
    void onFailure(String error);

    /** {@link System#nanoTime()} after which the request has failed; {@link Long#MAX_VALUE} for none. */
    long deadlineNanos();

    /**
     * A sink that reads each reply where it lies ({@link #onReply(ByteBuf, int, int)}); a reply
     * handed over as a buffer is read the same way, then released.
     */
    abstract class InPlace implements ReplySink {
        @Override
        public final void onReply(ByteBuf reply) {
            try {
                onReply(reply, reply.readerIndex(), reply.readableBytes());
            } finally {
                reply.release();
            }
        }

        @Override
        public abstract void onReply(ByteBuf in, int index, int length);
    }

    /** Takes replies nobody waits for (an ASKING's, a broadcast PUBLISH's) and ignores failures. */
    ReplySink IGNORE = new ReplySink() {
        @Override
        public void onReply(ByteBuf reply) {
            reply.release();
        }

        @Override
        public void onReply(ByteBuf in, int index, int length) {
        }

        @Override
        public void onFailure(String error) {
        }

        @Override
        public long deadlineNanos() {
            return Long.MAX_VALUE;
        }
    };
}
