package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.Jedis;

/**
 * Three local redis-server nodes behind a proxy with one sharded pool, {@code replication.factor: 2}
 * and L1 on for every key read ({@code min-reads-per-second: 0}): the setup for tests that need
 * every kind of meter to exist. {@link #warmUp} sends the traffic that creates them.
 */
final class ReplicatedPoolFixture implements AutoCloseable {
    private final List<LocalRedisServer> nodes = new ArrayList<>();
    private final TestProxy proxy;

    ReplicatedPoolFixture() {
        for (int i = 0; i < 3; i++) {
            LocalRedisServer node = new LocalRedisServer();
            node.start();
            nodes.add(node);
        }
        proxy = TestProxy.start(new ProxyYaml()
                .pool("main", "replication: {factor: 2}", nodes.toArray(RedisFixture[]::new))
                .section("l1:\n  enabled: true\n  hot-keys: {min-reads-per-second: 0}\n"));
    }

    TestProxy proxy() {
        return proxy;
    }

    /** 100 SETs and GETs of keys under {@code prefix}, and reads of one hot key, through the proxy. */
    void warmUp(String prefix) {
        try (Jedis jedis = new Jedis(proxy.host(), proxy.port())) {
            for (int i = 0; i < 100; i++) {
                jedis.set(prefix + i, "v" + i);
                assertThat(jedis.get(prefix + i)).isEqualTo("v" + i);
                jedis.get(prefix + "hot");
            }
        }
    }

    @Override
    public void close() {
        proxy.close();
        nodes.forEach(LocalRedisServer::stop);
    }
}
