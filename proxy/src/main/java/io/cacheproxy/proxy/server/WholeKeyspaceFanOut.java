package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.proxy.upstream.PoolNode;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.cacheproxy.routing.CommandSpec;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;

/**
 * Commands about the whole keyspace, sent to every node of every pool and merged: DBSIZE (sum),
 * KEYS (concatenated), FLUSHALL/FLUSHDB and SCRIPT LOAD/FLUSH/KILL and FUNCTION … (every node, the
 * first node's reply), SCRIPT EXISTS (loaded only where loaded everywhere), RANDOMKEY (the first
 * node that has a key). INFO is {@link InfoMerge}; SCAN is {@link ShardedScan}.
 */
final class WholeKeyspaceFanOut {
    private static final Map<String, FanOut.Merge> MERGES = Map.ofEntries(
            Map.entry("dbsize", FanOut.SUM),
            Map.entry("keys", FanOut.CONCAT),
            Map.entry("flushall", FanOut.FIRST),
            Map.entry("flushdb", FanOut.FIRST),
            Map.entry("randomkey", FanOut.FIRST_NON_NULL),
            Map.entry("script|load", FanOut.FIRST),
            Map.entry("script|flush", FanOut.FIRST),
            Map.entry("script|kill", FanOut.FIRST),
            Map.entry("script|exists", FanOut.AND),
            Map.entry("function|load", FanOut.FIRST),
            Map.entry("function|flush", FanOut.FIRST),
            Map.entry("function|delete", FanOut.FIRST),
            Map.entry("function|restore", FanOut.FIRST),
            Map.entry("function|kill", FanOut.FIRST));

    private WholeKeyspaceFanOut() {
    }

    static boolean handles(CommandSpec spec) {
        return MERGES.containsKey(spec.name()) || spec.name().equals("info")
                || spec.name().equals("function|list") || spec.name().equals("function|dump")
                || spec.name().equals("function|stats");
    }

    /** INFO with no section, or asking for proxy/all/everything/default, gets the # Proxy section. */
    private static boolean wantsProxySection(RespRequest request) {
        if (request.argCount() == 1) {
            return true;
        }
        for (int i = 1; i < request.argCount(); i++) {
            String section = request.argString(i).toLowerCase(java.util.Locale.ROOT);
            if (section.equals("proxy") || section.equals("all") || section.equals("everything")
                    || section.equals("default")) {
                return true;
            }
        }
        return false;
    }

    /**
     * DBSIZE summed over the nodes, each replicated pool's share divided by its factor: exact while
     * the replicas agree (Redis keeps no count of the keys a node serves, and listing them would
     * make an O(1) command O(keys)).
     */
    private static FanOut.Merge replicatedDbsize(List<PoolNode> nodes) {
        return (alloc, parts) -> {
            double sum = 0;
            for (int i = 0; i < parts.length; i++) {
                sum += (double) FanOut.integer(parts[i]) / nodes.get(i).pool().factor();
            }
            ByteBuf out = alloc.buffer(24);
            RespWriter.writeInteger(out, Math.round(sum));
            return out;
        };
    }

    /** Takes ownership of {@code request}. */
    static void start(ClientHandler client, LoopContext loop, ProxyContext proxy, RespVersion protocol,
                      RespRequest request, CommandSpec spec, PendingReply pending) {
        List<PoolNode> nodes = proxy.allNodes();
        FanOut.Merge merge = MERGES.get(spec.name());
        if (spec.name().equals("info")) {
            merge = new InfoMerge(proxy, wantsProxySection(request));
        } else if (merge == null) {        // read-only views (FUNCTION LIST …): the first node answers
            nodes = nodes.subList(0, 1);
            merge = FanOut.FIRST;
        }
        boolean keys = spec.name().equals("keys");
        if (spec.name().equals("dbsize")) {
            merge = replicatedDbsize(nodes);
        }
        FanOut fanOut = new FanOut(pending, nodes.size(), merge, client.channel().alloc());
        ByteBuf content = request.content();
        for (int i = 0; i < nodes.size(); i++) {
            ByteBuf copy = i == nodes.size() - 1 ? content : content.retainedDuplicate();
            PoolNode node = nodes.get(i);
            ReplySink part = fanOut.part(i);
            if (keys && node.pool().replicated()) {
                part = ServedKeys.filtering(part, client.channel().alloc(), node.pool(), node.node());
            }
            loop.shared(node.pool(), node.node(), protocol).send(copy, part);
        }
    }
}
