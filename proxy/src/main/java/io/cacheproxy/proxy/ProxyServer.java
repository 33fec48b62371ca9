package io.cacheproxy.proxy;

import io.cacheproxy.config.AdminCommands;
import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.config.PoolConfig;
import io.cacheproxy.config.PoolType;
import io.cacheproxy.config.ReadFrom;
import io.cacheproxy.config.ProxyConfig;
import io.cacheproxy.config.RouteConfig;
import io.cacheproxy.config.UserConfig;
import io.cacheproxy.proxy.admin.AdminServer;
import io.cacheproxy.proxy.l1.NearCache;
import io.cacheproxy.proxy.metrics.ProxyMetrics;
import io.cacheproxy.proxy.server.ClientHandler;
import io.cacheproxy.proxy.server.RefreshAhead;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.ClusterTopology;
import io.cacheproxy.proxy.upstream.HealthChecker;
import io.cacheproxy.proxy.upstream.NodeHealth;
import io.cacheproxy.proxy.replication.PoolReplication;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedRetryMetrics;
import io.github.resilience4j.retry.RetryRegistry;
import io.cacheproxy.proxy.upstream.SentinelWatcher;
import io.cacheproxy.proxy.upstream.UpstreamSettings;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespRequestDecoder;
import io.cacheproxy.routing.CommandSpec;
import io.cacheproxy.routing.CommandTable;
import io.cacheproxy.routing.RouteTable;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running proxy: the RESP listener, its event loops, the backend pools, the health checker and
 * the admin HTTP endpoint. {@link #start} binds everything or fails; {@link #close} drains:
 * it stops accepting, waits (up to {@code server.shutdown-timeout}) for in-flight requests to be
 * answered, then closes every connection.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final ProxyConfig config;
    private final ProxyContext context;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final AdminServer admin;
    private final HealthChecker health;
    /** Control planes of sentinel and cluster pools, closed at shutdown. */
    private final List<AutoCloseable> watchers;
    private volatile boolean closed;

    private ProxyServer(ProxyConfig config, ProxyContext context, EventLoopGroup group, Channel serverChannel,
                        AdminServer admin, HealthChecker health, List<AutoCloseable> watchers) {
        this.config = config;
        this.context = context;
        this.group = group;
        this.serverChannel = serverChannel;
        this.admin = admin;
        this.health = health;
        this.watchers = List.copyOf(watchers);
    }

    /** Starts a proxy for {@code config}; throws if a port cannot be bound or a pool's nodes cannot be found. */
    public static ProxyServer start(ProxyConfig config) throws IOException, InterruptedException {
        return start(config, null);
    }

    /**
     * As {@link #start(ProxyConfig)}, for a config loaded from {@code configFile}, which
     * {@code POST /reload} (and {@code cacheproxy reload}) reads again; null when there is none.
     */
    public static ProxyServer start(ProxyConfig config, java.nio.file.Path configFile)
            throws IOException, InterruptedException {
        if (config.server().tls().enabled()) {
            throw new IllegalArgumentException("server.tls.enabled: true (TLS is not built yet; expected: false)");
        }
        for (PoolConfig pool : config.pools().values()) {
            if (pool.tls()) {
                throw new IllegalArgumentException("pools." + pool.name() + ".tls: true (TLS to backends is not built yet; expected: false)");
            }
        }
        Transport transport = Transport.choose(config.server().transport());
        int threads = config.server().ioThreads() == 0 ? Runtime.getRuntime().availableProcessors() : config.server().ioThreads();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("cacheproxy-io"),
                transport.ioHandlerFactory());
        CommandTable commandTable = CommandTable.standard();
        ProxyMetrics metrics = new ProxyMetrics(commandTable.all().stream().map(CommandSpec::name).toList());
        AdminServer admin = null;
        NearCache nearCache = null;
        List<AutoCloseable> watchers = new ArrayList<>();
        try {
            Map<String, BackendPool> pools = new LinkedHashMap<>();
            CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();
            RetryRegistry retries = RetryRegistry.ofDefaults();
            TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(metrics.registry());
            TaggedRetryMetrics.ofRetryRegistry(retries).bindTo(metrics.registry());
            for (PoolConfig pool : config.pools().values()) {
                BackendPool backendPool = buildPool(pool, watchers, breakers);
                metrics.registerPool(backendPool);     // a cluster pool's later masters too
                pools.put(pool.name(), backendPool);
            }
            List<RouteTable.Route<BackendPool>> routes = new ArrayList<>();
            for (RouteConfig route : config.routes()) {
                routes.add(new RouteTable.Route<>(route.prefix(), pools.get(route.pool())));
            }
            Map<String, String> users = new HashMap<>();
            for (UserConfig user : config.auth().users()) {
                users.put(user.name(), user.password());
            }
            var limits = config.server().limits();
            RespLimits requestLimits = new RespLimits(limits.maxBulk(), limits.maxArgs(), limits.maxInline(),
                    RespLimits.DEFAULTS.maxNestingDepth());
            // L1 holds keys of sharded and sentinel pools; a cluster pool's masters change under it.
            Map<BackendNode, BackendPool> cachedNodes = new java.util.IdentityHashMap<>();
            for (BackendPool pool : pools.values()) {
                if (pool.cluster() == null) {
                    pool.nodes().forEach(node -> cachedNodes.put(node, pool));
                }
            }
            nearCache = new NearCache(config.l1(), cachedNodes.keySet());
            nearCache.bindTo(metrics.registry());
            byte[] proxyId = java.util.UUID.randomUUID().toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            nearCache.startLinks(config.invalidation(), node -> cachedNodes.get(node).settings(), group.next(),
                    transport, proxyId);
            ProxyContext context = new ProxyContext(commandTable, RouteTable.of(routes), metrics, users,
                    requestLimits, limits.clientOutputBuffer(), config.server().maxClients(), transport,
                    nearCache, config.invalidation().broadcast().enabled() ? config.invalidation().broadcast().channel() : null,
                    proxyId);
            RefreshAhead.install(context);
            Map<BackendPool, PoolReplication> replications = new java.util.IdentityHashMap<>();
            for (PoolConfig poolConfig : config.pools().values()) {
                BackendPool pool = pools.get(poolConfig.name());
                if (poolConfig.type() != PoolType.SHARDED) {
                    continue;
                }
                // every sharded pool: its topology may change at run time, which moves keys as replication does
                PoolReplication replication = new PoolReplication(pool, retries);
                watchers.add(replication);
                replications.put(pool, replication);
                metrics.registerReplication(replication);
                for (BackendNode node : pool.nodes()) {
                    node.health().addListener(change -> dropFromL1(context, node, change));
                }
            }
            context.replications(replications);

            long idleSeconds = config.server().idleTimeout().toSeconds();
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (idleSeconds > 0) {
                                ch.pipeline().addLast(new IdleStateHandler(0, 0, idleSeconds, TimeUnit.SECONDS));
                            }
                            ch.pipeline().addLast(new RespRequestDecoder(requestLimits), new ClientHandler(context));
                        }
                    });
            HostAndPort listen = config.server().listen();
            Channel serverChannel = bootstrap.bind(listen.host(), listen.port()).sync().channel();
            HostAndPort adminListen = config.admin().listen();
            admin = AdminServer.start(new InetSocketAddress(adminListen.host(), adminListen.port()), context, configFile,
                    config.admin().token());

            EventLoop healthLoop = group.next();
            HealthChecker health = new HealthChecker(context.loop(healthLoop));
            Map<BackendPool, Duration> intervals = new HashMap<>();
            Map<BackendPool, Integer> failures = new HashMap<>();
            for (PoolConfig pool : config.pools().values()) {
                intervals.put(pools.get(pool.name()), pool.health().interval());
                failures.put(pools.get(pool.name()), pool.health().failuresToEject());
            }
            health.start(context.allNodes(), intervals, failures);
            replications.values().forEach(PoolReplication::start);
            context.topology(new RuntimeTopology(context, config, pools, replications, breakers, health, metrics));

            log.info("cacheproxy listening on {} ({}, {} event loop{}), admin on http://{}", serverChannel.localAddress(),
                    transport.name(), threads, threads == 1 ? "" : "s", admin.address());
            if (!io.netty.util.internal.PlatformDependent.hasUnsafe()) {
                log.warn("Netty runs without sun.misc.Unsafe ({}); expect about half the throughput. "
                        + "Start the JVM with -Dio.netty.noUnsafe=false (and --sun-misc-unsafe-memory-access=allow on Java 23+)",
                        io.netty.util.internal.PlatformDependent.getUnsafeUnavailabilityCause().getMessage());
            }
            return new ProxyServer(config, context, group, serverChannel, admin, health, watchers);
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (nearCache != null) {
                nearCache.close();
            }
            closeAll(watchers);
            if (admin != null) {
                admin.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            metrics.close();
            throw e;
        }
    }

    /**
     * The pool's nodes: the configured shards; for a sentinel pool one node at the master the
     * sentinels name, which a {@link SentinelWatcher} then moves; for a cluster pool the masters of
     * the slot map a {@link ClusterTopology} keeps. Control planes are added to {@code watchers}.
     */
    private static BackendPool buildPool(PoolConfig pool, List<AutoCloseable> watchers, CircuitBreakerRegistry breakers) {
        RespLimits replyLimits = new RespLimits(RespLimits.DEFAULTS.maxBulkLength(), RespLimits.DEFAULTS.maxArgs(),
                RespLimits.DEFAULTS.maxInlineLength(), 1024);
        boolean readFromReplicas = pool.type() == PoolType.CLUSTER && pool.replication().readFrom() != ReadFrom.PRIMARY;
        UpstreamSettings settings = new UpstreamSettings(pool.timeouts().connect(), pool.timeouts().command(),
                pool.password(), replyLimits, pool.blockingConnections(), readFromReplicas);
        if (pool.type() == PoolType.CLUSTER) {
            ClusterTopology topology = ClusterTopology.start(pool.name(), pool.nodes(), pool.timeouts().connect());
            watchers.add(topology);
            return new BackendPool(pool.name(), topology, settings, pool.adminCommands() == AdminCommands.PASS,
                    readFromReplicas, pool.replication().readFrom() == ReadFrom.ANY);
        }
        List<BackendNode> nodes = new ArrayList<>();
        if (pool.type() == PoolType.SENTINEL) {
            SentinelWatcher watcher = SentinelWatcher.create(pool.name(), pool.masterName(), pool.nodes(),
                    pool.timeouts().connect());
            watchers.add(watcher);
            HostAndPort master = watcher.master();
            BackendNode node = new BackendNode(pool.name(), master.host(), master.port());
            watcher.follow(node);
            nodes.add(node);
            return new BackendPool(pool.name(), nodes, pool.hashing().vnodes(), settings,
                    pool.adminCommands() == AdminCommands.PASS, watcher::replicas,
                    pool.replication().readFrom() != ReadFrom.PRIMARY, pool.replication().readFrom() == ReadFrom.ANY);
        }
        int factor = pool.replication().factor();
        for (HostAndPort address : pool.nodes()) {
            BackendNode node = new BackendNode(pool.name(), address.host(), address.port());
            node.health(new NodeHealth(node, breakers, pool.health().interval(), pool.health().failuresToEject(),
                    factor > 1));
            nodes.add(node);
        }
        return BackendPool.sharded(pool.name(), nodes, pool.hashing().vnodes(), settings,
                pool.adminCommands() == AdminCommands.PASS, factor, pool.replication().writeAck(),
                pool.replication().readFrom());
    }

    /** A node the keys' serving node changes away from: what L1 holds of it may miss its writes. */
    static void dropFromL1(ProxyContext context, BackendNode node, NodeHealth.Change change) {
        if (change == NodeHealth.Change.EJECTED || change == NodeHealth.Change.DISTRUSTED) {
            context.nearCache().dropNode(node);
        }
    }

    private static void closeAll(List<AutoCloseable> closeables) {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", c, e.toString());
            }
        }
    }

    /** Run-time changes to the sharded pools' nodes (what the admin API's /nodes and /reload call). */
    public TopologyChanges topology() {
        return context.topology();
    }

    /** The bound RESP address (the real port when the config said 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The bound admin HTTP address. */
    public InetSocketAddress adminAddress() {
        return admin.address();
    }

    public ProxyConfig config() {
        return config;
    }

    /** Graceful stop: no new clients, in-flight requests answered (bounded), then everything closed. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        context.beginShutdown();
        serverChannel.close().awaitUninterruptibly();
        long deadline = System.nanoTime() + config.server().shutdownTimeout().toNanos();
        while (System.nanoTime() - deadline < 0 && pendingRequests() > 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        health.stop();
        context.nearCache().close();
        for (LoopContext loop : context.loops()) {
            try {
                loop.loop().submit(loop::closeConnections).get(1, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("closing the backend connections of a loop: {}", e.toString());
            }
        }
        closeAll(watchers);
        admin.close();
        // Bounded: an event-loop thread that died (an Error escaping Netty) never completes its
        // termination future, and SIGTERM must still end the process.
        if (!group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS)) {
            log.warn("event loops did not stop within 5 s; stopping anyway");
        }
        context.metrics().close();
        log.info("cacheproxy stopped");
    }

    /** Requests read and not yet answered, over all event loops. */
    private long pendingRequests() {
        long total = 0;
        for (LoopContext loop : context.loops()) {
            try {
                total += loop.loop().submit(loop::pendingRequests).get(1, TimeUnit.SECONDS);
            } catch (Exception e) {
                return 0;
            }
        }
        return total;
    }
}
