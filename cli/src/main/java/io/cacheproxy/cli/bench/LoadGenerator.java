package io.cacheproxy.cli.bench;

import io.cacheproxy.cli.bench.RunState.Phase;
import io.cacheproxy.proxy.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Runs one benchmark: connects {@code --clients} {@link BenchConnection}s spread round-robin over
 * {@code --threads} event loops, then drives the phases from the calling thread: prefill (optional),
 * warmup, the measured interval (a duration, or until {@code --requests} are answered), and closes
 * everything. The calling thread only sleeps in quarter-second ticks, checks for a failure, and redraws
 * the progress line; all I/O is on the event loops.
 *
 * <p>The load is closed-loop, like {@code redis-benchmark}'s: a connection sends a new request when a
 * reply comes in, so latencies are per request under that load, with no correction for coordinated
 * omission.
 */
final class LoadGenerator {

    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private final BenchPlan plan;
    private final List<? extends IntervalCounter> counters;
    private final ProgressLine progress;
    private final List<LoopStats> stats = new ArrayList<>();

    /** @param counters sampled right before and right after the measured interval */
    LoadGenerator(BenchPlan plan, List<? extends IntervalCounter> counters, ProgressLine progress) {
        this.plan = plan;
        this.counters = List.copyOf(counters);
        this.progress = progress;
    }

    Measurement run() throws BenchFailure, InterruptedException {
        Transport transport = transport(plan.transport());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(plan.threads(),
                new DefaultThreadFactory("bench-io", true), transport.ioHandlerFactory());
        RunState run = new RunState(plan.clients());
        List<Channel> channels = new ArrayList<>();
        try {
            List<BenchConnection> connections = connect(group, transport, run, channels);
            long prefillNanos = plan.prefill() ? prefill(run, connections, channels) : 0;
            long[] quotas = quotas(plan.countsRequests() ? plan.requests() : -1, plan.clients());
            if (!plan.warmup().isZero()) {
                run.enter(Phase.WARMUP);
                startLoad(connections, channels, quotas);
                long start = System.nanoTime();
                timed(run, "warmup", start, start + plan.warmup().toNanos());
            }
            for (IntervalCounter counter : counters) {
                counter.start();
            }
            long start = run.startMeasuring();
            if (plan.warmup().isZero()) {
                startLoad(connections, channels, quotas);
            }
            long end;
            if (plan.countsRequests()) {
                counted(run, start);
                end = run.lastFinishNanos();
            } else {
                end = start + plan.duration().toNanos();
                timed(run, "measure", start, end);
                end = System.nanoTime();
            }
            run.enter(Phase.DONE);
            progress.clear();
            for (IntervalCounter counter : counters) {
                counter.stop();
            }
            closeAll(run, channels);
            return merge(transport.name(), end - start, prefillNanos);
        } finally {
            progress.clear();
            closeAll(run, channels);
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    /**
     * {@code auto} is epoll where available, else NIO. Unlike the proxy's choice it skips io_uring: for
     * this client, with a write per reply batch, io_uring gave 25-50% less throughput than epoll at
     * pipeline 1 and 16 against the same redis-server, for about the same CPU per request.
     */
    static Transport transport(String preference) throws BenchFailure {
        try {
            return Transport.choose(preference.equals("auto") ? (Epoll.isAvailable() ? "epoll" : "nio") : preference);
        } catch (IllegalStateException e) {
            throw new BenchFailure("--transport " + preference + " is not available here");
        }
    }

    private List<BenchConnection> connect(EventLoopGroup group, Transport transport, RunState run,
            List<Channel> channels) throws BenchFailure {
        List<EventLoop> loops = new ArrayList<>();
        for (EventExecutor executor : group) {
            loops.add((EventLoop) executor);
            stats.add(new LoopStats());
        }
        KeyDistribution keys = plan.keyDistribution();
        RequestEncoder encoder = new RequestEncoder(plan.valueSize());
        SplittableRandom seeds = new SplittableRandom();
        InetSocketAddress address = new InetSocketAddress(plan.target().host(), plan.target().port());
        if (address.isUnresolved()) {
            throw new BenchFailure("--target " + plan.target() + ": unknown host");
        }
        Bootstrap bootstrap = new Bootstrap()
                .channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS);
        List<BenchConnection> connections = new ArrayList<>();
        List<ChannelFuture> futures = new ArrayList<>();
        for (int i = 0; i < plan.clients(); i++) {
            int loop = i % loops.size();
            BenchConnection connection = new BenchConnection(run, stats.get(loop), keys, encoder, plan.readRatio(),
                    plan.pipeline(), seeds.split());
            ChannelFuture future = bootstrap.clone(loops.get(loop)).handler(connection).connect(address);
            connections.add(connection);
            channels.add(future.channel());
            futures.add(future);
        }
        for (ChannelFuture future : futures) {
            if (!future.awaitUninterruptibly().isSuccess()) {
                Throwable cause = future.cause();
                throw new BenchFailure("cannot connect to " + plan.target() + ": "
                        + (cause.getMessage() == null ? cause.toString() : cause.getMessage()));
            }
        }
        return connections;
    }

    /** SETs every key once, split evenly over the connections; returns how long it took. */
    private long prefill(RunState run, List<BenchConnection> connections, List<Channel> channels)
            throws BenchFailure, InterruptedException {
        long start = System.nanoTime();
        int n = connections.size();
        for (int i = 0; i < n; i++) {
            BenchConnection connection = connections.get(i);
            int from = (int) ((long) plan.keys() * i / n);
            int to = (int) ((long) plan.keys() * (i + 1) / n);
            channels.get(i).eventLoop().execute(() -> connection.startPrefill(from, to));
        }
        while (!run.awaitPrefilled(TICK_NANOS, TimeUnit.NANOSECONDS)) {
            checkFailure(run);
            long done = replies();
            progress.show("prefill", (double) done / plan.keys(),
                    String.format("%,d/%,d keys", done, plan.keys()), done);
        }
        checkFailure(run);
        return System.nanoTime() - start;
    }

    private static void startLoad(List<BenchConnection> connections, List<Channel> channels, long[] quotas) {
        for (int i = 0; i < connections.size(); i++) {
            BenchConnection connection = connections.get(i);
            long quota = quotas[i];
            channels.get(i).eventLoop().execute(() -> connection.startLoad(quota));
        }
    }

    /** {@code requests} split over {@code clients} connections (-1, no limit, for each if negative). */
    static long[] quotas(long requests, int clients) {
        long[] quotas = new long[clients];
        for (int i = 0; i < clients; i++) {
            quotas[i] = requests < 0 ? -1 : requests / clients + (i < requests % clients ? 1 : 0);
        }
        return quotas;
    }

    private void timed(RunState run, String label, long start, long end) throws BenchFailure, InterruptedException {
        for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
            checkFailure(run);
            progress.show(label, (double) (now - start) / (end - start),
                    String.format("%.1fs/%.1fs", (now - start) / 1e9, (end - start) / 1e9), replies());
            TimeUnit.NANOSECONDS.sleep(Math.min(TICK_NANOS, end - now));
        }
        checkFailure(run);
    }

