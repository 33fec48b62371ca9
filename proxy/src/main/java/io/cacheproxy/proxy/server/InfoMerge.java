package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * INFO through the proxy: a {@code # Proxy} section first (when the default sections are asked
 * for, or {@code proxy}/{@code all}/{@code everything}), then the first node's sections, with the
 * {@code # Keyspace} section replaced by the sum over every node, so {@code db0:keys=…} counts the
 * whole keyspace as a client of one Redis would expect.
 */
final class InfoMerge implements FanOut.Merge {
    private final ProxyContext proxy;
    private final boolean withProxySection;

    InfoMerge(ProxyContext proxy, boolean withProxySection) {
        this.proxy = proxy;
        this.withProxySection = withProxySection;
    }

    @Override
    public ByteBuf merge(ByteBufAllocator alloc, ByteBuf[] parts) {
        boolean verbatim = parts[0].getByte(parts[0].readerIndex()) == '=';
        String first = text(parts[0]);
        StringBuilder out = new StringBuilder(first.length() + 256);
        if (withProxySection) {
            out.append("# Proxy\r\n")
                    .append("proxy:cacheproxy\r\n")
                    .append("proxy_pools:").append(proxy.routes().targets().size()).append("\r\n")
                    .append("proxy_nodes:").append(proxy.allNodes().size()).append("\r\n")
                    .append("proxy_connected_clients:").append(proxy.metrics().clientConnections()).append("\r\n")
                    .append("\r\n");
        }
        int keyspace = first.indexOf("# Keyspace");
        if (keyspace < 0) {
            out.append(first);
        } else {
            out.append(first, 0, keyspace).append("# Keyspace\r\n");
            summedKeyspace(parts).forEach((db, sums) -> out.append(db).append(":keys=").append(sums[0])
                    .append(",expires=").append(sums[1]).append(",avg_ttl=").append(sums[2]).append("\r\n"));
            int next = first.indexOf("\r\n#", keyspace);
            if (next >= 0) {
                out.append(first.substring(next + 2));
            }
        }
        ByteBuf reply = alloc.buffer(out.length() + 32);
        if (verbatim) {
            RespWriter.writeVerbatim(reply, RespVersion.RESP3, "txt", out);
        } else {
            RespWriter.writeBulk(reply, out);
        }
        return reply;
    }

    /** db name → {keys, expires, avg_ttl (the largest)} summed over the parts. */
    private static Map<String, long[]> summedKeyspace(ByteBuf[] parts) {
        Map<String, long[]> dbs = new TreeMap<>();
        for (ByteBuf part : parts) {
            for (String line : text(part).split("\r\n")) {
                if (!line.startsWith("db") || line.indexOf(':') < 0) {
                    continue;
                }
                long[] sums = dbs.computeIfAbsent(line.substring(0, line.indexOf(':')), k -> new long[3]);
                for (String field : line.substring(line.indexOf(':') + 1).split(",")) {
                    String[] kv = field.split("=", 2);
                    if (kv.length == 2) {
                        try {
                            long v = Long.parseLong(kv[1]);
                            switch (kv[0]) {
                                case "keys" -> sums[0] += v;
                                case "expires" -> sums[1] += v;
                                case "avg_ttl" -> sums[2] = Math.max(sums[2], v);
                                default -> { }
                            }
                        } catch (NumberFormatException ignored) {
                            // a field this version of Redis formats differently: left out of the sum
                        }
                    }
                }
            }
        }
        return dbs;
    }

    /** The text of a bulk ({@code $}) or verbatim ({@code =}, without its {@code txt:} prefix) reply. */
    static String text(ByteBuf reply) {
        int start = reply.readerIndex();
        int headerEnd = reply.indexOf(start, reply.writerIndex(), (byte) '\n') + 1;
        int length = Integer.parseInt(reply.toString(start + 1, headerEnd - start - 3, StandardCharsets.US_ASCII));
        int skip = reply.getByte(start) == '=' ? 4 : 0;
        return reply.toString(headerEnd + skip, length - skip, StandardCharsets.UTF_8);
    }
}
