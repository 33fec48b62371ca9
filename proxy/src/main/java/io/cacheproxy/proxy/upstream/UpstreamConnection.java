package io.cacheproxy.proxy.upstream;

import io.cacheproxy.proxy.OutboundBatch;
import io.cacheproxy.proxy.OutboundFlusher;
import io.cacheproxy.proxy.Transport;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespReplyDecoder;
import io.cacheproxy.resp.RespValue;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP connection from one event loop to one backend node, speaking one protocol version.
 *
 * <p><b>Pipelining.</b> Commands are written as the bytes they arrived in and their {@link ReplySink}s
 * wait in a FIFO; each complete reply (found by {@link RespReplyDecoder} without building objects)
 * completes the oldest sink. Push messages ({@code >}) are not replies and never consume the FIFO.
 * Many clients of the same event loop share this connection (multiplexing); a <em>dedicated</em>
 * connection serves one client at a time: a transaction or a subscription, or blocking commands
 * (lent from the loop's {@link BlockingConnections}).
 *
 * <p><b>Deadlines.</b> Each sink carries a deadline. A timer on the event loop checks the oldest
 * sink; once its deadline passes the connection is closed, since a reply that never came would
 * misalign every later one, and every pending sink fails with
 * {@code ERR backend unavailable: pool P, node H:P}. A slow node thus stalls only its own traffic.
 *
 * <p><b>Moves.</b> When the node's address changes ({@link BackendNode#moveTo}, a sentinel failover),
 * the same timer closes the connection within one tick (at most 100 ms), and the next command
 * connects to the new address.
 *
 * <p><b>Reconnects.</b> A shared connection reconnects on the next command after a failure; a failed
 * connect starts a backoff (100 ms doubling to 2 s) during which commands fail at once instead of
 * waiting. Commands sent while connecting wait (bounded) and go out right after the handshake
 * ({@code HELLO <proto> [AUTH default <password>]}), which is itself pipelined ahead of them.
 *
 * <p>Confined to its event loop: every method must be called from that loop's thread.
 */
public final class UpstreamConnection {
    private static final Logger log = LoggerFactory.getLogger(UpstreamConnection.class);
    private static final long INITIAL_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final int MAX_WAITING = 65_536;

    /** Receives everything a dedicated subscriber connection reads once its handshake is done. */
    public interface Tunnel {
        /** Takes ownership of {@code message}. */
        void onMessage(ByteBuf message);

        void onClose();
    }

    private enum State { IDLE, CONNECTING, OPEN, CLOSED }

    private final BackendNode node;
    private final RespVersion protocol;
    private final UpstreamSettings settings;
    private final OutboundFlusher flusher;
    private final Transport transport;
    private final boolean dedicated;

    private State state = State.IDLE;
    private Channel channel;
    private OutboundBatch out;
    private final ArrayDeque<ReplySink> inflight = new ArrayDeque<>();
    private final ArrayDeque<ByteBuf> waitingCommands = new ArrayDeque<>();
    private final ArrayDeque<ReplySink> waitingSinks = new ArrayDeque<>();
    private long retryAtNanos;
    private long backoffNanos = INITIAL_BACKOFF_NANOS;
    private ScheduledFuture<?> deadlineCheck;
    /** The open channel is being closed by this side ({@link #close}, a deadline, a move), not lost. */
    private boolean closedByUs;
    private Tunnel tunnel;
    private boolean loggedDown;
    private boolean flushMarked;
    /** {@link BackendNode#addressEpoch()} of the address this connection was opened to. */
    private int connectedEpoch;
    /** The invalidation-link epoch whose tracking redirect was sent on this socket, and the one confirmed; -1: none. */
    private int trackingRequested = -1;
    private int trackingConfirmed = -1;
    private final OutboundFlusher.Flushable flushTask = () -> {
        flushMarked = false;
        if (out != null) {
            out.flush();
        }
    };

    public UpstreamConnection(BackendNode node, RespVersion protocol, UpstreamSettings settings,
                              OutboundFlusher flusher, Transport transport, boolean dedicated) {
        this.node = node;
        this.protocol = protocol;
        this.settings = settings;
        this.flusher = flusher;
        this.transport = transport;
        this.dedicated = dedicated;
    }

    public BackendNode node() {
        return node;
    }

    /** True once a dedicated connection has closed: it is never reopened. */
    public boolean isClosed() {
        return state == State.CLOSED;
    }

    /** Turns this (dedicated) connection into a tunnel: every reply goes to {@code tunnel}. */
    public void tunnel(Tunnel tunnel) {
        this.tunnel = tunnel;
    }

    /**
     * Sends one command. Takes ownership of {@code command}; {@code sink} is completed exactly once,
     * possibly before this method returns (when the node is known to be unreachable).
     */
    public void send(ByteBuf command, ReplySink sink) {
        switch (state) {
            case OPEN -> {
                if (sink != null) {
                    inflight.add(sink);
                }
                out.write(command);
                markForFlush();
            }
            case CONNECTING -> enqueueWhileConnecting(command, sink);
            case IDLE -> {
                if (System.nanoTime() - retryAtNanos < 0) {
                    command.release();
                    sink.onFailure(node.unavailableError());
                    return;
                }
                connect();
                enqueueWhileConnecting(command, sink);
            }
            case CLOSED -> {
                command.release();
                sink.onFailure(node.unavailableError());
            }
        }
    }

    /**
     * Makes sure this connection's reads are tracked, opt-in, with invalidations redirected to the
     * client {@code redirectId} ({@code CLIENT TRACKING on REDIRECT id OPTIN NOLOOP}: the proxy
     * invalidates the keys it writes itself, so Redis need not tell it of them), for the link
     * {@code epoch}: sends the command unless it was already sent for that epoch on this socket.
     * Commands sent after it are tracked once it succeeds, which {@link #trackingEpoch()} tells.
     */
    public void ensureTracking(long redirectId, int epoch) {
        if (trackingRequested == epoch) {
            return;
        }
        trackingRequested = epoch;
        ByteBuf command = io.netty.buffer.Unpooled.buffer(64);
        RespWriter.writeCommand(command, "CLIENT", "TRACKING", "on", "REDIRECT", Long.toString(redirectId), "OPTIN", "NOLOOP");
        long deadline = System.nanoTime() + settings.commandTimeout().toNanos();
        send(command, new ReplySink() {
            @Override
            public void onReply(ByteBuf reply) {
                try {
                    if (reply.getByte(reply.readerIndex()) == '+') {
                        trackingConfirmed = epoch;
                    } else {
                        log.warn("pool {}, node {}: CLIENT TRACKING refused: {}", node.pool(), node.name(),
                                reply.toString(StandardCharsets.UTF_8).trim());
                    }
                } finally {
                    reply.release();
                }
            }

            @Override
            public void onFailure(String error) {
                if (trackingRequested == epoch) {
                    trackingRequested = -1;
                }
            }

            @Override
            public long deadlineNanos() {
                return deadline;
            }
        });
    }

    /** The invalidation-link epoch this connection's tracking is confirmed for; -1 for none. */
    public int trackingEpoch() {
        return trackingConfirmed;
    }

    /** Sends bytes that expect no FIFO reply (tunnel mode: the tunnel gets every reply). */
    public void sendToTunnel(ByteBuf command) {
        send(command, null);
    }

    /** Closes the connection; pending sinks fail. A dedicated connection stays closed. */
    public void close() {
        if (dedicated) {
            state = State.CLOSED;
        }
        if (channel != null) {
            closedByUs = true;
            channel.close();
        } else {
            failWaiting(node.unavailableError());
        }
    }

    private void markForFlush() {
        if (!flushMarked) {
            flushMarked = true;
            flusher.flushNextPass(flushTask);
        }
    }

    private void enqueueWhileConnecting(ByteBuf command, ReplySink sink) {
        if (waitingCommands.size() >= MAX_WAITING) {
            command.release();
            if (sink != null) {
                sink.onFailure(node.unavailableError());
            }
            return;
        }
        waitingCommands.add(command);
        waitingSinks.add(sink == null ? TUNNEL_MARKER : sink);
    }

    private void connect() {
        state = State.CONNECTING;
        Bootstrap bootstrap = transport.backendBootstrap(flusher.loop(), settings.connectTimeout(),
                new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ReplyReader());
                    }
                });
        BackendNode.Address target = node.current();
        connectedEpoch = target.epoch();
        ChannelFuture future = bootstrap.connect(target.host(), target.port());
        future.addListener(f -> {
            if (f.isSuccess()) {
                onConnected(future.channel());
            } else {
                onConnectFailed(f.cause());
            }
        });
    }

    private void onConnected(Channel ch) {
        if (state == State.CLOSED) {      // closed while connecting
            ch.close();
            failWaiting(node.unavailableError());
            return;
        }
        channel = ch;
        out = new OutboundBatch(ch);
        state = State.OPEN;
        backoffNanos = INITIAL_BACKOFF_NANOS;
        if (loggedDown) {
            log.info("pool {}, node {}: connected again", node.pool(), node.name());
            loggedDown = false;
        }
        node.markUp();
        ByteBuf hello = ch.alloc().buffer(64);
        String proto = protocol == RespVersion.RESP3 ? "3" : "2";
        if (settings.password() == null) {
            RespWriter.writeCommand(hello, "HELLO", proto);
        } else {
            RespWriter.writeCommand(hello, "HELLO", proto, "AUTH", "default", settings.password());
        }
        send(hello, new HandshakeSink());
        if (settings.readonly()) {
            ByteBuf readonly = ch.alloc().buffer(32);
            RespWriter.writeCommand(readonly, "READONLY");
            send(readonly, new HandshakeSink());
        }
        while (!waitingCommands.isEmpty()) {
            ReplySink sink = waitingSinks.poll();
            ByteBuf command = waitingCommands.poll();
            if (sink != TUNNEL_MARKER) {
                inflight.add(sink);
            }
            out.write(command);
        }
        markForFlush();
        long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(5),
                Math.min(TimeUnit.MILLISECONDS.toNanos(100), settings.commandTimeout().toNanos() / 4));
        deadlineCheck = ch.eventLoop().scheduleAtFixedRate(this::checkDeadline, tick, tick, TimeUnit.NANOSECONDS);
    }

    private void onConnectFailed(Throwable cause) {
        node.countError();
        node.markDown();
        if (!loggedDown) {
            log.warn("pool {}, node {}: cannot connect: {}", node.pool(), node.name(), cause.toString());
            loggedDown = true;
        }
        if (state != State.CLOSED) {
            state = dedicated ? State.CLOSED : State.IDLE;
        }
        retryAtNanos = System.nanoTime() + backoffNanos;
        backoffNanos = Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
        failWaiting(node.unavailableError());
        if (tunnel != null) {
            tunnel.onClose();
        }
        node.lost("cannot connect: " + cause.getMessage());     // last: listeners run with the state settled
    }

    /** Runs on a timer while open: closes the connection when its node moved or a deadline passed. */
    private void checkDeadline() {
        if (node.addressEpoch() != connectedEpoch) {
            // A sentinel named a new master: requests already sent fail, the next ones reconnect.
            log.info("pool {}, node {}: the node moved; closing the connection to the old address "
                    + "({} requests pending)", node.pool(), node.name(), inflight.size());
            closedByUs = true;
            channel.close();
            return;
        }
        ReplySink oldest = inflight.peek();
        if (oldest != null && oldest.deadlineNanos() != Long.MAX_VALUE
                && System.nanoTime() - oldest.deadlineNanos() > 0) {
            node.countError();
            log.warn("pool {}, node {}: no reply within the command timeout; closing the connection "
                    + "({} requests pending)", node.pool(), node.name(), inflight.size());
            closedByUs = true;
            channel.close();
            node.lost("no reply within the command timeout");
        }
    }

    private void onClosed() {
        boolean lost = !closedByUs;
        closedByUs = false;
        if (deadlineCheck != null) {
            deadlineCheck.cancel(false);
            deadlineCheck = null;
        }
        channel = null;
        trackingRequested = -1;
        trackingConfirmed = -1;
        if (out != null) {
            out.discard();
            out = null;
        }
        if (state != State.CLOSED) {
            state = dedicated ? State.CLOSED : State.IDLE;
        }
        retryAtNanos = System.nanoTime();
        String error = node.unavailableError();
        ReplySink sink;
        while ((sink = inflight.poll()) != null) {
            sink.onFailure(error);
        }
        failWaiting(error);
        if (tunnel != null) {
            tunnel.onClose();
        }
        if (lost) {
            node.lost("connection lost");     // last: listeners run with the state settled
        }
    }

    private void failWaiting(String error) {
        ByteBuf command;
        while ((command = waitingCommands.poll()) != null) {
            command.release();
            ReplySink sink = waitingSinks.poll();
            if (sink != TUNNEL_MARKER) {
                sink.onFailure(error);
            }
        }
    }

    /**
     * Frames replies and hands each to the oldest sink where it lies in the read buffer, so that a
     * reply the client can take at once is copied to it without a slice being made.
     */
    private final class ReplyReader extends RespReplyDecoder {
        private ChannelHandlerContext ctx;

        ReplyReader() {
            super(settings.replyLimits());
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        protected void onReply(ByteBuf in, int index, int length, List<Object> out) {
            boolean push = in.getByte(index) == '>';
            if (tunnel != null && (push || inflight.isEmpty())) {
                tunnel.onMessage(in.retainedSlice(index, length));
                return;
            }
            if (push) {
                // Invalidation pushes are handled by the near cache (later); others have no reader.
                return;
            }
            ReplySink sink = inflight.poll();
            if (sink == null) {
                log.error("pool {}, node {}: reply with no request pending; closing the connection",
                        node.pool(), node.name());
                in.skipBytes(in.readableBytes());
                ctx.close();
                return;
            }
            sink.onReply(in, index, length);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            super.channelInactive(ctx);
            onClosed();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            node.countError();
            log.warn("pool {}, node {}: closing the connection: {}", node.pool(), node.name(), cause.toString());
            ctx.close();
        }
    }

    /** Consumes the reply to the connection's HELLO; closes the connection if the node refused it. */
    private final class HandshakeSink implements ReplySink {
        private final long deadline = System.nanoTime() + settings.connectTimeout().toNanos();

        @Override
        public void onReply(ByteBuf reply) {
            try {
                byte type = reply.getByte(reply.readerIndex());
                if (type == '-' || type == '!') {
                    node.countError();
                    log.error("pool {}, node {}: handshake refused: {}", node.pool(), node.name(),
                            reply.toString(StandardCharsets.UTF_8).trim());
                    if (channel != null) {
                        channel.close();
                    }
                } else {
                    node.serverVersion(helloField(reply, "version"));
                }
            } finally {
                reply.release();
            }
        }

        @Override
        public void onFailure(String error) {
            // the connection is closing; the requests behind the handshake fail with it
        }

        @Override
        public long deadlineNanos() {
            return deadline;
        }
    }

    /** A string field of a HELLO reply (a RESP3 map or a RESP2 flat array), or null. */
    static String helloField(ByteBuf reply, String field) {
        RespValue value = RespValue.read(reply.duplicate(), RespLimits.DEFAULTS);
        List<RespValue> flat = new ArrayList<>();
        if (value instanceof RespValue.MapValue map) {
            for (Map.Entry<RespValue, RespValue> e : map.entries()) {
                flat.add(e.getKey());
                flat.add(e.getValue());
            }
        } else if (value instanceof RespValue.ArrayValue array && array.elements() != null) {
            flat.addAll(array.elements());
        }
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            if (flat.get(i) instanceof RespValue.BulkString key && key.value() != null
                    && field.equals(new String(key.value(), StandardCharsets.UTF_8))
                    && flat.get(i + 1) instanceof RespValue.BulkString v && v.value() != null) {
                return new String(v.value(), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    /** Stands for "no sink" in the waiting queue (tunnel traffic). */
    private static final ReplySink TUNNEL_MARKER = new ReplySink() {
        @Override
        public void onReply(ByteBuf reply) {
            reply.release();
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
