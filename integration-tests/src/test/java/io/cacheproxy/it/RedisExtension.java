package io.cacheproxy.it;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Owns one Redis server's lifetime for a test class.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RedisExtension redis = new RedisExtension();
 * }</pre>
 *
 * <p>Registered on a static field, the server starts before the class's first test and stops after
 * its last, whether the tests passed or not; on an instance field, it lives for one test. Before
 * each test a server that an earlier test killed or paused is brought back (on the same port, and
 * empty after a kill), so one test's fault injection never leaks into the next.
 *
 * <p>{@link ProxyExtension} calls {@link #start()} itself, so the two may be registered in any order.
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback {

    private RedisFixture fixture;
    private boolean classScoped;

    /** Starts the server unless it already runs; idempotent. */
    public synchronized RedisFixture start() {
        if (fixture == null) {
            RedisFixture f = RedisFixture.create();
            f.start();
            fixture = f;
        }
        return fixture;
    }

    /** The running server; fails when the extension has not started it. */
    public synchronized RedisFixture fixture() {
        if (fixture == null) {
            throw new IllegalStateException("RedisExtension not started: register it with @RegisterExtension");
        }
        return fixture;
    }

    public int port() {
        return fixture().port();
    }

    public String host() {
        return fixture().host();
    }

    public String address() {
        return fixture().address();
    }

    /** A raw connection straight to this server, bypassing any proxy. */
    public RawRedisClient connect() {
        return RawRedisClient.connect(host(), port());
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        classScoped = true;
        start();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        start().ensureServing();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!classScoped) {
            stop();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    private synchronized void stop() {
        if (fixture != null) {
            try {
                fixture.stop();
            } finally {
                fixture = null;
            }
        }
    }
}
