package io.cacheproxy.it;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import java.time.Duration;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * A {@code redis:7} container (Testcontainers), for machines without {@code redis-server} but with a
 * Docker engine. Its port 6379 is published on 127.0.0.1 at a fixed free port chosen up front, so
 * that a restarted container is reachable at the same address as before, as the proxy's config
 * expects. Kill, pause and resume go through the Docker API to this container only.
 */
public final class ContainerRedisServer implements RedisFixture {
    private static final DockerImageName IMAGE = DockerImageName.parse("redis:7");
    private static final int REDIS_PORT = 6379;
    private static final String HOST = "127.0.0.1";

    private GenericContainer<?> container;
    private int port;
    private boolean paused;
    private boolean killed;

    /** Whether Testcontainers can reach a Docker engine (slow when there is none: call it last). */
    public static boolean isDockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    @Override
    public void start() {
        if (container != null) {
            throw new IllegalStateException("already started on port " + port);
        }
        port = FreePorts.find();
        int hostPort = port;
        GenericContainer<?> c = new GenericContainer<>(IMAGE)
                .withCommand("redis-server", "--save", "", "--appendonly", "no")
                .withExposedPorts(REDIS_PORT)
                .withCreateContainerCmdModifier(cmd -> {
                    PortBinding binding = new PortBinding(Ports.Binding.bindIpAndPort(HOST, hostPort),
                            ExposedPort.tcp(REDIS_PORT));
                    HostConfig hostConfig = cmd.getHostConfig() != null ? cmd.getHostConfig() : HostConfig.newHostConfig();
                    cmd.withHostConfig(hostConfig.withPortBindings(binding));
                })
                .waitingFor(Wait.forLogMessage(".*Ready to accept connections.*\\n", 1))
                .withStartupTimeout(Duration.ofMinutes(2));
        container = c;
        c.start();
        Ping.await(HOST, port, START_TIMEOUT, c::isRunning, c::getLogs);
    }

    private DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    private String id() {
        if (container == null) {
            throw new IllegalStateException("not started");
        }
        return container.getContainerId();
    }

    @Override
    public String host() {
        return HOST;
    }

    @Override
    public int port() {
        if (container == null) {
            throw new IllegalStateException("not started");
        }
        return port;
    }

    @Override
    public void kill() {
        docker().killContainerCmd(id()).withSignal("SIGKILL").exec();
        killed = true;
        paused = false;
    }

    @Override
    public void pause() {
        docker().pauseContainerCmd(id()).exec();
        paused = true;
    }

    @Override
    public void resume() {
        docker().unpauseContainerCmd(id()).exec();
        paused = false;
    }

    @Override
    public void restart() {
        String id = id();
        if (paused) {
            resume();
        }
        if (!killed) {
            kill();
        }
        docker().startContainerCmd(id).exec();
        killed = false;
        Ping.await(HOST, port, START_TIMEOUT, () -> true, container::getLogs);
    }

    @Override
    public boolean isServing() {
        return container != null && !killed && !paused && container.isRunning();
    }

    @Override
    public boolean isPaused() {
        return paused;
    }

    @Override
    public void stop() {
        if (container != null) {
            if (paused) {
                resume();
            }
            container.stop();
            container = null;
        }
    }

    @Override
    public String toString() {
        return "redis:7 container[127.0.0.1:" + port + "]";
    }
}
