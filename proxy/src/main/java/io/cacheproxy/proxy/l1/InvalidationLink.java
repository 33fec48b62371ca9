package io.cacheproxy.proxy.l1;

import io.cacheproxy.proxy.Transport;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.UpstreamSettings;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespReplyDecoder;
import io.cacheproxy.resp.RespValue;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection through which one node tells L1 what changed. It speaks RESP3 and is named
 * {@value #CLIENT_NAME}; its {@code CLIENT ID} is the {@code REDIRECT} target of the tracking that
 * every data connection to the node turns on ({@code CLIENT TRACKING on REDIRECT id OPTIN}), so it
 * receives the node's {@code invalidate} pushes: keys written by anyone, expired or evicted, and a
 * null one on FLUSHALL/FLUSHDB. It is also subscribed to the broadcast channel, on which proxies
 * publish the keys they write ({@link Broadcaster}).
 *
 * <p><b>Loss.</b> When the connection drops, or a {@code PING} probe (every {@value #PROBE_MILLIS}
 * ms) goes unanswered for {@link #probeTimeoutNanos}, invalidations may have been missed: the
 * node's entries are dropped and no fill from the node is cached until the link is back. Each new
 * connection has a new client id, so {@link #epoch()} moves and data connections redirect their
 * tracking again before their fills count. When the node's address moves (a sentinel failover),
 * the link reconnects too.
 *
 * <p>Runs on one event loop; {@link #isUp()}, {@link #clientId()} and {@link #epoch()} may be read
 * from any thread.
 */
public final class InvalidationLink {
    private static final Logger log = LoggerFactory.getLogger(InvalidationLink.class);
    public static final String CLIENT_NAME = "cacheproxy-invalidation";
    private static final long PROBE_MILLIS = 1000;
    private static final long INITIAL_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 2000;
    private static final byte[] INVALIDATE = "invalidate".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MESSAGE = "message".getBytes(StandardCharsets.US_ASCII);

    private final TrackedNode tracked;
    private final NearCache cache;
    private final UpstreamSettings settings;
    private final EventLoop loop;
    private final Transport transport;
    private final boolean tracking;
    /** The broadcast channel; null when broadcast is off. */
    private final String broadcastChannel;
    private final byte[] proxyId;
    private final long probeTimeoutNanos;

    private volatile boolean up;
    private volatile long clientId = -1;
    private volatile int epoch;
    private Channel channel;
    private int connectedAddressEpoch;
    private final ArrayDeque<Consumer<RespValue>> expected = new ArrayDeque<>();
    private long pingSentNanos;
    private boolean pingOutstanding;
    private long backoffMillis = INITIAL_BACKOFF_MILLIS;
    private boolean closed;
    private boolean loggedDown;
    private ScheduledFuture<?> probe;
    /** Whether the link must track every key (BCAST), for client-side caching; and whether it does now. */
    private boolean allKeys;
    private boolean allKeysActive;
    private final java.util.ArrayList<Runnable> allKeysWaiters = new java.util.ArrayList<>();
    private boolean wasDown;

    InvalidationLink(TrackedNode tracked, NearCache cache, UpstreamSettings settings, EventLoop loop,
                     Transport transport, boolean tracking, String broadcastChannel, byte[] proxyId) {
        this.tracked = tracked;
        this.cache = cache;
        this.settings = settings;
        this.loop = loop;
        this.transport = transport;
        this.tracking = tracking;
        this.broadcastChannel = broadcastChannel;
        this.proxyId = proxyId;
        this.probeTimeoutNanos = Math.max(TimeUnit.SECONDS.toNanos(1), 3 * settings.commandTimeout().toNanos());
    }

    /** Whether data connections must redirect their tracking here before their fills count. */
    public boolean tracking() {
        return tracking;
    }

    /** True while connected, with its client id known (and subscribed, for broadcast). */
    public boolean isUp() {
        return up;
    }

    /** The connection's {@code CLIENT ID}: the {@code REDIRECT} target; -1 while down. */
    public long clientId() {
        return clientId;
    }

    /** Moves with every new connection. */
    public int epoch() {
        return epoch;
    }

    void start() {
        loop.execute(this::connect);
        probe = loop.scheduleAtFixedRate(this::probe, PROBE_MILLIS, PROBE_MILLIS, TimeUnit.MILLISECONDS);
    }

    void close() {
        loop.execute(() -> {
            closed = true;
            if (probe != null) {
                probe.cancel(false);
            }
            if (channel != null) {
                channel.close();
            }
        });
    }

    private BackendNode node() {
        return tracked.node();
    }

    private void connect() {
        if (closed) {
            return;
        }
        BackendNode.Address address = node().current();
        connectedAddressEpoch = address.epoch();
        transport.backendBootstrap(loop, settings.connectTimeout(), new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Reader());
                    }
                })
                .connect(address.host(), address.port())
                .addListener(f -> {
                    if (f.isSuccess()) {
                        onConnected(((io.netty.channel.ChannelFuture) f).channel());
                    } else {
                        onDown("cannot connect: " + f.cause());
                    }
                });
    }

    private void onConnected(Channel ch) {
        if (closed) {
            ch.close();
            return;
        }
        channel = ch;
        expected.clear();
        pingOutstanding = false;
        ByteBuf out = ch.alloc().buffer(256);
        if (settings.password() == null) {
            RespWriter.writeCommand(out, "HELLO", "3");
        } else {
            RespWriter.writeCommand(out, "HELLO", "3", "AUTH", "default", settings.password());
        }
        expected.add(reply -> requireOk(reply, "HELLO 3"));
        RespWriter.writeCommand(out, "CLIENT", "SETNAME", CLIENT_NAME);
        expected.add(reply -> requireOk(reply, "CLIENT SETNAME"));
        if (broadcastChannel != null) {
            // In RESP3 the subscription's confirmation is a push, not a reply: nothing is expected.
            RespWriter.writeCommand(out, "SUBSCRIBE", broadcastChannel);
        }
        if (allKeys) {
            writeTrackAllKeys(out);
        }
        RespWriter.writeCommand(out, "CLIENT", "ID");
        expected.add(this::onClientId);
        ch.writeAndFlush(out);
    }

    /**
     * From now on (and after every reconnect) this connection also tracks every key in BCAST mode,
     * for client-side caching through the proxy; {@code whenActive} runs once it does.
     */
    void trackAllKeys(Runnable whenActive) {
        loop.execute(() -> {
            if (allKeysActive) {
                whenActive.run();
                return;
            }
            allKeysWaiters.add(whenActive);
            if (!allKeys) {
                allKeys = true;
                if (channel != null && channel.isActive() && up) {
                    ByteBuf out = channel.alloc().buffer(64);
                    writeTrackAllKeys(out);
                    channel.writeAndFlush(out);
                }
            }
        });
    }

    private void writeTrackAllKeys(ByteBuf out) {
        RespWriter.writeCommand(out, "CLIENT", "TRACKING", "on", "BCAST");
        expected.add(reply -> {
            requireOk(reply, "CLIENT TRACKING on BCAST");
            if (!(reply instanceof RespValue.ErrorValue)) {
                allKeysActive = true;
                for (Runnable waiter : allKeysWaiters) {
                    waiter.run();
                }
                allKeysWaiters.clear();
            }
        });
    }

    private void requireOk(RespValue reply, String command) {
        if (reply instanceof RespValue.ErrorValue error) {
            log.error("pool {}, node {}: the invalidation link's {} was refused: {}", node().pool(), node().name(),
                    command, error.message());
            channel.close();
        }
    }

    private void onClientId(RespValue reply) {
        if (!(reply instanceof RespValue.IntegerValue id)) {
            log.error("pool {}, node {}: unexpected CLIENT ID reply on the invalidation link: {}", node().pool(),
                    node().name(), reply);
            channel.close();
            return;
        }
        clientId = id.value();
        epoch++;
        up = true;
        backoffMillis = INITIAL_BACKOFF_MILLIS;
        if (wasDown) {
            wasDown = false;
            cache.linkRestored();
        }
        if (loggedDown) {
            log.info("pool {}, node {}: invalidation link up again", node().pool(), node().name());
            loggedDown = false;
        }
    }

    private void probe() {
        if (channel == null || !channel.isActive()) {
            return;
        }
        if (node().addressEpoch() != connectedAddressEpoch) {
            log.info("pool {}, node {}: the node moved; reconnecting the invalidation link", node().pool(), node().name());
            channel.close();
            return;
        }
        long now = System.nanoTime();
        if (pingOutstanding) {
            if (now - pingSentNanos > probeTimeoutNanos) {
                log.warn("pool {}, node {}: the invalidation link did not answer PING within {} ms; closing it",
                        node().pool(), node().name(), TimeUnit.NANOSECONDS.toMillis(probeTimeoutNanos));
                channel.close();
            }
            return;
        }
        pingOutstanding = true;
        pingSentNanos = now;
        ByteBuf ping = channel.alloc().buffer(16);
        RespWriter.writeCommand(ping, "PING");
        expected.add(reply -> pingOutstanding = false);
        channel.writeAndFlush(ping);
    }

    private void onDown(String why) {
        boolean wasUp = up;
        up = false;
        clientId = -1;
        channel = null;
        allKeysActive = false;
        wasDown = true;
        // Invalidations may have been missed: nothing of the node's may be served from now on.
        cache.dropNode(tracked);
        if (closed) {
            log.debug("pool {}, node {}: invalidation link closed", node().pool(), node().name());
        } else if (!loggedDown) {
            log.warn("pool {}, node {}: invalidation link down ({}); L1 is bypassed for the node until it is back",
                    node().pool(), node().name(), why);
            loggedDown = true;
        } else if (wasUp) {
            log.warn("pool {}, node {}: invalidation link down again ({})", node().pool(), node().name(), why);
        }
        if (!closed) {
            loop.schedule(this::connect, backoffMillis, TimeUnit.MILLISECONDS);
            backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
        }
    }

    /** A push from the node: an invalidation, a broadcast message, or a subscription's confirmation. */
    private void onPush(List<RespValue> push) {
        if (push.isEmpty() || !(push.get(0) instanceof RespValue.BulkString kind) || kind.value() == null) {
            return;
        }
        if (Arrays.equals(kind.value(), INVALIDATE) && push.size() == 2) {
            if (push.get(1) instanceof RespValue.ArrayValue keys && keys.elements() != null) {
                for (RespValue key : keys.elements()) {
                    if (key instanceof RespValue.BulkString k && k.value() != null) {
                        cache.invalidate(CacheKey.wrap(k.value()), NearCache.Source.TRACKING);
                    }
                }
            } else {
                // a null invalidation: the node was flushed (FLUSHALL, FLUSHDB)
                cache.nodeFlushed();
            }
        } else if (Arrays.equals(kind.value(), MESSAGE) && push.size() == 3
                && push.get(2) instanceof RespValue.BulkString payload && payload.value() != null) {
            Broadcaster.receive(cache, proxyId, payload.value());
        }
    }

    /**
     * Whether {@code in[index, end)} is a {@code message} push whose payload this proxy sent: a RESP
     * array whose first element is {@code proxyId} ({@link Broadcaster}'s format). Reads only the
     * headers in front of the id.
     */
    static boolean isOwnBroadcast(ByteBuf in, int index, int end, byte[] proxyId) {
        if (in.getByte(index) != '>') {
            return false;
        }
        int p = skipLine(in, index, end);                       // >3
        for (int element = 0; element < 2 && p > 0; element++) {   // "message", the channel
            p = skipBulk(in, p, end);
        }
        if (p < 0) {
            return false;
        }
        p = skipLine(in, p, end);                               // $<payload length>
        if (p < 0 || in.getByte(p) != '*') {
            return false;
        }
        p = skipLine(in, p, end);                               // *<elements>
        if (p < 0 || in.getByte(p) != '$') {
            return false;
        }
        int id = skipLine(in, p, end);                          // $<id length>
        if (id < 0 || id + proxyId.length > end) {
            return false;
        }
        for (int i = 0; i < proxyId.length; i++) {
            if (in.getByte(id + i) != proxyId[i]) {
                return false;
            }
        }
        return id + proxyId.length + 1 < end && in.getByte(id + proxyId.length) == '\r';
    }

    /** The index after the CRLF that ends the line at {@code p}; -1 if there is none before {@code end}. */
    private static int skipLine(ByteBuf in, int p, int end) {
        int cr = in.indexOf(p, end, (byte) '\r');
        return cr < 0 || cr + 1 >= end ? -1 : cr + 2;
    }

    /** The index after the bulk string at {@code p} ({@code $len CRLF bytes CRLF}); -1 if it is not one. */
    private static int skipBulk(ByteBuf in, int p, int end) {
        if (in.getByte(p) != '$') {
            return -1;
        }
        int data = skipLine(in, p, end);
        if (data < 0) {
            return -1;
        }
        int length = 0;
        for (int i = p + 1; i < data - 2; i++) {
            byte b = in.getByte(i);
            if (b < '0' || b > '9') {
                return -1;
            }
            length = length * 10 + (b - '0');
        }
        int next = data + length + 2;
        return next <= end ? next : -1;
    }

    /** Reads replies (to the handshake and probes) and pushes. */
    private final class Reader extends RespReplyDecoder {
        Reader() {
            super(settings.replyLimits());
        }

        @Override
        protected void onReply(ByteBuf in, int index, int length, List<Object> out) {
            if (broadcastChannel != null && isOwnBroadcast(in, index, index + length, proxyId)) {
                return;     // this proxy's own message: read back on every write pass, so not parsed
            }
            RespValue value = RespValue.read(in.slice(index, length), RespLimits.DEFAULTS);
            if (value instanceof RespValue.PushValue push) {
                onPush(push.elements());
                return;
            }
            Consumer<RespValue> handler = expected.poll();
            if (handler != null) {
                handler.accept(value);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            super.channelInactive(ctx);
            onDown("connection closed");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("pool {}, node {}: closing the invalidation link: {}", node().pool(), node().name(), cause.toString());
            ctx.close();
        }
    }
}
