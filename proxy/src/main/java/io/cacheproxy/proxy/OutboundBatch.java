package io.cacheproxy.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.util.internal.PlatformDependent;

/**
 * Coalesces the many small messages one event-loop pass writes to a channel into one buffer, so the
 * channel sees one write per flush instead of one per command or reply. Each Netty write costs a
 * pipeline traversal, an outbound entry and atomic pending-byte accounting; copying a 30-byte GET
 * is far cheaper. Messages larger than {@value #COPY_LIMIT} bytes are not copied: they are written
 * as they are (zero-copy), after whatever was batched before them, so order is kept.
 *
 * <p>A message that is alone in its batch is written as it is, without a copy or an allocation (the
 * common case without pipelining); copying starts with the second message.
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
    /** The first small message of a batch, held uncopied until a second one arrives. */
    private ByteBuf single;

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
        if (batch == null && single == null) {
            single = message;
            return;
        }
        try {
            append(batchWithRoomFor(length), message, message.readerIndex(), length);
        } finally {
            message.release();
        }
    }

    /**
     * Queues a copy of {@code src[index, index + length)}; {@code src} stays the caller's. Saves the
     * slice a {@link #write} would need when the bytes are copied into the batch anyway. A message
     * over {@value #COPY_LIMIT} bytes is still written as a (retained) slice, uncopied.
     */
    public void writeCopy(ByteBuf src, int index, int length) {
        if (length > COPY_LIMIT) {
            write(src.retainedSlice(index, length));
            return;
        }
        append(batchWithRoomFor(length), src, index, length);
    }

    /**
     * Queues a copy of {@code src} (an immutable array, such as a reply L1 holds). One over
     * {@value #COPY_LIMIT} bytes is written as a wrapper of the array, uncopied.
     */
    public void writeBytes(byte[] src) {
        if (src.length > COPY_LIMIT) {
            write(Unpooled.wrappedBuffer(src));
            return;
        }
        ByteBuf dst = batchWithRoomFor(src.length);
        if (PlatformDependent.hasUnsafe() && dst.hasMemoryAddress()) {
            dst.ensureWritable(src.length);
            PlatformDependent.copyMemory(src, 0, dst.memoryAddress() + dst.writerIndex(), src.length);
            dst.writerIndex(dst.writerIndex() + src.length);
        } else {
            dst.writeBytes(src);
        }
    }

    /**
     * The batch buffer that the next {@code length} bytes go to: started when there is none (taking
     * in the held lone message, if any), or written out and started again when they would not fit
     * under {@value #BATCH_LIMIT}. A batch started for a lone copy gets a small buffer: without
     * pipelining most batches hold one reply.
     */
    private ByteBuf batchWithRoomFor(int length) {
        if (batch == null) {
            int held = single != null ? single.readableBytes() : 0;
            batch = channel.alloc().directBuffer(Math.max(held + length, single != null ? INITIAL_CAPACITY : 256));
            if (single != null) {
                append(batch, single, single.readerIndex(), held);
                single.release();
                single = null;
            }
        } else if (batch.readableBytes() + length > BATCH_LIMIT) {
            writeBatch();
            batch = channel.alloc().directBuffer(INITIAL_CAPACITY);
        }
        return batch;
    }

    /**
     * Copies {@code src[index, index+length)} to the end of {@code dst}. With both buffers in native
     * memory it is one memory copy; {@code ByteBuf.writeBytes} between two direct buffers instead
     * makes two temporary NIO buffer views per call, which JFR showed as 60% of the proxy's
     * allocations.
     */
    static void append(ByteBuf dst, ByteBuf src, int index, int length) {
        if (PlatformDependent.hasUnsafe() && dst.hasMemoryAddress() && src.hasMemoryAddress()) {
            dst.ensureWritable(length);
            PlatformDependent.copyMemory(src.memoryAddress() + index, dst.memoryAddress() + dst.writerIndex(), length);
            dst.writerIndex(dst.writerIndex() + length);
        } else {
            dst.writeBytes(src, index, length);
        }
    }

    /** Writes what is batched and flushes the channel. */
    public void flush() {
        writeBatch();
        channel.flush();
    }

    /** Bytes queued here and not yet handed to the channel. */
    public int pendingBytes() {
        return batch != null ? batch.readableBytes() : single != null ? single.readableBytes() : 0;
    }

    /** Drops whatever is batched (the channel is closing). */
    public void discard() {
        if (single != null) {
            single.release();
            single = null;
        }
        if (batch != null) {
            batch.release();
            batch = null;
        }
    }

    private void writeBatch() {
        ByteBuf out = batch != null ? batch : single;
        batch = null;
        single = null;
        if (out != null) {
            if (channel.isActive()) {
                channel.write(out, channel.voidPromise());
            } else {
                out.release();
            }
        }
    }
}
