package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.ErrorReplies;
import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.proxy.upstream.PoolNode;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * SCAN over every node, one node after the other. The client's cursor carries the node: its low
 * {@value #NODE_BITS} bits are the node's index (in the order of the pools' node lists) and the rest
 * is that node's own cursor. When a node's cursor comes back 0, the next cursor starts the next node
 * at 0; after the last node the cursor is 0. Redis SCAN's guarantee (every key present for the whole
 * iteration is returned at least once) holds per node, hence for the whole.
 */
final class ShardedScan {
    static final int NODE_BITS = 8;
    private static final long NODE_MASK = (1L << NODE_BITS) - 1;

    private ShardedScan() {
    }

    /** Takes ownership of {@code request}. */
    static void start(ClientHandler client, LoopContext loop, ProxyContext proxy, RespVersion protocol,
                      RespRequest request, PendingReply pending) {
        List<PoolNode> nodes = proxy.allNodes();
        long cursor;
        try {
            cursor = Long.parseUnsignedLong(request.argString(1));
        } catch (NumberFormatException e) {
            request.release();
            client.completeWithError(pending, "ERR invalid cursor");
            return;
        }
        int nodeIndex = (int) (cursor & NODE_MASK);
        long nodeCursor = cursor >>> NODE_BITS;
        if (nodeIndex >= nodes.size()) {
            request.release();
            client.completeWithError(pending, "ERR invalid cursor");
            return;
        }
        // SCAN <node cursor> [the client's options]
        ByteBuf sub = client.channel().alloc().buffer(request.content().readableBytes() + 16);
        RespWriter.writeArrayHeader(sub, request.argCount());
        RespWriter.writeBulk(sub, request.arg(0));
        RespWriter.writeBulk(sub, Long.toUnsignedString(nodeCursor));
        for (int i = 2; i < request.argCount(); i++) {
            RespWriter.writeBulk(sub, request.arg(i));
        }
        request.release();
        int node = nodeIndex;
        int nodeCount = nodes.size();
        loop.shared(nodes.get(node).pool(), nodes.get(node).node(), protocol).send(sub, new ReplySink() {
            @Override
            public void onReply(ByteBuf reply) {
                try {
                    byte type = reply.getByte(reply.readerIndex());
                    if (type == '-' || type == '!') {
                        client.complete(pending, reply.retain());
                        return;
                    }
                    List<ByteBuf> parts = FanOut.elements(reply);
                    ByteBuf cursorBulk = parts.get(0);
                    String next = cursorBulk.toString(StandardCharsets.US_ASCII);
                    long nextNodeCursor = Long.parseUnsignedLong(next.substring(next.indexOf('\n') + 1).trim());
                    if (nextNodeCursor >>> (64 - NODE_BITS) != 0) {
                        client.completeWithError(pending, ErrorReplies.scanCursorTooLarge(nodes.get(node).node().name()));
                        return;
                    }
                    long clientCursor;
                    if (nextNodeCursor != 0) {
                        clientCursor = (nextNodeCursor << NODE_BITS) | node;
                    } else {
                        clientCursor = node + 1 < nodeCount ? node + 1 : 0;
                    }
                    ByteBuf keys = parts.get(1);
                    PoolNode scanned = nodes.get(node);
                    ByteBuf served = scanned.pool().replicated()
                            ? ServedKeys.keep(client.channel().alloc(), keys, scanned.pool(), scanned.node()) : null;
                    if (served != null) {
                        keys = served;
                    }
                    ByteBuf out = client.channel().alloc().buffer(keys.readableBytes() + 32);
                    RespWriter.writeArrayHeader(out, 2);
                    RespWriter.writeBulk(out, Long.toUnsignedString(clientCursor));
                    out.writeBytes(keys, keys.readerIndex(), keys.readableBytes());
                    if (served != null) {
                        served.release();
                    }
                    client.complete(pending, out);
                } finally {
                    reply.release();
                }
            }

            @Override
            public void onFailure(String error) {
                client.completeWithError(pending, error);
            }

            @Override
            public long deadlineNanos() {
                return pending.deadlineNanos;
            }
        });
    }
}
