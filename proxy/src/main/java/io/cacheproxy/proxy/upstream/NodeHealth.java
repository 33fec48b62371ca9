package io.cacheproxy.proxy.upstream;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the proxy trusts a node of a sharded pool with: <em>live</em> (it takes writes) and
 * <em>trusted</em> (it also serves reads). Shared by every event loop; safe from any thread.
 *
 * <p><b>Live</b> is a Resilience4j circuit breaker, named {@code pool/node}. Health probes record
 * their outcome; traffic records only its failures (a connection lost or refused, and each
 * replicated read or write that failed or passed its deadline), so that the data path does not pay
 * for the bookkeeping of every success.
 * {@code failures-to-eject} failures with no answered probe between them open the breaker: the node
 * is <em>ejected</em>, and its keys are served by their next replica. Once open for one probe
 * interval, the next probe is the half-open trial: answered, the breaker closes and the node is
 * live again.
 *
 * <p><b>Trusted</b> is lost whenever the node may have missed a write or lost its data: it was
 * ejected, a write to it failed (a write that could not be sent fails too), or it restarted (its
 * {@code run_id} changed). A connection that merely dropped (a server-side idle timeout, a
 * {@code CLIENT KILL}) costs no trust: the writes it carried fail, and those do. A
 * node that is live but not trusted still receives every write, so that it converges, but serves no
 * read until a repair ({@code io.cacheproxy.proxy.replication}) has copied its keys from their
 * trusted replicas; the repair then calls {@link #trust(int)} with the {@link #distrustEpoch()} it
 * started at, so a node that failed again meanwhile stays untrusted.
 */
public final class NodeHealth {
    private static final Logger log = LoggerFactory.getLogger(NodeHealth.class);

    /** What a listener is told. */
    public enum Change { EJECTED, LIVE, DISTRUSTED, TRUSTED }

    private final BackendNode node;
    private final CircuitBreaker breaker;
    /** False in a pool whose keys have one node each: no other replica can serve or repair them. */
    private final boolean replicated;
    private final AtomicInteger distrustEpoch = new AtomicInteger();
    private volatile boolean trusted = true;
    private final AtomicInteger ejections = new AtomicInteger();
    /** The node's {@code run_id} as the last answered probe gave it; null before the first. */
    private volatile String runId;
    private final List<Consumer<Change>> listeners = new CopyOnWriteArrayList<>();

    /** A failure recorded on the breaker; the breaker keeps no stack traces of it. */
    private static final class NodeFailure extends RuntimeException {
        NodeFailure(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * @param breakers        where the breaker is registered (its meters are bound there)
     * @param interval        {@code health.interval}: how long the breaker stays open before a probe may try
     * @param failuresToEject {@code health.failures-to-eject}
     */
    public NodeHealth(BackendNode node, CircuitBreakerRegistry breakers, Duration interval, int failuresToEject) {
        this(node, breakers, interval, failuresToEject, true);
    }

    /**
     * With {@code replicated} false (a pool with {@code replication.factor: 1}), the breaker is kept
     * for its meters, but the node always counts as live and trusted: its keys have nowhere else to go.
     */
    public NodeHealth(BackendNode node, CircuitBreakerRegistry breakers, Duration interval, int failuresToEject,
                      boolean replicated) {
        this.node = node;
        this.replicated = replicated;
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(failuresToEject)
                .minimumNumberOfCalls(failuresToEject)
                .failureRateThreshold(100)
                .waitDurationInOpenState(interval)
                .permittedNumberOfCallsInHalfOpenState(1)
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .maxWaitDurationInHalfOpenState(interval.multipliedBy(20))
                .writableStackTraceEnabled(false)
                .build();
        this.breaker = breakers.circuitBreaker(node.pool() + "/" + node.name(), config);
        breaker.getEventPublisher().onStateTransition(event -> {
            switch (event.getStateTransition().getToState()) {
                case OPEN, FORCED_OPEN -> {
                    if (event.getStateTransition().getFromState() == CircuitBreaker.State.CLOSED) {
                        ejections.incrementAndGet();
                        if (replicated) {
                            log.warn("pool {}, node {}: ejected after {} failures; its keys are served by their next replica",
                                    node.pool(), node.name(), failuresToEject);
                        } else {
                            log.warn("pool {}, node {}: circuit open after {} failures", node.pool(), node.name(),
                                    failuresToEject);
                        }
                        distrust("ejected");
                        tell(Change.EJECTED);
                    }
                }
                case CLOSED -> {
                    if (replicated) {
                        log.info("pool {}, node {}: answering again; it takes writes, and serves reads once repaired",
                                node.pool(), node.name());
                    } else {
                        log.info("pool {}, node {}: circuit closed, answering again", node.pool(), node.name());
                    }
                    tell(Change.LIVE);
                }
                default -> { }
            }
        });
    }

    public BackendNode node() {
        return node;
    }

    /** Adds a listener; changes are told on the thread that made them. */
    public void addListener(Consumer<Change> listener) {
        listeners.add(listener);
    }

    private void tell(Change change) {
        for (Consumer<Change> l : listeners) {
            l.accept(change);
        }
    }

    /** Takes writes: the breaker is closed. */
    public boolean isLive() {
        return !replicated || breaker.getState() == CircuitBreaker.State.CLOSED;
    }

    /** Takes writes and serves reads. */
    public boolean isTrusted() {
        return trusted && isLive();
    }

    /** Live but not trusted: waiting for, or under, repair. */
    public boolean needsRepair() {
        return !trusted && isLive();
    }

    /** Whether the breaker is open now (the node is ejected, or for an unreplicated node failing). */
    public boolean circuitOpen() {
        return breaker.getState() != CircuitBreaker.State.CLOSED;
    }

    /** Times the node was ejected since start. */
    public int ejections() {
        return ejections.get();
    }

    /** Bumped each time the node loses trust. */
    public int distrustEpoch() {
        return distrustEpoch.get();
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    /** A connection or a command to the node failed ({@code why} is logged when it costs trust). */
    public void failed(String why) {
        breaker.onError(0, TimeUnit.NANOSECONDS, new NodeFailure(why));
    }

    /**
     * Whether a probe may go out now: always while the breaker is closed; once it has been open for
     * an interval, one probe (the half-open trial).
     */
    public boolean probePermitted() {
        return breaker.getState() == CircuitBreaker.State.CLOSED || breaker.tryAcquirePermission() || !replicated;
    }

    /**
     * A probe was answered; {@code runId} is the node's {@code run_id} (null if unknown). A run_id
     * other than the last one seen means the node restarted: it may have come back empty.
     */
    public void probeAnswered(String runId) {
        if (runId != null) {
            String last = this.runId;
            this.runId = runId;
            if (last != null && !last.equals(runId)) {
                distrust("it restarted (run_id " + last + " is now " + runId + ")");
            }
        }
        breaker.onSuccess(0, TimeUnit.NANOSECONDS);
    }

    public void probeFailed(String why) {
        failed(why);
    }

    /** The node may have missed a write or lost its data: no reads until it is repaired. */
    public void distrust(String why) {
        if (trusted && replicated) {
            synchronized (this) {
                if (!trusted) {
                    return;
                }
                trusted = false;
                distrustEpoch.incrementAndGet();
            }
            log.warn("pool {}, node {}: not trusted for reads until repaired ({})", node.pool(), node.name(), why);
            tell(Change.DISTRUSTED);
        }
    }

    /**
     * A repair that began at {@code epoch} finished: trusted again unless the node lost trust since
     * or is not live. Returns whether it is trusted now.
     */
    public boolean trust(int epoch) {
        synchronized (this) {
            if (trusted || distrustEpoch.get() != epoch || !isLive()) {
                return trusted;
            }
            trusted = true;
        }
        log.info("pool {}, node {}: repaired; serving reads again", node.pool(), node.name());
        tell(Change.TRUSTED);
        return true;
    }

    /**
     * For {@code /status}: {@code trusted}, {@code repairing} or {@code ejected}; for a node of an
     * unreplicated pool, {@code trusted} or {@code failing} (its circuit is open).
     */
    public String state() {
        if (circuitOpen()) {
            return replicated ? "ejected" : "failing";
        }
        return trusted ? "trusted" : "repairing";
    }
}
