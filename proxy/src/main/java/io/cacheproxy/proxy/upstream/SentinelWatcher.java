package io.cacheproxy.proxy.upstream;

import io.cacheproxy.config.HostAndPort;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane of a {@code type: sentinel} pool: asks the pool's sentinels where the master of
 * {@code master-name} is, and moves the pool's node ({@link BackendNode#moveTo}) when they name a
 * new one. Two ways in, so a lost message cannot strand the pool: a subscription to
 * {@code +switch-master} on every sentinel (Lettuce resubscribes after a reconnect), and a poll of
 * {@code SENTINEL GET-MASTER-ADDR-BY-NAME} every {@link #POLL_INTERVAL}.
 *
 * <p>Lettuce does the sentinel protocol (it is our control-plane client, shared/DESIGN.md); its
 * threads and one timer thread are all this adds, and none of them touches the data path.
 * Thread-safe.
 */
public final class SentinelWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SentinelWatcher.class);
    static final Duration POLL_INTERVAL = Duration.ofSeconds(1);
    private static final String SWITCH_MASTER = "+switch-master";

    private final String pool;
    private final String masterName;
    private final List<HostAndPort> sentinels;
    private final ControlPlane plane;
    /** One query connection per sentinel, opened on demand and dropped when it fails. Guarded by this. */
    private final List<StatefulRedisSentinelConnection<String, String>> queries = new ArrayList<>();
    private final List<StatefulRedisPubSubConnection<String, String>> subscriptions = new ArrayList<>();
    private volatile BackendNode node;
    /** The master's replicas the sentinels consider up, as of the last answer. */
    private volatile List<BackendNode> replicas = List.of();
    private final ConcurrentHashMap<String, BackendNode> replicaNodes = new ConcurrentHashMap<>();

    private SentinelWatcher(String pool, String masterName, List<HostAndPort> sentinels, Duration timeout) {
        this.pool = pool;
        this.masterName = masterName;
        this.sentinels = List.copyOf(sentinels);
        this.plane = new ControlPlane("cacheproxy-sentinel-" + pool, timeout);
        for (int i = 0; i < this.sentinels.size(); i++) {
            queries.add(null);
        }
    }

    /** A watcher for pool {@code pool}; it talks to no sentinel before {@link #master()}. */
    public static SentinelWatcher create(String pool, String masterName, List<HostAndPort> sentinels, Duration timeout) {
        return new SentinelWatcher(pool, masterName, sentinels, timeout);
    }

    /**
     * The master's address as the first sentinel that answers names it now. Fails, with every
     * sentinel's answer, when none of them knows {@code master-name}.
     */
    public HostAndPort master() {
        return askSentinels(true);
    }

    /** Moves {@code node} whenever the sentinels name a new master, until {@link #close()}. */
    public void follow(BackendNode node) {
        this.node = node;
        for (HostAndPort sentinel : sentinels) {
            try {
                StatefulRedisPubSubConnection<String, String> subscription = plane.client().connectPubSub(plane.uri(sentinel));
                subscription.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String channel, String message) {
                        onSwitchMaster(message);
                    }
                });
                subscription.sync().subscribe(SWITCH_MASTER);
                synchronized (this) {
                    subscriptions.add(subscription);
                }
            } catch (RuntimeException e) {
                // the poll still covers this sentinel's pool; say so once
                log.warn("pool {}: cannot subscribe to {} on sentinel {}: {}", pool, SWITCH_MASTER,
                        sentinel, e.toString());
            }
        }
        long period = POLL_INTERVAL.toMillis();
        plane.timer().scheduleWithFixedDelay(this::poll, period, period, TimeUnit.MILLISECONDS);
    }

    /** {@code <master name> <old ip> <old port> <new ip> <new port>} */
    void onSwitchMaster(String message) {
        String[] parts = message.trim().split(" ");
        if (parts.length == 5 && parts[0].equals(masterName)) {
            try {
                moveTo(new HostAndPort(parts[3], Integer.parseInt(parts[4])), "+switch-master");
            } catch (RuntimeException e) {
                log.warn("pool {}: ignoring a malformed {} message '{}': {}", pool, SWITCH_MASTER, message, e.toString());
            }
        }
    }

    private void poll() {
        try {
            HostAndPort master = askSentinels(false);
            if (master != null) {
                moveTo(master, "a sentinel poll");
            }
        } catch (RuntimeException e) {
            log.debug("pool {}: sentinel poll failed: {}", pool, e.toString());
        }
    }

    private void moveTo(HostAndPort master, String source) {
        BackendNode target = node;
        if (target == null) {
            return;
        }
        String was = target.name();
        if (target.moveTo(master.host(), master.port())) {
            log.warn("pool {}: the sentinels name a new master for '{}': {} (was {}; from {})",
                    pool, masterName, target.name(), was, source);
        }
    }

    /**
     * Asks the sentinels in order and returns the first answer. With {@code required}, throws when
     * none answers; otherwise returns null.
     */
    private synchronized HostAndPort askSentinels(boolean required) {
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < sentinels.size(); i++) {
            HostAndPort sentinel = sentinels.get(i);
            try {
                StatefulRedisSentinelConnection<String, String> query = queries.get(i);
                if (query == null || !query.isOpen()) {
                    query = plane.client().connectSentinel(plane.uri(sentinel));
                    queries.set(i, query);
                }
                SocketAddress address = query.sync().getMasterAddrByName(masterName);
                if (address instanceof InetSocketAddress inet) {
                    replicas = upReplicas(query.sync().replicas(masterName));
                    return new HostAndPort(inet.getHostString(), inet.getPort());
                }
                answers.add(sentinel + ": does not know master '" + masterName + "'");
            } catch (RuntimeException e) {
                answers.add(sentinel + ": " + e.getMessage());
                StatefulRedisSentinelConnection<String, String> broken = queries.set(i, null);
                if (broken != null) {
                    broken.closeAsync();
                }
            }
        }
        if (required) {
            throw new IllegalStateException("pools." + pool + ": no sentinel names the master '" + masterName
                    + "': " + String.join("; ", answers));
        }
        return null;
    }

    /** The master's replicas the sentinels consider up ({@code read-from: replica|any} reads go there). */
    public List<BackendNode> replicas() {
        return replicas;
    }

    /** From SENTINEL REPLICAS: those without a down or disconnected flag, one node object per address. */
    private List<BackendNode> upReplicas(List<Map<String, String>> entries) {
        List<BackendNode> up = new ArrayList<>();
        for (Map<String, String> entry : entries) {
            String flags = entry.getOrDefault("flags", "");
            String ip = entry.get("ip");
            String port = entry.get("port");
            if (ip == null || port == null || flags.contains("s_down") || flags.contains("o_down")
                    || flags.contains("disconnected")) {
                continue;
            }
            try {
                int p = Integer.parseInt(port);
                up.add(replicaNodes.computeIfAbsent(ip + ":" + p, a -> new BackendNode(pool, ip, p)));
            } catch (NumberFormatException e) {
                // a malformed entry names no usable replica
            }
        }
        return List.copyOf(up);
    }

    @Override
    public void close() {
        synchronized (this) {
            for (StatefulRedisPubSubConnection<String, String> s : subscriptions) {
                s.close();
            }
            subscriptions.clear();
            for (int i = 0; i < queries.size(); i++) {
                StatefulRedisSentinelConnection<String, String> q = queries.set(i, null);
                if (q != null) {
                    q.close();
                }
            }
        }
        plane.close();
    }
}