    private void counted(RunState run, long start) throws BenchFailure, InterruptedException {
        while (!run.awaitFinished(TICK_NANOS, TimeUnit.NANOSECONDS)) {
            checkFailure(run);
            long done = 0;
            for (LoopStats s : stats) {
                done += s.publishedMeasured();
            }
            progress.show("measure", (double) done / plan.requests(),
                    String.format("%,d/%,d requests  %.1fs", done, plan.requests(), (System.nanoTime() - start) / 1e9),
                    replies());
        }
        checkFailure(run);
    }

    private long replies() {
        long replies = 0;
        for (LoopStats s : stats) {
            replies += s.publishedReplies();
        }
        return replies;
    }

    private static void checkFailure(RunState run) throws BenchFailure {
        String failure = run.failure();
        if (failure != null) {
            throw new BenchFailure(failure);
        }
    }

    /** Closes every channel and waits, so the event loops have stopped touching the stats. */
    private static void closeAll(RunState run, List<Channel> channels) {
        run.enter(Phase.DONE);
        for (Channel channel : channels) {
            channel.close();
        }
        for (Channel channel : channels) {
            channel.closeFuture().awaitUninterruptibly();
        }
        // channelInactive runs in a task after the close future completes: wait for those too.
        channels.stream().filter(Channel::isRegistered).map(Channel::eventLoop).distinct()
                .map(loop -> loop.submit(() -> { })).toList()
                .forEach(Future::awaitUninterruptibly);
    }

    /** Sums the per-thread stats; call only after {@link #closeAll}. */
    private Measurement merge(String transport, long nanos, long prefillNanos) {
        Histogram reads = LoopStats.newHistogram();
        Histogram writes = LoopStats.newHistogram();
        long errors = 0;
        long hits = 0;
        long misses = 0;
        long prefillErrors = 0;
        String firstError = null;
        for (LoopStats s : stats) {
            reads.add(s.readNanos);
            writes.add(s.writeNanos);
            errors += s.errors;
            hits += s.hits;
            misses += s.misses;
            prefillErrors += s.prefillErrors;
            firstError = firstError != null ? firstError : s.firstError;
        }
        return new Measurement(transport, nanos, reads, writes, errors, hits, misses, firstError,
                plan.prefill() ? plan.keys() : 0, prefillNanos, prefillErrors);
    }
}
