package io.cacheproxy.proxy.l1;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HotKeySketchTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void shouldAdmitAKeyOnlyOnceItIsReadOftenEnough() {
        long now = 0;
        HotKeySketch sketch = new HotKeySketch(5, now);
        int estimate = 0;
        for (int i = 0; i < 4; i++) {
            estimate = sketch.recordRead(42, now);
        }
        assertThat(sketch.admits(42, estimate)).isFalse();
        estimate = sketch.recordRead(42, now);
        assertThat(sketch.admits(42, estimate)).isTrue();
        assertThat(sketch.readEstimate(4242)).as("a key never read").isZero();
    }

    @Test
    void shouldKeepOutAKeyInvalidatedMoreOftenThanItIsRead() {
        HotKeySketch sketch = new HotKeySketch(0, 0);
        for (int i = 0; i < 10; i++) {
            sketch.recordInvalidation(7);
        }
        int estimate = 0;
        for (int i = 0; i < 5; i++) {
            estimate = sketch.recordRead(7, 0);
        }
        assertThat(sketch.admits(7, estimate)).isFalse();
        for (int i = 0; i < 6; i++) {
            estimate = sketch.recordRead(7, 0);
        }
        assertThat(sketch.admits(7, estimate)).isTrue();
    }

    @Test
    void shouldForgetKeysThatAreNoLongerRead() {
        HotKeySketch sketch = new HotKeySketch(10, 0);
        for (int i = 0; i < 40; i++) {
            sketch.recordRead(99, 0);
        }
        assertThat(sketch.readEstimate(99)).isEqualTo(40);
        sketch.recordRead(1, SECOND);           // the first aging: halves
        sketch.recordRead(1, 2 * SECOND + 1);   // the second
        sketch.recordRead(1, 3 * SECOND + 2);   // the third
        assertThat(sketch.readEstimate(99)).isEqualTo(5);
        assertThat(sketch.admits(99, sketch.readEstimate(99))).isFalse();
    }

    @Test
    void shouldEstimateManyKeysWithoutUnderCounting() {
        HotKeySketch sketch = new HotKeySketch(1, 0);
        for (int k = 0; k < 5000; k++) {
            for (int i = 0; i < k % 7 + 1; i++) {
                sketch.recordRead(CacheKey.wrap(("key:" + k).getBytes()).hashCode(), 0);
            }
        }
        int over = 0;
        for (int k = 0; k < 5000; k++) {
            int estimate = sketch.readEstimate(CacheKey.wrap(("key:" + k).getBytes()).hashCode());
            assertThat(estimate).isGreaterThanOrEqualTo(k % 7 + 1);
            over += estimate > k % 7 + 1 ? 1 : 0;
        }
        assertThat(over).as("keys over-counted (collisions)").isLessThan(250);
    }

    /** A million-key space: cold keys sharing counters with hot ones must not look hot. */
    @Test
    void shouldNotMakeColdKeysLookHotInALargeKeySpace() {
        HotKeySketch sketch = new HotKeySketch(20, 0);
        for (int round = 0; round < 30; round++) {
            for (int hot = 0; hot < 1000; hot++) {
                sketch.recordRead(CacheKey.wrap(("hot:" + hot).getBytes()).hashCode(), 0);
            }
        }
        int admitted = 0;
        for (int cold = 0; cold < 300_000; cold++) {
            int hash = CacheKey.wrap(("cold:" + cold).getBytes()).hashCode();
            if (sketch.admits(hash, sketch.recordRead(hash, 0))) {
                admitted++;
            }
        }
        assertThat(admitted).as("keys read once admitted at 20 reads/s").isLessThan(300);
        assertThat(sketch.readEstimate(CacheKey.wrap("hot:7".getBytes()).hashCode())).isGreaterThanOrEqualTo(30);
    }
}
