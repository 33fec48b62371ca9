package io.cacheproxy.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/**
 * Coalesces the many small messages one event-loop pass writes to a channel into one buffer, so the
 * channel sees one write per flush instead of one per command or reply. Each Netty write costs a
 * pipeline traversal, an outbound entry and atomic pending-byte accounting; copying a 30-byte GET
 * is far cheaper. Messages larger than {@value #COPY_LIMIT} bytes are not copied: they are written
 * as they are (zero-copy), after whatever was batched before them, so order is kept.
 *
 * <p>Takes ownership of every message given to {@link #write}. Confined to the channel's event loop.
 */
public final class OutboundBatch {
    /** Largest message that is copied rather than written as its own buffer. */
    static final int COPY_LIMIT = 2048;
    /** A batch buffer is written out once it holds this much, and a new one started. */
    private static final int BATCH_LIMIT = 64 * 1024;
    private static final int INITIAL_CAPACITY = 4096;

    private final Channel channel;
    private ByteBuf batch;

    public OutboundBatch(Channel channel) {
        this.channel = channel;
    }

    /** Queues {@code message} (taking ownership); nothing reaches the socket before {@link #flush()}. */
    public void write(ByteBuf message) {
        int length = message.readableBytes();
        if (length > COPY_LIMIT) {
            writeBatch();
            channel.write(message, channel.voidPromise());
            return;
        }
        try {
            if (batch == null) {
                batch = channel.alloc().directBuffer(INITIAL_CAPACITY);
            } else if (batch.readableBytes() + length > BATCH_LIMIT) {
                writeBatch();
                batch = channel.alloc().directBuffer(INITIAL_CAPACITY);
            }
            batch.writeBytes(message, message.readerIndex(), length);
        } finally {
            message.release();
        }
    }

    /** Writes what is batched and flushes the channel. */
    public void flush() {
        writeBatch();
        channel.flush();
    }

    /** Bytes queued here and not yet handed to the channel. */
    public int pendingBytes() {
        return batch == null ? 0 : batch.readableBytes();
    }

    /** Drops whatever is batched (the channel is closing). */
    public void discard() {
        if (batch != null) {
            batch.release();
            batch = null;
        }
    }

    private void writeBatch() {
        if (batch != null) {
            ByteBuf out = batch;
            batch = null;
            if (channel.isActive()) {
                channel.write(out, channel.voidPromise());
            } else {
                out.release();
            }
        }
    }
}
