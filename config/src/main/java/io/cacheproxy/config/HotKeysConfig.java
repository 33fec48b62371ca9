package io.cacheproxy.config;

/**
 * {@code l1.hot-keys}: which keys are hot enough to be held in L1.
 *
 * @param minReadsPerSecond {@code min-reads-per-second}: estimated reads per second (from a
 *                          frequency sketch) a key needs before L1 holds it; default 20; 0 = any
 *                          key read through the proxy may enter L1
 */
public record HotKeysConfig(int minReadsPerSecond) {

    private static final HotKeysConfig DEFAULTS = new HotKeysConfig(20);

    public HotKeysConfig {
        new Violations().require(minReadsPerSecond >= 0, "min-reads-per-second", minReadsPerSecond, ">= 0").throwIfAny();
    }

    /** 20 reads per second. */
    public static HotKeysConfig defaults() {
        return DEFAULTS;
    }
}
