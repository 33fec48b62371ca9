package io.cacheproxy.it;

import java.time.Duration;

/**
 * One Redis server owned by a test: started on a free loopback port, and controllable from the
 * outside the way real failures happen (a crash, a frozen process, a restart on the same port).
 *
 * <p>{@link #create()} picks the implementation: a {@code redis-server} from {@code PATH}
 * ({@link LocalRedisServer}) when there is one, else a {@code redis:7} container
 * ({@link ContainerRedisServer}) when a Docker engine is reachable, else it fails with an install
 * hint. The system property {@code it.redis=local|container} forces the choice. Integration tests
 * never skip for want of a server: a skipped test proves nothing.
 *
 * <p>Not thread-safe: the test thread that owns the fixture drives it.
 */
public interface RedisFixture extends AutoCloseable {

    /** Starts the server and returns once it answers {@code PING}. */
    void start();

    /** The address clients connect to; always a loopback address. */
    String host();

    /** The port clients connect to; the same across {@link #restart()}. */
    int port();

    /** {@code host:port}, as the proxy's config and its error replies spell the node. */
    default String address() {
        return host() + ":" + port();
    }

    /** Sends one command on a connection of its own and returns the reply as text (CRLFs kept). */
    default String call(String... args) {
        try (RawRedisClient client = RawRedisClient.connect(host(), port())) {
            return client.callString(args);
        }
    }

    /** How many times the server has run {@code command} (lower case), from INFO commandstats; 0 if never. */
    default long commandCalls(String command) {
        String prefix = "cmdstat_" + command + ":calls=";
        for (String line : call("INFO", "commandstats").split("\r\n")) {
            if (line.startsWith(prefix)) {
                return Long.parseLong(line.substring(prefix.length(), line.indexOf(',')));
            }
        }
        return 0;
    }

    /** Kills the server abruptly (SIGKILL): no reply, connections reset, nothing flushed. */
    void kill();

    /** Freezes the server (SIGSTOP): connections stay open and nothing answers. */
    void pause();

    /** Thaws a {@link #pause() paused} server (SIGCONT). */
    void resume();

    /** Starts the server again, empty, on the same port (killing it first if it still runs). */
    void restart();

    /** Whether the process runs and is not paused. */
    boolean isServing();

    /** Makes the server serve again after a test killed or paused it. */
    default void ensureServing() {
        if (!isServing()) {
            if (isPaused()) {
                resume();
            }
            if (!isServing()) {
                restart();
            }
        }
    }

    boolean isPaused();

    /** Stops the server and removes what it left behind; safe to call twice. */
    void stop();

    @Override
    default void close() {
        stop();
    }

    /** How long {@link #start()} and {@link #restart()} wait for the first {@code PONG}. */
    Duration START_TIMEOUT = Duration.ofSeconds(20);

    /** A new, not yet started server of the best kind this machine can run (see the class comment). */
    static RedisFixture create() {
        return choose(System.getProperty("it.redis", ""), LocalRedisServer.isAvailable(),
                ContainerRedisServer::isDockerAvailable);
    }

    /**
     * The choice behind {@link #create()}: {@code forced} is {@code local}, {@code container} or empty;
     * Docker is only probed (slow when absent) if there is no local {@code redis-server}.
     */
    static RedisFixture choose(String forced, boolean localAvailable, java.util.function.BooleanSupplier dockerAvailable) {
        if (forced.equals("container")) {
            return new ContainerRedisServer();
        }
        if (forced.equals("local") || localAvailable) {
            return new LocalRedisServer();
        }
        if (dockerAvailable.getAsBoolean()) {
            return new ContainerRedisServer();
        }
        throw new IllegalStateException("The integration tests need a Redis server, and none can be started here: "
                + "there is no executable 'redis-server' on PATH (" + System.getenv("PATH") + ") and no Docker engine "
                + "is reachable for the redis:7 image. Install Redis (e.g. 'apt-get install redis-server' or "
                + "'brew install redis') or start Docker, then run the tests again.");
    }
}
