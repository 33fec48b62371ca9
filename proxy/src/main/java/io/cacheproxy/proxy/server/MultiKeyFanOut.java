package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ReplicaSet;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.cacheproxy.routing.CommandSpec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The multi-key commands Redis defines per key (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH), split by
 * owning node into one sub-command per node (so one pipelined round trip per node, not per key) and
 * merged into the reply Redis would give: MGET's values in the order of the keys, MSET's {@code +OK},
 * the others' counts summed. MSET is not atomic across nodes, as in Redis Cluster proxies. In a
 * replicated pool the keys are split by replica set, and each part is replicated.
 */
final class MultiKeyFanOut {
    private static final Set<String> SPLITTABLE = Set.of("mget", "mset", "del", "unlink", "exists", "touch");

    private MultiKeyFanOut() {
    }

    static boolean splits(CommandSpec spec) {
        return SPLITTABLE.contains(spec.name());
    }

    /** Takes ownership of {@code request}; completes {@code pending} when every node has answered. */
    static void start(ClientHandler client, LoopContext loop, ProxyContext proxy, RespVersion protocol,
                      RespRequest request, CommandSpec spec, int[] keys, PendingReply pending) {
        int stride = spec.name().equals("mset") ? 2 : 1;
        ByteBuf content = request.content();
        // group the keys by owner (node, and slot for a cluster pool), keeping each group's keys in request order
        Map<Group, List<Integer>> groups = new LinkedHashMap<>();
        int[] groupOfKey = new int[keys.length];
        int[] indexInGroup = new int[keys.length];
        List<Group> order = new ArrayList<>();
        for (int k = 0; k < keys.length; k++) {
            int arg = keys[k];
            BackendPool pool = proxy.routes().targetFor(content, request.argOffset(arg), request.argLength(arg));
            Group owner = pool.replicated()
                    ? new Group(pool, null, -1, pool.replicasFor(content, request.argOffset(arg), request.argLength(arg)))
                    : new Group(pool, pool.nodeFor(content, request.argOffset(arg), request.argLength(arg)),
                            pool.slotFor(content, request.argOffset(arg), request.argLength(arg)), null);
            List<Integer> group = groups.get(owner);
            if (group == null) {
                group = new ArrayList<>();
                groups.put(owner, group);
                order.add(owner);
            }
            groupOfKey[k] = order.indexOf(owner);
            indexInGroup[k] = group.size();
            group.add(arg);
        }
        FanOut.Merge merge = switch (spec.name()) {
            case "mget" -> (alloc, parts) -> mergeMget(alloc, parts, groupOfKey, indexInGroup);
            case "mset" -> FanOut.FIRST;
            default -> FanOut.SUM;
        };
        ByteBufAllocator alloc = client.channel().alloc();
        FanOut fanOut = new FanOut(pending, order.size(), merge, alloc);
        long timeout = Long.MAX_VALUE;
        for (Group group : order) {
            timeout = Math.min(timeout, group.pool().settings().commandTimeout().toNanos());
        }
        pending.deadlineNanos = pending.startNanos + timeout;
        try {
            for (int g = 0; g < order.size(); g++) {
                Group group = order.get(g);
                List<Integer> args = groups.get(group);
                ByteBuf sub = alloc.buffer(content.readableBytes() / order.size() + 32);
                RespWriter.writeArrayHeader(sub, 1 + args.size() * stride);
                RespWriter.writeBulk(sub, request.arg(0));
                for (int arg : args) {
                    for (int s = 0; s < stride; s++) {
                        RespWriter.writeBulk(sub, request.arg(arg + s));
                    }
                }
                if (group.replicas() != null) {
                    int[] keyArgs = args.stream().mapToInt(Integer::intValue).toArray();
                    proxy.replication(group.pool()).send(loop, group.replicas(), protocol, sub, !spec.isReadOnly(),
                            request, -1, keyArgs, fanOut.part(g));
                } else {
                    ClusterRedirect.send(loop, group.pool(), group.node(), protocol, sub, fanOut.part(g));
                }
            }
        } finally {
            request.release();
        }
    }

    /**
     * The keys of one sub-request: one node, and for a cluster pool one slot (-1 otherwise); in a
     * replicated pool, one replica set instead of a node.
     */
    private record Group(BackendPool pool, BackendNode node, int slot, ReplicaSet replicas) {
    }

    private static ByteBuf mergeMget(ByteBufAllocator alloc, ByteBuf[] parts, int[] groupOfKey, int[] indexInGroup) {
        List<List<ByteBuf>> values = new ArrayList<>(parts.length);
        int bytes = 16;
        for (ByteBuf part : parts) {
            values.add(FanOut.elements(part));
            bytes += part.readableBytes();
        }
        ByteBuf out = alloc.buffer(bytes);
        RespWriter.writeArrayHeader(out, groupOfKey.length);
        for (int k = 0; k < groupOfKey.length; k++) {
            ByteBuf value = values.get(groupOfKey[k]).get(indexInGroup[k]);
            out.writeBytes(value, value.readerIndex(), value.readableBytes());
        }
        return out;
    }
}
