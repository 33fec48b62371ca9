package io.cacheproxy.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProxyContextTest {
    @Test
    void shouldCompareRedisVersionsNumerically() {
        assertThat(ProxyContext.compareVersions("7.0.15", "7.2.4")).isNegative();
        assertThat(ProxyContext.compareVersions("7.10.0", "7.9.9")).isPositive();
        assertThat(ProxyContext.compareVersions("7.2", "7.2.0")).isZero();
        assertThat(ProxyContext.compareVersions("6.2.14", "7.0.0")).isNegative();
    }
}
