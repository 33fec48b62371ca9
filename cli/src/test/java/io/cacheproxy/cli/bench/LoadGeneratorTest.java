package io.cacheproxy.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LoadGeneratorTest {

    @Test
    void shouldSplitRequestsEvenlyOverConnections() {
        assertThat(LoadGenerator.quotas(10, 4)).containsExactly(3, 3, 2, 2);
        assertThat(LoadGenerator.quotas(2, 3)).containsExactly(1, 1, 0);
        assertThat(LoadGenerator.quotas(-1, 2)).containsExactly(-1, -1);
    }
}
