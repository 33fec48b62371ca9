package io.cacheproxy.proxy.upstream;

import io.cacheproxy.proxy.LoopContext;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Probes every node every {@code health.interval} over a connection of its own (so a
 * probe never queues behind client traffic); a probe not answered within the interval (or the
 * command timeout, when shorter) has failed. A sharded pool's node is asked {@code INFO server}:
 * each outcome feeds its {@link NodeHealth} (ejection), and a changed {@code run_id} tells it the
 * node restarted (it may have come back empty); other nodes are sent PING. A node is marked down after
 * {@code health.failures-to-eject} failed probes in a row, or at once when a connect fails, and up
 * again at the first answered probe. {@code /ready} and {@code cacheproxy_backend_up} read the result.
 * A cluster pool's masters that appear after start ({@link ClusterTopology#onMaster}) are probed
 * from then on too.
 *
 * <p>Runs on one event loop; confined to it.
 */
public final class HealthChecker {
    private final LoopContext loop;
    private final List<Probe> probes = new ArrayList<>();
    private ScheduledFuture<?> timer;
    /** Each pool's {@code health.interval}. */
    private volatile Map<BackendPool, Duration> intervals = Map.of();
    private boolean stopped;

    private final class Probe {
        final BackendPool pool;
        final BackendNode node;
        final int failuresToEject;
        /** The command timeout, or the probe interval when shorter: a probe still unanswered when the next is due has failed. */
        final long timeoutNanos;
        final UpstreamConnection connection;
        int failuresInARow;
        boolean outstanding;

        Probe(BackendPool pool, BackendNode node, int failuresToEject, Duration interval) {
            this.pool = pool;
            this.node = node;
            this.failuresToEject = failuresToEject;
            this.timeoutNanos = Math.min(pool.settings().commandTimeout().toNanos(), interval.toNanos());
            this.connection = new UpstreamConnection(node, RespVersion.RESP2, pool.settings(), loop.flusher(),
                    loop.transport(), false);
        }

        void run() {
            if (outstanding) {
                return;
            }
            NodeHealth health = node.health();
            if (health != null && !health.probePermitted()) {
                return;     // ejected, and not yet for an interval
            }
            outstanding = true;
            ByteBuf ping = io.netty.buffer.Unpooled.buffer(32);
            if (health != null) {
                RespWriter.writeCommand(ping, "INFO", "server");      // its run_id tells a restart
            } else {
                RespWriter.writeCommand(ping, "PING");
            }
            connection.send(ping, new ReplySink() {
                private final long deadline = System.nanoTime() + timeoutNanos;

                @Override
                public void onReply(ByteBuf reply) {
                    boolean error = reply.getByte(reply.readerIndex()) == '-';
                    String text = error ? reply.toString(reply.readerIndex() + 1,
                            Math.min(reply.readableBytes() - 1, 200), StandardCharsets.UTF_8).strip() : null;
                    String runId = !error && health != null ? runId(reply) : null;
                    reply.release();
                    if (error) {
                        onFailure(text);        // LOADING, MASTERDOWN...: not serving yet
                        return;
                    }
                    outstanding = false;
                    failuresInARow = 0;
                    node.markUp();
                    if (health != null) {
                        health.probeAnswered(runId);
                    }
                }

                @Override
                public void onFailure(String error) {
                    outstanding = false;
                    if (++failuresInARow >= failuresToEject) {
                        node.markDown();
                    }
                    if (health != null) {
                        health.probeFailed("probe: " + error);
                    }
                }

                @Override
                public long deadlineNanos() {
                    return deadline;
                }
            });
        }
    }

    /** The {@code run_id} in an {@code INFO server} reply; null when there is none. */
    static String runId(ByteBuf reply) {
        String text = reply.toString(StandardCharsets.US_ASCII);
        int at = text.indexOf("run_id:");
        if (at < 0) {
            return null;
        }
        int end = text.indexOf('\r', at);
        return text.substring(at + "run_id:".length(), end < 0 ? text.length() : end).strip();
    }

    public HealthChecker(LoopContext loop) {
        this.loop = loop;
    }

    /**
     * Starts probing every node once per tick, the shortest {@code health.interval} of the pools;
     * {@code failuresToEject} gives each pool's {@code health.failures-to-eject}.
     */
    public void start(List<PoolNode> nodes, Map<BackendPool, Duration> intervals, Map<BackendPool, Integer> failuresToEject) {
        this.intervals = Map.copyOf(intervals);
        loop.loop().execute(() -> {
            long tickNanos = Long.MAX_VALUE;
            for (PoolNode node : nodes) {
                probe(node.pool(), node.node(), failuresToEject.get(node.pool()));
                tickNanos = Math.min(tickNanos, intervals.get(node.pool()).toNanos());
            }
            probes.forEach(Probe::run);
            timer = loop.loop().scheduleAtFixedRate(() -> probes.forEach(Probe::run), tickNanos, tickNanos,
                    TimeUnit.NANOSECONDS);
            for (BackendPool pool : intervals.keySet()) {
                if (pool.cluster() != null) {
                    int failures = failuresToEject.get(pool);
                    pool.cluster().onMaster(node -> loop.loop().execute(() -> probe(pool, node, failures)));
                }
            }
        });
    }

    /** Probes {@code node} from the next tick on, unless it is probed already or the checker has stopped. */
    private void probe(BackendPool pool, BackendNode node, int failuresToEject) {
        if (stopped) {
            return;
        }
        for (Probe probe : probes) {
            if (probe.node == node) {
                return;
            }
        }
        probes.add(new Probe(pool, node, failuresToEject, intervals.get(pool)));
    }

    /** Probes {@code node}, added to {@code pool} at run time, from the next tick on. Safe from any thread. */
    public void watch(BackendPool pool, BackendNode node, int failuresToEject) {
        loop.loop().execute(() -> probe(pool, node, failuresToEject));
    }

    /** Stops probing {@code node}, which left its pool, and closes its probe connection. Safe from any thread. */
    public void unwatch(BackendNode node) {
        loop.loop().execute(() -> probes.removeIf(p -> {
            if (p.node == node) {
                p.connection.close();
                return true;
            }
            return false;
        }));
    }

    public void stop() {
        loop.loop().execute(() -> {
            stopped = true;
            if (timer != null) {
                timer.cancel(false);
            }
            probes.forEach(p -> p.connection.close());
        });
    }
}
