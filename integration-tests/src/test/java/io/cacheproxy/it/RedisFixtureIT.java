package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fixture does what the fault-injection tests rely on: kill, pause, resume, restart on the same port. */
@Timeout(60)
class RedisFixtureIT {

    @Test
    void shouldKillPauseResumeAndRestartOnTheSamePort() {
        RedisFixture redis = RedisFixture.create();
        try (redis) {
            redis.start();
            int port = redis.port();
            assertThat(redis.host()).isEqualTo("127.0.0.1");
            assertThat(redis.isServing()).isTrue();
            try (RawRedisClient client = RawRedisClient.connect(redis.host(), port)) {
                assertThat(client.callString("SET", "k", "v")).isEqualTo("+OK\r\n");
            }

            redis.pause();
            assertThat(redis.isPaused()).isTrue();
            assertThat(Ping.once(redis.host(), port, Duration.ofMillis(300))).as("no answer while paused").isFalse();
            redis.resume();
            assertThat(Ping.once(redis.host(), port, Duration.ofSeconds(2))).as("answers after resume").isTrue();
            try (RawRedisClient client = RawRedisClient.connect(redis.host(), port)) {
                assertThat(client.callString("GET", "k")).as("data kept across pause").isEqualTo("$1\r\nv\r\n");
            }

            RawRedisClient open = RawRedisClient.connect(redis.host(), port);
            redis.kill();
            assertThat(redis.isServing()).isFalse();
            assertThat(Ping.once(redis.host(), port, Duration.ofMillis(300))).as("no answer after kill").isFalse();
            assertThatThrownBy(() -> open.call("PING")).isInstanceOf(UncheckedIOException.class);
            open.close();

            redis.restart();
            assertThat(redis.port()).isEqualTo(port);
            try (RawRedisClient client = RawRedisClient.connect(redis.host(), port)) {
                assertThat(client.callString("GET", "k")).as("empty after a restart").isEqualTo("$-1\r\n");
            }

            redis.pause();
            redis.ensureServing();
            assertThat(Ping.once(redis.host(), port, Duration.ofSeconds(2))).isTrue();
            redis.kill();
            redis.ensureServing();
            assertThat(Ping.once(redis.host(), port, Duration.ofSeconds(2))).isTrue();
        }
        assertThat(Ping.once("127.0.0.1", redis.port(), Duration.ofMillis(300))).as("stopped").isFalse();
    }

    @Test
    void shouldChooseLocalServerThenDockerThenFailWithAnInstallHint() {
        AtomicBoolean dockerProbed = new AtomicBoolean();
        assertThat(RedisFixture.choose("", true, () -> dockerProbed.getAndSet(true))).isInstanceOf(LocalRedisServer.class);
        assertThat(dockerProbed).as("Docker not probed when redis-server is on PATH").isFalse();
        assertThat(RedisFixture.choose("", false, () -> true)).isInstanceOf(ContainerRedisServer.class);
        assertThat(RedisFixture.choose("container", true, () -> false)).isInstanceOf(ContainerRedisServer.class);
        assertThatThrownBy(() -> RedisFixture.choose("", false, () -> false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("redis-server")
                .hasMessageContaining("Docker")
                .hasMessageContaining("Install Redis");
    }
}
