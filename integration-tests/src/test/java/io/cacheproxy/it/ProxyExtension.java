package io.cacheproxy.it;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs an in-process proxy in front of one or more {@link RedisExtension} servers for a whole test
 * class; register it on a static field.
 *
 * <pre>{@code
 * @RegisterExtension static final RedisExtension redis = new RedisExtension();
 * @RegisterExtension static final ProxyExtension proxy =
 *         new ProxyExtension(() -> new ProxyYaml().pool("main", "admin-commands: pass", redis.fixture()), redis);
 * }</pre>
 *
 * <p>The backends are started first (whatever the registration order), then the config is built
 * (it needs their ports). The proxy is closed after the class, before or after the backends stop:
 * either order is harmless.
 */
public final class ProxyExtension implements BeforeAllCallback, AfterAllCallback {
    private final Supplier<Object> yaml;
    private final RedisExtension[] backends;
    private TestProxy proxy;

    /** {@code yaml} returns a {@link ProxyYaml} or a YAML string, evaluated once the backends run. */
    public ProxyExtension(Supplier<Object> yaml, RedisExtension... backends) {
        this.yaml = yaml;
        this.backends = backends.clone();
    }

    /** A proxy with one pool {@code main} over {@code backend}, with {@code poolOptions}. */
    public static ProxyExtension singlePool(RedisExtension backend, String poolOptions) {
        return new ProxyExtension(() -> new ProxyYaml().pool("main", poolOptions, backend.fixture()), backend);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        for (RedisExtension backend : backends) {
            backend.start();
        }
        proxy = TestProxy.start(yaml.get().toString());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (proxy != null) {
            try {
                proxy.close();
            } finally {
                proxy = null;
            }
        }
    }

    public TestProxy proxy() {
        if (proxy == null) {
            throw new IllegalStateException("ProxyExtension not started: register it with @RegisterExtension on a static field");
        }
        return proxy;
    }

    public int port() {
        return proxy().port();
    }

    public String host() {
        return proxy().host();
    }

    public RawRedisClient connect() {
        return proxy().connect();
    }
}
