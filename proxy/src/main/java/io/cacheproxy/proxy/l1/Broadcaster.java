package io.cacheproxy.proxy.l1;

import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespValue;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Publishes the keys this proxy writes on the broadcast channel ({@code invalidation.broadcast}),
 * so that other proxies drop them from their L1 even where tracking does not reach. One per event
 * loop: the keys acknowledged within {@value #BATCH_MICROS} µs are published in one {@code PUBLISH}
 * per node, on the node that holds them (every proxy's {@link InvalidationLink} to that node is
 * subscribed). Per loop pass instead measured as ~0.3 extra commands per write at -P 1. Tracking
 * is the first path; this one may lag by that millisecond.
 *
 * <p>A message is a RESP array: the publishing proxy's id, the wall-clock time of the first
 * acknowledgement in microseconds (for {@code cacheproxy_l1_staleness_seconds}), then the keys. A
 * message with no keys means the node was flushed.
 *
 * <p>Confined to its event loop (except {@link #receive}).
 */
public final class Broadcaster {
    private static final byte[] PUBLISH = "PUBLISH".getBytes(StandardCharsets.US_ASCII);

    private final byte[] channel;
    private final byte[] proxyId;
    private final EventLoop loop;
    private final ByteBufAllocator alloc;
    /** Sends a PUBLISH to a node and ignores its reply; takes ownership of the command. */
    private final BiConsumer<BackendNode, ByteBuf> publish;
    private final Map<BackendNode, List<byte[]>> pending = new IdentityHashMap<>();
    private long firstAckMicros;
    private boolean flushMarked;
    private boolean closed;
    private final Runnable flushTask = this::publishPending;
    /** Keys written within this long are published together. */
    static final long BATCH_MICROS = 1000;

    public Broadcaster(String channel, byte[] proxyId, EventLoop loop, ByteBufAllocator alloc,
                       BiConsumer<BackendNode, ByteBuf> publish) {
        this.channel = channel.getBytes(StandardCharsets.UTF_8);
        this.proxyId = proxyId;
        this.loop = loop;
        this.alloc = alloc;
        this.publish = publish;
    }

    /** Queues {@code key} (written on {@code node}, just acknowledged) for the next message. */
    void add(BackendNode node, CacheKey key) {
        queue(node).add(key.bytes());
    }

    /** Queues a flush of {@code node}: a message without keys. */
    void addFlush(BackendNode node) {
        queue(node);
    }

    private List<byte[]> queue(BackendNode node) {
        if (pending.isEmpty()) {
            firstAckMicros = nowMicros();
        }
        List<byte[]> keys = pending.computeIfAbsent(node, n -> new ArrayList<>(4));
        if (!flushMarked) {
            flushMarked = true;
            loop.schedule(flushTask, BATCH_MICROS, java.util.concurrent.TimeUnit.MICROSECONDS);
        }
        return keys;
    }

    /** Drops what is queued and publishes nothing more (shutdown: the loop's connections are closing). */
    public void close() {
        closed = true;
        pending.clear();
    }

    private void publishPending() {
        flushMarked = false;
        if (closed) {
            pending.clear();
            return;
        }
        for (Map.Entry<BackendNode, List<byte[]>> e : pending.entrySet()) {
            List<byte[]> keys = e.getValue();
            byte[][] message = new byte[keys.size() + 2][];
            message[0] = proxyId;
            message[1] = Long.toString(firstAckMicros).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < keys.size(); i++) {
                message[i + 2] = keys.get(i);
            }
            ByteBuf payload = alloc.buffer();
            RespWriter.writeCommand(payload, message);
            ByteBuf command = alloc.buffer(payload.readableBytes() + channel.length + 48);
            RespWriter.writeArrayHeader(command, 3);
            RespWriter.writeBulk(command, PUBLISH);
            RespWriter.writeBulk(command, channel);
            RespWriter.writeBulk(command, payload);
            payload.release();
            try {
                publish.accept(e.getKey(), command);
            } catch (RuntimeException failure) {
                command.release();      // no connection to the node: nothing took the command
            }
        }
        pending.clear();
    }

    /** Handles a message heard on the channel: drops its keys unless this proxy sent it. */
    static void receive(NearCache cache, byte[] ownId, byte[] payload) {
        RespValue value;
        try {
            value = RespValue.read(Unpooled.wrappedBuffer(payload), RespLimits.DEFAULTS);
        } catch (RuntimeException e) {
            return;         // not one of ours
        }
        if (!(value instanceof RespValue.ArrayValue array) || array.elements() == null || array.elements().size() < 2
                || !(array.elements().get(0) instanceof RespValue.BulkString sender)
                || !(array.elements().get(1) instanceof RespValue.BulkString at)) {
            return;
        }
        if (Arrays.equals(sender.value(), ownId)) {
            return;
        }
        List<RespValue> elements = array.elements();
        if (elements.size() == 2) {
            cache.invalidateAll(NearCache.Source.BROADCAST);
        }
        for (int i = 2; i < elements.size(); i++) {
            if (elements.get(i) instanceof RespValue.BulkString key && key.value() != null) {
                cache.invalidate(CacheKey.wrap(key.value()), NearCache.Source.BROADCAST);
            }
        }
        try {
            long micros = Long.parseLong(new String(at.value(), StandardCharsets.US_ASCII));
            cache.recordStaleness((nowMicros() - micros) * 1000);
        } catch (NumberFormatException e) {
            // no timestamp: nothing to record
        }
    }

    private static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }
}
