package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.ErrorReplies;
import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.proxy.OutboundBatch;
import io.cacheproxy.proxy.OutboundFlusher;
import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.proxy.l1.CacheKey;
import io.cacheproxy.proxy.l1.Fill;
import io.cacheproxy.proxy.l1.NearCache;
import io.cacheproxy.proxy.l1.TrackedNode;
import io.cacheproxy.proxy.l1.WriteSet;
import io.cacheproxy.proxy.tracking.TrackingClient;
import io.cacheproxy.proxy.tracking.TrackingOptions;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ReplicaSet;
import io.cacheproxy.proxy.replication.PoolReplication;
import io.cacheproxy.proxy.upstream.BlockingConnections;
import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.proxy.upstream.UpstreamConnection;
import io.cacheproxy.resp.RespProtocolException;
import io.cacheproxy.resp.RespReplies;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.cacheproxy.routing.CommandKind;
import io.cacheproxy.routing.CommandSpec;
import io.cacheproxy.routing.KeyPositions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: takes decoded requests, answers connection commands itself, forwards the
 * rest to the owning node, and writes replies back in request order.
 *
 * <p><b>Ordering.</b> Every request gets a {@link PendingReply} at the tail of {@link #queue}; replies
 * complete in any order (different nodes, local answers) and {@link #drain(boolean)} writes the completed
 * head of the queue. Writes are flushed once per event-loop pass by the loop's
 * {@link OutboundFlusher}.
 *
 * <p><b>Ownership.</b> A forwarded request's {@code content()} is handed to the upstream connection,
 * which writes and thereby releases it; every other path releases the request here. A completed
 * reply buffer belongs to its {@link PendingReply} until written (the write releases it) or, if the
 * client has gone, released in {@link #channelInactive}.
 *
 * <p><b>Blocking commands</b> run on a connection borrowed from the loop's
 * {@link BlockingConnections}, one per node, which the client keeps while it has blocking commands
 * in flight there (a {@link BlockingLease}); at the pool's bound they are refused at once. A client
 * that goes away while blocked closes its borrowed connections, so Redis drops its blocked
 * commands and other clients can have their places.
 *
 * <p><b>Back-pressure.</b> Reading from the client pauses while its queue is deeper than
 * {@value #MAX_QUEUED} or its socket is not writable, and resumes when both have drained; a client
 * whose unsent output passes {@code server.limits.client-output-buffer} is disconnected, as Redis
 * does with its output-buffer limits.
 *
 * <p>Confined to the client's event loop.
 */
public final class ClientHandler extends ChannelInboundHandlerAdapter implements TrackingClient {
    private static final Logger log = LoggerFactory.getLogger(ClientHandler.class);
    static final int MAX_QUEUED = 4096;

    private final ProxyContext proxy;
    private final NearCache nearCache;
    private final ConnectionCommands connectionCommands;
    private final TrackingCommands trackingCommands;
    private LoopContext loop;
    private Channel channel;
    private ClientSession session;
    private final ArrayDeque<PendingReply> queue = new ArrayDeque<>();
    /** The node this client's subscriptions live on, once it has subscribed. */
    private BackendNode tunnelNode;
    /** Connections dedicated to this client (transactions, subscriptions), by node. */
    private final Map<BackendNode, UpstreamConnection> dedicated = new IdentityHashMap<>();
    /** Connections for blocking commands this client has borrowed, each with its commands in flight. */
    private final ArrayList<BlockingLease> leases = new ArrayList<>(1);
    /** The node a transaction or WATCH pinned this client to, and its pool. */
    private BackendNode pinnedNode;
    private BackendPool pinnedPool;
    /** WATCH commands sent so far, to tell whether a redirected WATCH was the last one. */
    private int watchesSent;
    private PendingReply tunnelReply;
    /** The L1 writes of the commands queued in the open transaction, invalidated again at EXEC. */
    private final ArrayList<WriteSet> queuedWrites = new ArrayList<>(0);
    /** In a transaction on a replicated pool: the keys its queued writes touch, copied after EXEC. */
    private final ArrayList<byte[]> replicatedTransactionKeys = new ArrayList<>(0);
    private boolean closeAfterDrain;
    private boolean readingPaused;
    private boolean flushMarked;
    private boolean closed;
    private OutboundBatch out;
    private final OutboundFlusher.Flushable flushTask = () -> {
        flushMarked = false;
        out.flush();
    };

    public ClientHandler(ProxyContext proxy) {
        this.proxy = proxy;
        this.nearCache = proxy.nearCache();
        this.connectionCommands = new ConnectionCommands(proxy);
        this.trackingCommands = new TrackingCommands(proxy);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        out = new OutboundBatch(channel);
        loop = proxy.loop(channel.eventLoop());
        session = new ClientSession(proxy.nextClientId(), proxy.authRequired());
        proxy.clientTracking().register(this);
        proxy.metrics().clientConnected();
        if (proxy.metrics().clientConnections() > proxy.maxClients() || proxy.shuttingDown()) {
            ByteBuf error = channel.alloc().buffer();
            RespWriter.writeError(error, proxy.shuttingDown() ? ErrorReplies.SHUTTING_DOWN : ErrorReplies.MAX_CLIENTS);
            channel.writeAndFlush(error).addListener(ChannelFutureListener.CLOSE);
            closed = true;
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        RespRequest request = (RespRequest) msg;
        if (closed || closeAfterDrain) {
            request.release();
            return;
        }
        session.lastCommandAtMillis = System.currentTimeMillis();
        CommandSpec spec = proxy.commands().lookup(request);
        int commandId = spec != null ? spec.id() : proxy.metrics().unknownCommandId();
        BackendPool pool = proxy.routes().defaultTarget();
        long now = System.nanoTime();
        PendingReply pending = new PendingReply(this, commandId, now,
                now + pool.settings().commandTimeout().toNanos());
        enqueue(pending);
        try {
            dispatch(request, spec, pending);
        } catch (RuntimeException e) {
            log.error("{} failed to handle {}", session, spec != null ? spec.name() : "an unknown command", e);
            if (!pending.done) {
                completeWithError(pending, "ERR internal proxy error: " + e);
            }
        }
        if (queue.size() > MAX_QUEUED && !readingPaused) {
            readingPaused = true;
            channel.config().setAutoRead(false);
        }
    }

    private void enqueue(PendingReply pending) {
        if (session.replyMode != ClientSession.ReplyMode.ON) {
            pending.silent = true;
            if (session.replyMode == ClientSession.ReplyMode.SKIP) {
                session.replyMode = ClientSession.ReplyMode.ON;
            }
        }
        if (tunnelReply == null) {
            queue.add(pending);
            loop.requestStarted();
        }
    }

    /** Routes one request. Takes ownership of {@code request}. */
    private void dispatch(RespRequest request, CommandSpec spec, PendingReply pending) {
        if (session.tunneled) {
            forwardToTunnel(request, spec);
            return;
        }
        if (session.inMulti && (spec == null || spec.kind() != CommandKind.TRANSACTION && !isSessionOnly(spec))) {
            queueInTransaction(request, spec, pending);
            return;
        }
        if (spec == null) {
            forwardUnknown(request, pending);
            return;
        }
        if (!spec.arityAccepts(request.argCount())) {
            request.release();
            completeWithError(pending, ErrorReplies.wrongArity(spec.name()));
            return;
        }
        if (!session.authenticated && !spec.flags().contains("no_auth")) {
            request.release();
            completeWithError(pending, ErrorReplies.NOAUTH);
            return;
        }
        if (nearCache.enabled() && spec.kind() != CommandKind.CONNECTION && WriteSet.writes(spec)) {
            pending.writes = WriteSet.begin(nearCache, proxy.routes(), request, spec);
        }
        if (session.tracking != null) {
            trackKeys(request, spec);
        }
        switch (spec.kind()) {
            case CONNECTION -> {
                if (TrackingCommands.handles(spec)) {
                    trackingCommands.answer(this, session, request, spec, pending);
                } else {
                    connectionCommands.answer(this, session, request, spec, pending);
                }
            }
            case KEYED, MOVABLE_KEYS -> forwardByKeys(request, spec, pending);
            case KEYLESS -> {
                if (spec.name().equals("spublish")) {
                    forwardShardPublish(request, pending);
                } else {
                    forwardKeyless(request, pending);
                }
            }
            case WHOLE_KEYSPACE -> forwardWholeKeyspace(request, spec, pending);
            case BLOCKING -> forwardBlocking(request, spec, pending);
            case TRANSACTION -> transaction(request, spec, pending);
            case SUBSCRIBE -> openTunnel(request, pending);
            case ADMIN -> forwardAdmin(request, spec, pending);
            case FORBIDDEN -> refuse(request, pending, ErrorReplies.notAllowed(spec.displayName()));
        }
    }

    /**
     * Client-side caching: remembers the keys a tracking client reads, before the read is forwarded,
     * so that a change heard later is announced after the read's reply; with NOLOOP, forgets the
     * keys it writes. {@code CLIENT CACHING yes|no} applies to this command only.
     */
    private void trackKeys(RespRequest request, CommandSpec spec) {
        TrackingOptions t = session.tracking;
        Boolean caching = session.cachingNext;
        if (!spec.name().startsWith("client|")) {
            session.cachingNext = null;     // as Redis: CLIENT commands keep it for the next command
        }
        boolean reads = !t.bcast() && spec.isReadOnly()
                && !(t.optin() && caching != Boolean.TRUE) && !(t.optout() && caching == Boolean.FALSE);
        boolean writes = t.noloop() && !t.bcast() && WriteSet.writes(spec);
        if (!reads && !writes) {
            return;
        }
        int[] keys = KeyPositions.of(spec, request);
        if (keys == null) {
            return;
        }
        for (int i : keys) {
            CacheKey key = CacheKey.of(request.content(), request.argOffset(i), request.argLength(i));
            if (reads) {
                proxy.clientTracking().remember(session.id, key);
            } else {
                proxy.clientTracking().ownWrite(session.id, key);
            }
        }
    }

    @Override
    public long id() {
        return session.id;
    }

    @Override
    public RespVersion protocol() {
        return session.protocol;
    }

    @Override
    public boolean subscribedToInvalidations() {
        return session.subscribedToInvalidations;
    }

    /** An invalidation message for this client: after every reply it is owed so far. */
    @Override
    public void push(ByteBuf message) {
        if (channel.eventLoop().inEventLoop()) {
            pushNow(message);
        } else {
            channel.eventLoop().execute(() -> pushNow(message));
        }
    }

    private void pushNow(ByteBuf message) {
        if (closed) {
            message.release();
            return;
        }
        if (tunnelReply != null) {
            tunnelMessage(message);
            return;
        }
        PendingReply tail = queue.peekLast();
        if (tail == null) {
            out.write(message);
            markForFlush();
            return;
        }
        tail.pushes = tail.pushes == null ? message : Unpooled.wrappedBuffer(tail.pushes, message);
    }

    /** Writes the messages that were queued behind {@code reply}. */
    private void writePushes(PendingReply reply) {
        if (reply.pushes != null) {
            out.write(reply.pushes);
            reply.pushes = null;
        }
    }

    private void refuse(RespRequest request, PendingReply pending, String error) {
        request.release();
        completeWithError(pending, error);
    }

    /** Commands that concern only the proxy's session even inside a transaction (QUIT, RESET). */
    private static boolean isSessionOnly(CommandSpec spec) {
        return spec.name().equals("quit") || spec.name().equals("reset");
    }

    /**
     * Where a set of keys lives: one pool and node (and for a cluster pool one slot, as Redis Cluster
     * requires of a command's keys; -1 otherwise), or {@link #SPANS_NODES}. In a replicated pool the
     * node is the one serving the keys now, and {@code replicas} their replica set when the keys
     * were grouped by it (null otherwise).
     */
    private record Owner(BackendPool pool, BackendNode node, int slot, ReplicaSet replicas) {
    }

    private static final Owner SPANS_NODES = new Owner(null, null, -1, null);

    /**
     * The owner of every key at {@code keyIndexes}; null for no keys; SPANS_NODES when they differ.
     * With {@code byReplicas}, keys of a replicated pool must also share their replica set.
     */
    private Owner ownerOf(RespRequest request, int[] keyIndexes, boolean byReplicas) {
        Owner owner = null;
        ByteBuf content = request.content();
        for (int i : keyIndexes) {
            BackendPool pool = proxy.routes().targetFor(content, request.argOffset(i), request.argLength(i));
            BackendNode node = pool.nodeFor(content, request.argOffset(i), request.argLength(i));
            int slot = pool.slotFor(content, request.argOffset(i), request.argLength(i));
            ReplicaSet replicas = byReplicas && pool.replicated()
                    ? pool.replicasFor(content, request.argOffset(i), request.argLength(i)) : null;
            if (owner == null) {
                owner = new Owner(pool, node, slot, replicas);
            } else if (owner.pool != pool || owner.node != node || owner.slot != slot || owner.replicas != replicas) {
                return SPANS_NODES;
            }
        }
        return owner;
    }

    private void forwardByKeys(RespRequest request, CommandSpec spec, PendingReply pending) {
        BackendPool pool;
        BackendNode node;
        int keyIndex = -1;      // the index of the request's only key, if it has one
        if (spec.firstKey() > 0 && spec.lastKey() == spec.firstKey()) {
            // the common case, one key: no key array
            int k = spec.firstKey();
            keyIndex = k;
            pool = proxy.routes().targetFor(request.content(), request.argOffset(k), request.argLength(k));
            if (pool.replicated()) {
                forwardReplicated(request, spec, pending, pool,
                        pool.replicasFor(request.content(), request.argOffset(k), request.argLength(k)), k, null);
                return;
            }
            node = pool.readsFromReplicas() && spec.flags().contains("readonly")
                    ? pool.readNodeFor(request.content(), request.argOffset(k), request.argLength(k))
                    : pool.nodeFor(request.content(), request.argOffset(k), request.argLength(k));
        } else {
            int[] keys = KeyPositions.of(spec, request);
            if (keys != null && spec.id() == proxy.cacheableReads().mgetId() && nearCache.enabled()
                    && NearCacheMget.tryStart(this, loop, proxy, session.protocol, request,
                            proxy.cacheableReads().getId(), keys, pending)) {
                return;
            }
            Owner owner = keys == null ? null : ownerOf(request, keys, true);
            if (owner == SPANS_NODES) {
                if (MultiKeyFanOut.splits(spec)) {
                    MultiKeyFanOut.start(this, loop, proxy, session.protocol, request, spec, keys, pending);
                } else {
                    refuse(request, pending, ErrorReplies.crossSlot());
                }
                return;
            }
            if (owner != null && owner.replicas != null) {
                forwardReplicated(request, spec, pending, owner.pool, owner.replicas,
                        keys.length == 1 ? keys[0] : -1, keys.length == 1 ? null : keys);
                return;
            }
            // no keys (EVAL … 0) or unlocatable (Redis will answer the error): the default pool's first node
            pool = owner == null ? proxy.routes().defaultTarget() : owner.pool;
            node = owner == null ? pool.nodes().get(0) : owner.node;
            keyIndex = keys != null && keys.length == 1 ? keys[0] : -1;
        }
        pending.deadlineNanos = pending.startNanos + pool.settings().commandTimeout().toNanos();
        if (keyIndex > 0 && nearCache.enabled() && proxy.cacheableReads().accepts(spec, request)
                && readThroughL1(request, spec, pending, pool, node, keyIndex)) {
            return;
        }
        ClusterRedirect.send(loop, pool, node, session.protocol, request.content(), pending);
    }

    /**
     * A command on keys of a replicated pool that share {@code replicas}: a read (served by L1 when
     * it can) goes to one trusted replica, anything else to every live one ({@link PoolReplication}).
     * The keys are argument {@code keyArg}, or the arguments {@code keyArgs} when that is not null.
     */
    private void forwardReplicated(RespRequest request, CommandSpec spec, PendingReply pending, BackendPool pool,
                                   ReplicaSet replicas, int keyArg, int[] keyArgs) {
        pending.deadlineNanos = pending.startNanos + pool.settings().commandTimeout().toNanos();
        PoolReplication replication = proxy.replication(pool);
        boolean write = !spec.isReadOnly();
        if (!write && keyArgs == null && nearCache.enabled() && proxy.cacheableReads().accepts(spec, request)) {
            BackendNode node = replication.readNode(replicas);
            if (node != null && readThroughL1(request, spec, pending, pool, node, keyArg)) {
                return;
            }
        }
        replication.send(loop, replicas, session.protocol, request.content(), write, request, keyArg, keyArgs, pending);
    }

    /**
     * A read L1 may answer: from memory when it holds the reply, else (for a hot key) sent as a
     * {@link Fill} whose reply L1 keeps. Returns false, and leaves the request alone, when L1 does
     * not take it: the node's keys are not cached (a cluster pool, a replica), or the key is cold,
     * or the node's invalidation link is down.
     */
    private boolean readThroughL1(RespRequest request, CommandSpec spec, PendingReply pending, BackendPool pool,
                                  BackendNode node, int keyIndex) {
        TrackedNode tracked = nearCache.tracked(node);
        if (tracked == null) {
            return false;
        }
        ByteBuf content = request.content();
        int offset = request.argOffset(keyIndex);
        int length = request.argLength(keyIndex);
        int hash = CacheKey.hashOf(content, offset, length);
        long now = pending.startNanos;
        int reads = nearCache.recordRead(hash, now);
        if (reads < nearCache.lookupFloor()) {
            nearCache.countMiss();      // cold: not worth a look (nor a copy of its key)
            return false;
        }
        CacheKey key = CacheKey.of(content, offset, length, hash);
        nearCache.noteIfHot(key, reads, now);
        byte[] args = NearCache.argsAfterKey(request, keyIndex);
        byte[] hit = nearCache.get(key, spec.id(), session.protocol, args, now);
        if (hit != null) {
            request.release();
            completeFromL1(pending, hit);
            return true;
        }
        if (!nearCache.admits(key, reads) || !tracked.fillable()) {
            return false;
        }
        NearCache.FillTicket ticket = nearCache.startFill(key, tracked, spec.id(), session.protocol, args, now);
        if (ticket == null) {
            return false;       // another read is filling it
        }
        Fill.send(nearCache, ticket, loop.shared(pool, node, session.protocol), request.content(), pending);
        return true;
    }

    /** SPUBLISH: to where the channel's subscriptions live ({@link BackendPool#shardChannelNode}). */
    private void forwardShardPublish(RespRequest request, PendingReply pending) {
        BackendPool pool = proxy.routes().defaultTarget();
        BackendNode node = pool.shardChannelNode(request.content(), request.argOffset(1), request.argLength(1));
        ClusterRedirect.send(loop, pool, node, session.protocol, request.content(), pending);
    }

    /** No keys: any node answers; the default pool's first node does, so replies are stable. */
    private void forwardKeyless(RespRequest request, PendingReply pending) {
        BackendPool pool = proxy.routes().defaultTarget();
        loop.shared(pool, pool.nodes().get(0), session.protocol).send(request.content(), pending);
    }

    private void forwardWholeKeyspace(RespRequest request, CommandSpec spec, PendingReply pending) {
        BackendPool pool = proxy.routes().defaultTarget();
        if (proxy.routes().targets().size() == 1 && pool.isSingleNode() && !spec.name().equals("info")) {
            loop.shared(pool, pool.nodes().get(0), session.protocol).send(request.content(), pending);
        } else if (spec.name().equals("scan")) {
            ShardedScan.start(this, loop, proxy, session.protocol, request, pending);
        } else if (WholeKeyspaceFanOut.handles(spec)) {
            WholeKeyspaceFanOut.start(this, loop, proxy, session.protocol, request, spec, pending);
        } else {
            refuse(request, pending, ErrorReplies.crossShardNotSupported(spec.displayName()));
        }
    }

    /** A command the table does not know (a module's): forwarded when the pool has one node. */
    /**
     * A command the table does not know (a module's). A one-node proxy passes it on; otherwise its
     * keys are located through the backend's {@code COMMAND INFO} (asked once per name, see
     * {@link ModuleCommands}) and it is routed like a built-in command.
     */
    private void forwardUnknown(RespRequest request, PendingReply pending) {
        if (!session.authenticated) {
            refuse(request, pending, ErrorReplies.NOAUTH);
            return;
        }
        BackendPool pool = proxy.routes().defaultTarget();
        if (pool.isSingleNode() && proxy.routes().targets().size() == 1) {
            forwardKeyless(request, pending);
            return;
        }
        String name = request.argString(0).toLowerCase(java.util.Locale.ROOT);
        ModuleCommands.Lookup known = proxy.moduleCommands().get(name);
        if (known != null) {
            forwardModuleCommand(known, request, pending);
            return;
        }
        ByteBuf commandInfo = channel.alloc().buffer(32 + name.length());
        RespWriter.writeCommand(commandInfo, "COMMAND", "INFO", name);
        loop.shared(pool, pool.nodes().get(0), session.protocol).send(commandInfo, new ReplySink() {
            @Override
            public void onReply(ByteBuf reply) {
                ModuleCommands.Lookup lookup;
                try {
                    lookup = ModuleCommands.parse(reply, name, proxy.metrics().unknownCommandId());
                } finally {
                    reply.release();
                }
                if (lookup == null) {
                    refuse(request, pending, "ERR cannot locate the keys of command '" + request.argString(0)
                            + "': the backend's COMMAND INFO reply was not understood");
                    return;
                }
                proxy.moduleCommands().put(name, lookup);
                forwardModuleCommand(lookup, request, pending);
            }

            @Override
            public void onFailure(String error) {
                refuse(request, pending, error);
            }

            @Override
            public long deadlineNanos() {
                return pending.deadlineNanos;
            }
        });
    }

    private void forwardModuleCommand(ModuleCommands.Lookup lookup, RespRequest request, PendingReply pending) {
        if (closed) {
            request.release();
            return;
        }
        switch (lookup) {
            case ModuleCommands.Located located when located.spec().kind() == CommandKind.KEYED ->
                    forwardByKeys(request, located.spec(), pending);
            case ModuleCommands.Located located -> forwardKeyless(request, pending);
            // Redis answers its own "unknown command" error, byte for byte
            case ModuleCommands.UnknownToBackend unknown -> forwardKeyless(request, pending);
            case ModuleCommands.Unlocatable unlocatable -> refuse(request, pending, "ERR the keys of command '"
                    + request.argString(0) + "' cannot be located through the proxy (its keys move with its "
                    + "arguments); use a pool of one node for it");
        }
    }

    private void forwardAdmin(RespRequest request, CommandSpec spec, PendingReply pending) {
        BackendPool pool = proxy.routes().defaultTarget();
        if (!pool.adminCommandsPass()) {
            refuse(request, pending, ErrorReplies.notAllowed(spec.displayName()));
            return;
        }
        if (spec.firstKey() > 0) {      // OBJECT ENCODING key, MEMORY USAGE key: the key's node
            forwardByKeys(request, spec, pending);
            return;
        }
        if (pool.isSingleNode()) {
            loop.shared(pool, pool.nodes().get(0), session.protocol).send(request.content(), pending);
            return;
        }
        // Every node gets it; the client sees the first node's reply.
        FanOut fanOut = new FanOut(pending, pool.nodes().size(), FanOut.FIRST, channel.alloc());
        ByteBuf content = request.content();
        for (int i = 0; i < pool.nodes().size(); i++) {
            ByteBuf copy = i == pool.nodes().size() - 1 ? content : content.retainedDuplicate();
            loop.shared(pool, pool.nodes().get(i), session.protocol).send(copy, fanOut.part(i));
        }
    }

    /**
     * Blocking commands run on a connection borrowed for them, so they stall nobody else; when the
     * node has no connection left for them, the command is refused rather than queued.
     */
    private void forwardBlocking(RespRequest request, CommandSpec spec, PendingReply pending) {
        int[] keys = KeyPositions.of(spec, request);
        Owner owner = keys == null ? null : ownerOf(request, keys, false);
        if (owner == SPANS_NODES) {
            refuse(request, pending, ErrorReplies.crossSlot());
            return;
        }
        BackendPool pool = owner == null ? proxy.routes().defaultTarget() : owner.pool;
        BackendNode node = owner == null ? pool.nodes().get(0) : owner.node;
        long timeoutMillis = BlockingTimeouts.timeoutMillis(spec.name(), request);
        if (timeoutMillis != BlockingTimeouts.UNKNOWN) {
            // The deadline is the command's own timeout plus the pool's command timeout; 0 blocks forever.
            pending.deadlineNanos = timeoutMillis == 0 ? Long.MAX_VALUE
                    : pending.startNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMillis)
                            + pool.settings().commandTimeout().toNanos();
        }
        copyAfterReply(pending, pool, node, keysWrittenOnOneReplica(pool, spec, request, keys));
        BlockingLease lease = blockingLease(pool, node);
        if (lease == null) {
            refuse(request, pending, ErrorReplies.tooManyBlockingCommands(pool.name(), node.name(),
                    pool.settings().blockingConnections()));
            closeIdleBlockingConnectionsOfOtherLoops(pool, node);
            return;
        }
        lease.send(request.content(), pending);
    }

    /** This client's lease on {@code node} for its protocol version; a new one if it has none; null at the bound. */
    private BlockingLease blockingLease(BackendPool pool, BackendNode node) {
        for (BlockingLease lease : leases) {
            if (lease.node == node && lease.protocol == session.protocol) {
                return lease;
            }
        }
        UpstreamConnection connection = loop.blockingConnections().borrow(pool, node, session.protocol);
        if (connection == null) {
            return null;
        }
        BlockingLease lease = new BlockingLease(pool, node, session.protocol, connection);
        leases.add(lease);
        return lease;
    }

    /** Idle connections on other loops hold places of the bound too: let them go, for the next try. */
    private void closeIdleBlockingConnectionsOfOtherLoops(BackendPool pool, BackendNode node) {
        for (LoopContext other : proxy.loops()) {
            if (other != loop) {
                other.loop().execute(() -> other.blockingConnections().closeIdle(pool, node));
            }
        }
    }

    /**
     * MULTI/EXEC/DISCARD/WATCH/UNWATCH. A transaction runs on a connection dedicated to this client,
     * on the node of its first key (WATCH's keys, or the first queued command with keys): MULTI is
     * answered here and sent to that node only when the node is known. Commands queued for another
     * node, or refused by the proxy, are answered with their error and make EXEC answer
     * {@code EXECABORT}, as Redis does for commands rejected while queueing.
     */
    private void transaction(RespRequest request, CommandSpec spec, PendingReply pending) {
        switch (spec.name()) {
            case "multi" -> {
                if (session.inMulti) {
                    refuse(request, pending, "ERR MULTI calls can not be nested");
                    return;
                }
                session.inMulti = true;
                session.multiFailed = false;
                if (pinnedNode != null) {           // after WATCH: the node is known
                    forwardPinned(request, pending);
                } else {
                    request.release();
                    complete(pending, RespReplies.OK.duplicate());
                }
            }
            case "watch" -> {
                if (session.inMulti) {
                    refuse(request, pending, "ERR WATCH inside MULTI is not allowed");
                    return;
                }
                Owner owner = ownerOf(request, KeyPositions.of(spec, request), false);
                if (owner == SPANS_NODES || pinnedNode != null && owner.node != pinnedNode) {
                    refuse(request, pending, ErrorReplies.crossSlot());
                    return;
                }
                boolean pins = pinnedNode == null;
                pinnedPool = owner.pool;
                pinnedNode = owner.node;
                session.watching = true;
                watchesSent++;
                forwardPinned(request, pending, PinnedStep.WATCH, pins ? watchesSent : 0);
            }
            case "exec", "discard" -> {
                String upper = spec.name().toUpperCase(java.util.Locale.ROOT);
                if (!session.inMulti) {
                    refuse(request, pending, "ERR " + upper + " without MULTI");
                    return;
                }
                boolean failed = session.multiFailed;
                WriteSet writes = spec.name().equals("exec") && !failed && nearCache.enabled()
                        ? WriteSet.merge(nearCache, queuedWrites) : null;
                queuedWrites.clear();
                List<byte[]> copied = spec.name().equals("exec") && !failed && pinnedNode != null
                        ? new ArrayList<>(replicatedTransactionKeys) : null;
                replicatedTransactionKeys.clear();
                session.inMulti = false;
                session.watching = false;
                session.multiFailed = false;
                if (pinnedNode == null) {           // nothing was queued on any node
                    request.release();
                    if (failed && spec.name().equals("exec")) {
                        completeWithError(pending, ErrorReplies.EXECABORT);
                    } else {
                        complete(pending, spec.name().equals("exec") ? RespReplies.EMPTY_ARRAY.duplicate() : RespReplies.OK.duplicate());
                    }
                    return;
                }
                pending.after = PendingReply.After.END_TRANSACTION;
                if (failed && spec.name().equals("exec")) {
                    // the node queued only the accepted commands: drop them, answer like Redis
                    request.release();
                    ByteBuf discard = channel.alloc().buffer(16);
                    RespWriter.writeCommand(discard, "DISCARD");
                    dedicatedConnection(pinnedPool, pinnedNode).send(discard, new ReplacedReply(pending, ErrorReplies.EXECABORT));
                    return;
                }
                pending.writes = writes;
                if (copied != null && pinnedPool.replicated()) {
                    copyAfterReply(pending, pinnedPool, pinnedNode, copied);
                }
                forwardPinned(request, pending, spec.name().equals("exec") ? PinnedStep.EXEC : PinnedStep.OTHER, 0);
            }
            case "unwatch" -> {
                session.watching = false;
                if (pinnedNode == null) {
                    request.release();
                    complete(pending, RespReplies.OK.duplicate());
                    return;
                }
                pending.after = PendingReply.After.END_WATCH;
                forwardPinned(request, pending);
            }
            default -> throw new IllegalStateException("not a transaction command: " + spec.name());
        }
    }

    /** A command between MULTI and EXEC: queued on the transaction's node, or refused. */
    private void queueInTransaction(RespRequest request, CommandSpec spec, PendingReply pending) {
        String refusal = null;
        Owner owner = null;
        if (spec != null) {
            if (spec.kind() == CommandKind.FORBIDDEN
                    || spec.kind() == CommandKind.ADMIN && !proxy.routes().defaultTarget().adminCommandsPass()) {
                refusal = ErrorReplies.notAllowed(spec.displayName());
            } else if (spec.kind() == CommandKind.SUBSCRIBE || spec.kind() == CommandKind.WHOLE_KEYSPACE
                    && !(proxy.routes().targets().size() == 1 && proxy.routes().defaultTarget().isSingleNode())) {
                refusal = ErrorReplies.notInTransaction(spec.displayName());
            } else if (spec.arityAccepts(request.argCount())) {
                int[] keys = KeyPositions.of(spec, request);
                owner = keys == null ? null : ownerOf(request, keys, false);
                if (owner == SPANS_NODES || owner != null && pinnedNode != null && owner.node != pinnedNode) {
                    refusal = ErrorReplies.crossSlot();
                }
            }
        }
        if (refusal != null) {
            session.multiFailed = true;
            refuse(request, pending, refusal);
            return;
        }
        if (spec != null && nearCache.enabled() && WriteSet.writes(spec)) {
            WriteSet writes = WriteSet.begin(nearCache, proxy.routes(), request, spec);
            if (writes != null) {
                queuedWrites.add(writes);
            }
        }
        if (owner != null) {
            List<byte[]> written = keysWrittenOnOneReplica(owner.pool, spec, request, KeyPositions.of(spec, request));
            if (written != null) {
                replicatedTransactionKeys.addAll(written);
            }
        }
        if (pinnedNode == null) {
            pinnedPool = owner != null ? owner.pool : proxy.routes().defaultTarget();
            pinnedNode = owner != null ? owner.node : pinnedPool.nodes().get(0);
            ByteBuf multi = channel.alloc().buffer(16);
            RespWriter.writeCommand(multi, "MULTI");
            dedicatedConnection(pinnedPool, pinnedNode).send(multi, new ReplacedReply(null, null));
        }
        // unknown commands and wrong arities go to the node too: it answers the error and aborts EXEC
        forwardPinned(request, pending, PinnedStep.QUEUED, 0);
    }

    private void forwardPinned(RespRequest request, PendingReply pending) {
        forwardPinned(request, pending, PinnedStep.OTHER, 0);
    }

    /**
     * Sends a command on the transaction's connection. In a cluster pool the reply to a command with
     * keys (WATCH, a queued command, EXEC) may be a redirection, which a {@link PinnedReply} turns
     * into an error for the client. {@code watch} is for a WATCH that pinned the node: the
     * {@link #watchesSent} it made; 0 for any other command.
     */
    private void forwardPinned(RespRequest request, PendingReply pending, PinnedStep step, int watch) {
        ReplySink sink = step == PinnedStep.OTHER || pinnedPool.cluster() == null ? pending
                : new PinnedReply(pending, pinnedPool, pinnedNode, step, watch);
        dedicatedConnection(pinnedPool, pinnedNode).send(request.content(), sink);
    }

    private UpstreamConnection dedicatedConnection(BackendPool pool, BackendNode node) {
        UpstreamConnection connection = dedicated.get(node);
        if (connection == null || connection.isClosed()) {
            connection = loop.dedicated(pool, node, session.protocol);
            dedicated.put(node, connection);
        }
        return connection;
    }

    /**
     * SUBSCRIBE and friends: from now on this client talks to one node through a dedicated
     * connection, every reply and message of which is passed straight back, in order.
     */
    private void openTunnel(RespRequest request, PendingReply pending) {
        // Pub/sub meets on the default pool's first node, so publishers and subscribers on any proxy
        // with the same config find each other (PUBLISH, a keyless command, goes there too).
        BackendPool pool = proxy.routes().defaultTarget();
        // Later SSUBSCRIBEs on this connection must name channels of the same node, as on a Redis
        // Cluster connection (else Redis answers MOVED).
        tunnelNode = request.argCount() > 1 && request.argString(0).equalsIgnoreCase("ssubscribe")
                ? pool.shardChannelNode(request.content(), request.argOffset(1), request.argLength(1))
                : pool.nodes().get(0);
        UpstreamConnection connection = dedicatedConnection(pool, tunnelNode);
        session.tunneled = true;
        loop.requestFinished();     // a subscription is not a request that shutdown waits for
        tunnelReply = pending;      // stays at the queue's tail; everything after it streams through it
        pending.done = false;
        connection.tunnel(new UpstreamConnection.Tunnel() {
            @Override
            public void onMessage(ByteBuf message) {
                tunnelMessage(message);
            }

            @Override
            public void onClose() {
                closeAfterDrain = true;
                tunnelMessage(null);
            }
        });
        noteInvalidationChannel(request);
        connection.sendToTunnel(request.content());
    }

    /**
     * RESP2 client-side caching: a client subscribed to {@code __redis__:invalidate} can be the
     * REDIRECT target of tracking clients (the subscription itself also reaches the node, harmlessly).
     */
    private void noteInvalidationChannel(RespRequest request) {
        String command = request.argString(0).toLowerCase(java.util.Locale.ROOT);
        boolean subscribe = command.equals("subscribe");
        if (!subscribe && !command.equals("unsubscribe")) {
            return;
        }
        if (!subscribe && request.argCount() == 1) {
            session.subscribedToInvalidations = false;
        }
        for (int i = 1; i < request.argCount(); i++) {
            if (request.argEqualsIgnoreCase(i, INVALIDATION_CHANNEL)) {
                session.subscribedToInvalidations = subscribe;
            }
        }
    }

    private static final byte[] INVALIDATION_CHANNEL = "__REDIS__:INVALIDATE".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private void forwardToTunnel(RespRequest request, CommandSpec spec) {
        UpstreamConnection connection = tunnelNode == null ? null : dedicated.get(tunnelNode);
        if (connection == null || connection.isClosed()) {
            request.release();
            return;
        }
        noteInvalidationChannel(request);
        connection.sendToTunnel(request.content());
        loop.stats().count(spec != null ? spec.id() : proxy.metrics().unknownCommandId());
    }

    /** A tunnel message: written at once when the tunnel is the head of the queue, else held. */
    private void tunnelMessage(ByteBuf message) {
        if (closed) {
            if (message != null) {
                message.release();
            }
            return;
        }
        if (message != null) {
            if (queue.peek() == tunnelReply && queue.size() == 1 && tunnelReply.reply == null) {
                out.write(message);
                markForFlush();
                return;
            }
            // hold until earlier replies are out
            tunnelReply.reply = tunnelReply.reply == null ? message
                    : io.netty.buffer.Unpooled.wrappedBuffer(tunnelReply.reply, message);
        }
        drain(false);
    }

    void complete(PendingReply pending, ByteBuf reply) {
        endWrites(pending);
        markDone(pending, isError(reply, reply.readerIndex()));
        if (closed) {
            // The client is gone and its queue may already be released: nobody else would free this.
            reply.release();
            releasePending();
            return;
        }
        pending.reply = reply;
        if (queue.peek() == pending) {
            drain(false);
        }
    }

    /**
     * An upstream reply that lies in {@code in[index, index + length)} (not ours; see
     * {@link io.cacheproxy.proxy.upstream.ReplySink#onReply(ByteBuf, int, int)}). At the head of the
     * queue, the common case, it is copied straight to the client's output; otherwise it waits as a
     * retained slice.
     */
    void complete(PendingReply pending, ByteBuf in, int index, int length) {
        endWrites(pending);
        if (!writableNow(pending)) {
            complete(pending, in.retainedSlice(index, length));
            return;
        }
        takeHead(pending, isError(in, index));
        if (!pending.silent) {
            out.writeCopy(in, index, length);
        }
        finishHead(pending);
    }

    /** A reply L1 holds ({@code reply} is shared and immutable): copied out, in order. */
    private void completeFromL1(PendingReply pending, byte[] reply) {
        if (!writableNow(pending)) {
            // behind replies still due (or the client has gone): kept as the array, copied out in drain
            markDone(pending, false);
            if (!closed) {
                pending.l1Reply = reply;
            }
            return;
        }
        takeHead(pending, false);
        if (!pending.silent) {
            out.writeBytes(reply);
        }
        finishHead(pending);
    }

    /** {@code pending} is answered: counted in the loop's stats with its latency. */
    private void markDone(PendingReply pending, boolean error) {
        pending.done = true;
        loop.stats().record(pending.commandId, error, System.nanoTime() - pending.startNanos);
    }

    /** Whether {@code pending}'s reply can be written at once: the client is here and it is the queue's head. */
    private boolean writableNow(PendingReply pending) {
        return !closed && pending != tunnelReply && queue.peek() == pending;
    }

    /** Takes {@code pending}, complete, off the head of the queue; its reply is written next. */
    private void takeHead(PendingReply pending, boolean error) {
        markDone(pending, error);
        queue.poll();
        loop.requestFinished();
    }

    /** After the head's reply was written: its pushes, its after-action, then what completed behind it. */
    private void finishHead(PendingReply pending) {
        writePushes(pending);
        afterWrite(pending);
        drain(true);
    }

    /**
     * A write was answered: L1 drops its keys again, before the client can see the reply; a write
     * that ran on one replica only has its keys copied to the others.
     */
    private void endWrites(PendingReply pending) {
        if (pending.writes != null) {
            pending.writes.end(nearCache, loop.broadcaster());
            pending.writes = null;
        }
        if (pending.copyAfter != null) {
            pending.copyAfter.run();
            pending.copyAfter = null;
        }
    }

    /**
     * Keys of a replicated pool that a command sent to their serving node alone writes (a blocking
     * pop, a command queued in a transaction): remembered so that they are copied to the keys'
     * other replicas once it is answered. Returns null when nothing needs copying.
     */
    private static List<byte[]> keysWrittenOnOneReplica(BackendPool pool, CommandSpec spec, RespRequest request,
                                                        int[] keys) {
        if (!pool.replicated() || spec.isReadOnly() || keys == null) {
            return null;
        }
        List<byte[]> written = new ArrayList<>(keys.length);
        for (int k : keys) {
            written.add(request.argBytes(k));
        }
        return written;
    }

    /** Copies {@code keys} from {@code source} to their other replicas, after the reply of {@code pending}. */
    private void copyAfterReply(PendingReply pending, BackendPool pool, BackendNode source, List<byte[]> keys) {
        if (keys != null && !keys.isEmpty()) {
            PoolReplication replication = proxy.replication(pool);
            pending.copyAfter = () -> replication.copyAfter(source, keys);
        }
    }

    void completeWithError(PendingReply pending, String error) {
        ByteBuf buf = channel.alloc().buffer(error.length() + 3);
        RespWriter.writeError(buf, error);
        complete(pending, buf);
    }

    /** Whether the reply starting at {@code buf[index]} is an error (simple or blob). */
    private static boolean isError(ByteBuf buf, int index) {
        byte type = buf.getByte(index);
        return type == '-' || type == '!';
    }

    /**
     * Writes every completed reply at the head of the queue, in order.
     *
     * @param wrote whether the caller has just written a reply itself
     */
    private void drain(boolean wrote) {
        PendingReply head;
        while ((head = queue.peek()) != null) {
            if (head == tunnelReply) {
                if (head.reply != null) {
                    out.write(head.reply);
                    head.reply = null;
                    wrote = true;
                }
                if (closeAfterDrain) {
                    queue.poll();
                    continue;
                }
                break;
            }
            if (!head.done) {
                break;
            }
            queue.poll();
            loop.requestFinished();
            if (head.l1Reply != null) {
                if (!head.silent) {
                    out.writeBytes(head.l1Reply);
                    wrote = true;
                }
                head.l1Reply = null;
            } else if (head.silent) {
                head.reply.release();
            } else {
                out.write(head.reply);
                wrote = true;
            }
            head.reply = null;
            if (head.pushes != null) {
                writePushes(head);
                wrote = true;
            }
            afterWrite(head);
        }
        if (wrote) {
            markForFlush();
            checkOutputLimit();
        }
        if (closeAfterDrain && queue.isEmpty()) {
            out.flush();
            channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            closed = true;
            return;
        }
        if (readingPaused && queue.size() < MAX_QUEUED / 2 && channel.isWritable()) {
            readingPaused = false;
            channel.config().setAutoRead(true);
        }
    }

    private void afterWrite(PendingReply reply) {
        switch (reply.after) {
            case CLOSE -> closeAfterDrain = true;
            case END_TRANSACTION, END_WATCH -> {
                if (!session.pinned()) {
                    pinnedNode = null;
                    pinnedPool = null;
                }
            }
            case NOTHING -> { }
        }
    }

    private void markForFlush() {
        if (!flushMarked) {
            flushMarked = true;
            loop.flusher().flushThisPass(flushTask);
        }
    }

    private void checkOutputLimit() {
        if (proxy.clientOutputBufferLimit() <= 0) {     // 0 = unlimited
            return;
        }
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        if (out != null && out.totalPendingWriteBytes() + this.out.pendingBytes() > proxy.clientOutputBufferLimit()) {
            log.warn("{} closed: output buffer over {} bytes (client not reading its replies)",
                    session, proxy.clientOutputBufferLimit());
            channel.close();
        }
    }

    /** QUIT: reply, then close once every earlier reply is out. */
    void closeAfter(PendingReply pending) {
        pending.after = PendingReply.After.CLOSE;
    }

    /** RESET: leave transactions and subscriptions by dropping the dedicated connections. */
    void resetConnections() {
        closeDedicated();
        queuedWrites.clear();
        replicatedTransactionKeys.clear();
        pinnedNode = null;
        pinnedPool = null;
    }

    Channel channel() {
        return channel;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (channel.isWritable()) {
            if (readingPaused && queue.size() < MAX_QUEUED / 2) {
                readingPaused = false;
                channel.config().setAutoRead(true);
            }
        } else if (!readingPaused) {
            readingPaused = true;
            channel.config().setAutoRead(false);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && queue.isEmpty()) {
            log.debug("{} closed: idle", session);
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        proxy.clientTracking().unregister(session.id);
        proxy.metrics().clientDisconnected();
        releasePending();
        closeDedicated();
        for (BlockingLease lease : leases) {
            lease.abandon();
        }
        leases.clear();
        this.out.discard();
        ctx.fireChannelInactive();
    }

    private void releasePending() {
        PendingReply p;
        while ((p = queue.poll()) != null) {
            if (p != tunnelReply) {
                loop.requestFinished();
            }
            if (p.reply != null) {
                p.reply.release();
                p.reply = null;
            }
            if (p.pushes != null) {
                p.pushes.release();
                p.pushes = null;
            }
        }
        if (tunnelReply != null && tunnelReply.reply != null) {
            tunnelReply.reply.release();
            tunnelReply.reply = null;
        }
    }

    private void closeDedicated() {
        for (UpstreamConnection connection : dedicated.values()) {
            connection.close();
        }
        dedicated.clear();
        session.tunneled = false;
        tunnelNode = null;
        tunnelReply = null;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof RespProtocolException || cause instanceof DecoderException && cause.getCause() instanceof RespProtocolException) {
            RespProtocolException protocolError = cause instanceof RespProtocolException p ? p : (RespProtocolException) cause.getCause();
            log.debug("{} protocol error: {}", session, protocolError.getMessage());
            ctx.channel().config().setAutoRead(false);
            if (closed || closeAfterDrain) {
                return;
            }
            // Like Redis: replies already due are written, then the error, then the connection closes.
            PendingReply pending = new PendingReply(this, proxy.metrics().protocolErrorId(), System.nanoTime(), Long.MAX_VALUE);
            if (tunnelReply != null) {
                // a subscriber's stream has no reply slots: the error goes after what was received
                ByteBuf error = ctx.alloc().buffer();
                RespWriter.writeError(error, "ERR " + protocolError.getMessage());
                ctx.writeAndFlush(error).addListener(ChannelFutureListener.CLOSE);
                closed = true;
                return;
            }
            queue.add(pending);
            loop.requestStarted();
            pending.after = PendingReply.After.CLOSE;
            completeWithError(pending, "ERR " + protocolError.getMessage());
            return;
        }
        if (cause instanceof IOException) {
            log.debug("{} connection error: {}", session, cause.toString());
        } else {
            log.warn("{} closing after an unexpected error", session, cause);
        }
        ctx.close();
    }

    /**
     * A connection this client has borrowed for blocking commands to one node, and those commands
     * in the order they were sent. It is the {@link ReplySink} of each of them: the connection
     * answers them in that order, and the lease completes the matching {@link PendingReply}. After
     * the last answer (or failure) the connection goes back to the loop's
     * {@link BlockingConnections}.
     *
     * <p>In a cluster pool a command answered {@code -MOVED} or {@code -ASK} (its slot moved, or is
     * moving, before it blocked, or while it was blocked) is sent again, on a lease on the node the
     * redirection names ({@code ASKING} first for an ASK), at most
     * {@value ClusterRedirect#MAX_REDIRECTS} times, like {@link ClusterRedirect} does for other
     * commands; a MOVED updates the slot map. For that the lease keeps a reference to each such
     * command's bytes until its final answer.
     */
    private final class BlockingLease implements ReplySink {
        final BackendPool pool;
        final BackendNode node;
        /** The version the connection speaks; a client that changes it (HELLO) borrows another. */
        final RespVersion protocol;
        private final UpstreamConnection connection;
        private final ArrayDeque<BlockingCommand> inFlight = new ArrayDeque<>(2);
        private boolean abandoned;

        BlockingLease(BackendPool pool, BackendNode node, RespVersion protocol, UpstreamConnection connection) {
            this.pool = pool;
            this.node = node;
            this.protocol = protocol;
            this.connection = connection;
        }

        /** Takes ownership of {@code command}. */
        void send(ByteBuf command, PendingReply pending) {
            send(new BlockingCommand(pending, pool.cluster() != null ? command.retain() : null, 0,
                    pending.deadlineNanos - pending.startNanos), command, false);
        }

        /** Takes ownership of {@code bytes}, the command's wire form; with {@code asking}, ASKING goes first. */
        private void send(BlockingCommand command, ByteBuf bytes, boolean asking) {
            if (asking) {
                connection.send(ClusterRedirect.asking(), ReplySink.IGNORE);
            }
            inFlight.add(command);                  // first: the send may fail at once
            connection.send(bytes, this);
        }

        @Override
        public void onReply(ByteBuf reply) {
            BlockingCommand command = inFlight.poll();
            ClusterRedirect.Redirection redirection = command.redirection(reply, reply.readerIndex(), reply.readableBytes());
            if (redirection == null) {
                command.release();
                command.pending.onReply(reply);
            } else {
                reply.release();
            }
            answered();
            if (redirection != null) {
                redirectBlocking(pool, command, redirection);
            }
        }

        @Override
        public void onReply(ByteBuf in, int index, int length) {
            BlockingCommand command = inFlight.poll();
            ClusterRedirect.Redirection redirection = command.redirection(in, index, length);
            if (redirection == null) {
                command.release();
                command.pending.onReply(in, index, length);
            }
            answered();
            if (redirection != null) {
                redirectBlocking(pool, command, redirection);
            }
        }

        @Override
        public void onFailure(String error) {
            BlockingCommand command = inFlight.poll();
            command.release();
            command.pending.onFailure(error);
            answered();
        }

        /** The oldest command's: the connection's deadline check looks only at its oldest sink. */
        @Override
        public long deadlineNanos() {
            BlockingCommand oldest = inFlight.peek();
            return oldest == null ? Long.MAX_VALUE : oldest.pending.deadlineNanos;
        }

        private void answered() {
            if (inFlight.isEmpty() && !abandoned) {
                leases.remove(this);
                loop.blockingConnections().giveBack(pool, connection, protocol);
            }
        }

        /** The client has gone: close the connection, commands in flight fail and are dropped. */
        void abandon() {
            abandoned = true;
            loop.blockingConnections().close(pool, connection);
        }
    }

    /**
     * A blocking command in flight on a {@link BlockingLease}: the client's reply slot and, in a
     * cluster pool, a reference to the command's bytes (null otherwise), kept to resend it after a
     * redirection and released at its final answer ({@link #release()}). {@code budgetNanos} is how long
     * after it is sent it may take (its own timeout plus the pool's command timeout).
     */
    private record BlockingCommand(PendingReply pending, ByteBuf command, int redirects, long budgetNanos) {

        /** The redirection {@code in[index, index + length)} is, if this command may still follow one; else null. */
        ClusterRedirect.Redirection redirection(ByteBuf in, int index, int length) {
            return command == null || redirects >= ClusterRedirect.MAX_REDIRECTS ? null
                    : ClusterRedirect.Redirection.parse(in, index, length);
        }

        void release() {
            if (command != null) {
                command.release();
            }
        }
    }

    /**
     * Sends a blocking command again, where {@code redirection} says its slot is served now, on this
     * client's lease on that node (borrowed if need be; at the node's bound the command is refused
     * as in {@link #forwardBlocking}). Its deadline restarts with it: Redis counts its timeout anew.
     */
    private void redirectBlocking(BackendPool pool, BlockingCommand command, ClusterRedirect.Redirection redirection) {
        if (closed) {
            command.release();
            return;
        }
        BackendNode target = redirection.follow(pool.cluster());
        PendingReply pending = command.pending();
        if (pending.deadlineNanos != Long.MAX_VALUE) {
            pending.deadlineNanos = System.nanoTime() + command.budgetNanos();
        }
        BlockingLease lease = blockingLease(pool, target);
        if (lease == null) {
            command.release();
            completeWithError(pending, ErrorReplies.tooManyBlockingCommands(pool.name(), target.name(),
                    pool.settings().blockingConnections()));
            closeIdleBlockingConnectionsOfOtherLoops(pool, target);
            return;
        }
        ByteBuf bytes = command.command();
        lease.send(new BlockingCommand(pending, bytes.retain(), command.redirects() + 1, command.budgetNanos()), bytes,
                redirection.ask());
    }

    /** What a command sent on the transaction's connection is, for what a redirection of it means. */
    private enum PinnedStep { WATCH, QUEUED, EXEC, OTHER }

    /**
     * The reply to a command sent on the transaction's connection of a cluster pool. A transaction
     * cannot follow its slot to another node, so a {@code -MOVED}/{@code -ASK} reply (the slot moved
     * after the proxy chose the node) is not passed on, as a cluster-unaware client could not use it:
     * the client gets an error saying what happened instead, and for a MOVED the slot map learns the
     * new owner at once, so that the client's retry of the whole transaction goes there.
     * <ul>
     * <li>A queued command: Redis has flagged the transaction and its EXEC answers EXECABORT.
     * <li>EXEC: Redis checks the queued commands' slots again and discards the transaction; the
     *     client gets EXECABORT.
     * <li>WATCH: nothing was watched. If it was the WATCH that pinned the client to the node and
     *     nothing has used the pin since, the pin is dropped, so the retried WATCH goes to the new owner.
     * </ul>
     */
    private final class PinnedReply implements ReplySink {
        private final PendingReply pending;
        private final BackendPool pool;
        private final BackendNode node;
        private final PinnedStep step;
        private final int watch;

        PinnedReply(PendingReply pending, BackendPool pool, BackendNode node, PinnedStep step, int watch) {
            this.pending = pending;
            this.pool = pool;
            this.node = node;
            this.step = step;
            this.watch = watch;
        }

        @Override
        public void onReply(ByteBuf reply) {
            ClusterRedirect.Redirection redirection =
                    ClusterRedirect.Redirection.parse(reply, reply.readerIndex(), reply.readableBytes());
            if (redirection == null) {
                pending.onReply(reply);
            } else {
                reply.release();
                redirected(redirection);
            }
        }

        @Override
        public void onReply(ByteBuf in, int index, int length) {
            ClusterRedirect.Redirection redirection = ClusterRedirect.Redirection.parse(in, index, length);
            if (redirection == null) {
                pending.onReply(in, index, length);
            } else {
                redirected(redirection);
            }
        }

        @Override
        public void onFailure(String error) {
            pending.onFailure(error);
        }

        @Override
        public long deadlineNanos() {
            return pending.deadlineNanos;
        }

        private void redirected(ClusterRedirect.Redirection redirection) {
            redirection.follow(pool.cluster());
            switch (step) {
                case QUEUED -> completeWithError(pending, redirection.queuedError());
                case EXEC -> completeWithError(pending, redirection.execError());
                case WATCH -> {
                    if (watch != 0 && watch == watchesSent && !session.inMulti && pinnedNode == node) {
                        session.watching = false;
                        if (!session.pinned()) {
                            pinnedNode = null;
                            pinnedPool = null;
                        }
                    }
                    completeWithError(pending, redirection.watchError());
                }
                case OTHER -> throw new IllegalStateException("not redirectable: " + step);
            }
        }
    }

    /**
     * Consumes the reply to a command the proxy sent on the client's behalf (MULTI when a
     * transaction's node becomes known, DISCARD for an aborted EXEC) and, if {@code target} is set,
     * completes the client's request with {@code error} instead.
     */
    private final class ReplacedReply implements ReplySink {
        private final PendingReply target;
        private final String error;

        ReplacedReply(PendingReply target, String error) {
            this.target = target;
            this.error = error;
        }

        @Override
        public void onReply(ByteBuf reply) {
            reply.release();
            if (target != null) {
                completeWithError(target, error);
            }
        }

        @Override
        public void onFailure(String failure) {
            if (target != null) {
                completeWithError(target, failure);
            }
        }

        @Override
        public long deadlineNanos() {
            return target != null ? target.deadlineNanos : Long.MAX_VALUE;
        }
    }
}
