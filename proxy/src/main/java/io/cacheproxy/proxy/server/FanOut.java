package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespReplyScanner;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One client request answered by several nodes: collects one reply per part and, once all have
 * come, completes the client's {@link PendingReply} with their merge. If any part fails or answers
 * with an error, the client gets the first such error (in part order), as Redis would answer the
 * whole command with one error.
 *
 * <p>Owns the part replies until the merge, which releases them. Confined to the client's event loop.
 */
final class FanOut {
    /** Builds the client's reply from the part replies (all non-error); must not release them. */
    interface Merge {
        ByteBuf merge(ByteBufAllocator alloc, ByteBuf[] parts);
    }

    private final PendingReply target;
    private final ByteBuf[] replies;
    private final String[] failures;
    private final Merge merge;
    private final ByteBufAllocator alloc;
    private int remaining;

    FanOut(PendingReply target, int parts, Merge merge, ByteBufAllocator alloc) {
        this.target = target;
        this.replies = new ByteBuf[parts];
        this.failures = new String[parts];
        this.merge = merge;
        this.alloc = alloc;
        this.remaining = parts;
    }

    ReplySink part(int index) {
        return new ReplySink() {
            @Override
            public void onReply(ByteBuf reply) {
                replies[index] = reply;
                partDone();
            }

            @Override
            public void onFailure(String error) {
                failures[index] = error;
                partDone();
            }

            @Override
            public long deadlineNanos() {
                return target.deadlineNanos;
            }
        };
    }

    private void partDone() {
        if (--remaining > 0) {
            return;
        }
        ByteBuf result = null;
        String error = null;
        try {
            for (int i = 0; i < replies.length && result == null && error == null; i++) {
                if (failures[i] != null) {
                    error = failures[i];
                } else if (isError(replies[i])) {
                    result = replies[i].retainedDuplicate();
                }
            }
            if (result == null && error == null) {
                result = merge.merge(alloc, replies);
            }
        } finally {
            for (ByteBuf reply : replies) {
                if (reply != null) {
                    reply.release();
                }
            }
        }
        if (error != null) {
            target.onFailure(error);
        } else {
            target.onReply(result);
        }
    }

    private static boolean isError(ByteBuf reply) {
        byte type = reply.getByte(reply.readerIndex());
        return type == '-' || type == '!';
    }

    // ---- merges -------------------------------------------------------------------------------

    /** The first part's reply (CONFIG SET on every node, SCRIPT LOAD, FLUSHALL …). */
    static final Merge FIRST = (alloc, parts) -> parts[0].retainedDuplicate();

    /** Integer replies summed (DEL, UNLINK, EXISTS, TOUCH, DBSIZE). */
    static final Merge SUM = (alloc, parts) -> {
        long sum = 0;
        for (ByteBuf part : parts) {
            sum += integer(part);
        }
        ByteBuf out = alloc.buffer(24);
        RespWriter.writeInteger(out, sum);
        return out;
    };

    /** Arrays concatenated (KEYS). */
    static final Merge CONCAT = (alloc, parts) -> {
        List<ByteBuf> elements = new ArrayList<>();
        for (ByteBuf part : parts) {
            elements.addAll(elements(part));
        }
        ByteBuf out = alloc.buffer();
        RespWriter.writeArrayHeader(out, elements.size());
        for (ByteBuf element : elements) {
            out.writeBytes(element, element.readerIndex(), element.readableBytes());
        }
        return out;
    };

    /** Integer arrays combined element-wise with AND (SCRIPT EXISTS: loaded only if on every node). */
    static final Merge AND = (alloc, parts) -> {
        List<ByteBuf> first = elements(parts[0]);
        long[] result = new long[first.size()];
        java.util.Arrays.fill(result, 1);
        for (ByteBuf part : parts) {
            List<ByteBuf> elements = elements(part);
            for (int i = 0; i < result.length && i < elements.size(); i++) {
                if (integer(elements.get(i)) == 0) {
                    result[i] = 0;
                }
            }
        }
        ByteBuf out = alloc.buffer();
        RespWriter.writeArrayHeader(out, result.length);
        for (long r : result) {
            RespWriter.writeInteger(out, r);
        }
        return out;
    };

    /** The first part whose reply is not a null (RANDOMKEY). */
    static final Merge FIRST_NON_NULL = (alloc, parts) -> {
        for (ByteBuf part : parts) {
            byte type = part.getByte(part.readerIndex());
            if (type != '_' && !(type == '$' && part.getByte(part.readerIndex() + 1) == '-')) {
                return part.retainedDuplicate();
            }
        }
        return parts[0].retainedDuplicate();
    };

    /** The value of an integer reply {@code :N\r\n}. */
    static long integer(ByteBuf reply) {
        int start = reply.readerIndex();
        if (reply.getByte(start) != ':') {
            throw new IllegalStateException("expected an integer reply, got: "
                    + reply.toString(start, Math.min(32, reply.readableBytes()), StandardCharsets.UTF_8));
        }
        int end = reply.indexOf(start + 1, reply.writerIndex(), (byte) '\r');
        return Long.parseLong(reply.toString(start + 1, end - start - 1, StandardCharsets.US_ASCII));
    }

    /** Slices (not retained) of each element of an array reply ({@code *N} or a RESP3 set {@code ~N}). */
    static List<ByteBuf> elements(ByteBuf reply) {
        int start = reply.readerIndex();
        byte type = reply.getByte(start);
        if (type != '*' && type != '~') {
            throw new IllegalStateException("expected an array reply");
        }
        int lineEnd = reply.indexOf(start + 1, reply.writerIndex(), (byte) '\r');
        int count = Integer.parseInt(reply.toString(start + 1, lineEnd - start - 1, StandardCharsets.US_ASCII));
        List<ByteBuf> elements = new ArrayList<>(Math.max(0, count));
        ByteBuf cursor = reply.duplicate();
        cursor.readerIndex(lineEnd + 2);
        RespReplyScanner scanner = new RespReplyScanner(SCAN_LIMITS);
        for (int i = 0; i < count; i++) {
            int length = scanner.scan(cursor);
            elements.add(cursor.slice(cursor.readerIndex(), length));
            cursor.skipBytes(length);
        }
        return elements;
    }

    private static final RespLimits SCAN_LIMITS = RespLimits.DEFAULTS.withMaxNestingDepth(1024);
}
