package io.cacheproxy.proxy.upstream;

import io.cacheproxy.config.HostAndPort;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What a pool's control plane ({@link SentinelWatcher}, {@link ClusterTopology}) talks and waits
 * with: a Lettuce client on its own small resources (one IO and one computation thread) and one
 * daemon timer thread, all off the data path. {@link #close()} stops them.
 */
final class ControlPlane implements AutoCloseable {
    private final ClientResources resources;
    private final RedisClient client;
    private final ScheduledExecutorService timer;
    private final Duration timeout;

    /** @param threadName the timer thread's name; @param timeout for connecting and each command */
    ControlPlane(String threadName, Duration timeout) {
        this.timeout = timeout;
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1).build();
        this.client = RedisClient.create(resources);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    RedisClient client() {
        return client;
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    /** The address of a node to ask, with the pool's connect timeout. */
    RedisURI uri(HostAndPort node) {
        return RedisURI.Builder.redis(node.host(), node.port()).withTimeout(timeout).build();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
