package io.cacheproxy.proxy.l1;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.config.HotKeysConfig;
import io.cacheproxy.config.L1Config;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.resp.RespVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NearCacheTest {
    private static final int GET = 7;
    private static final byte[] NO_ARGS = new byte[0];
    private final BackendNode node = new BackendNode("main", "127.0.0.1", 7001);
    private final BackendNode other = new BackendNode("main", "127.0.0.1", 7002);
    private final NearCache cache = new NearCache(config(1 << 20), List.of(node, other));
    private final TrackedNode tracked = cache.tracked(node);

    private static L1Config config(long maxMemory) {
        return new L1Config(true, maxMemory, Duration.ofSeconds(30), new HotKeysConfig(0));
    }

    private static CacheKey key(String k) {
        return CacheKey.wrap(k.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] bulk(String v) {
        return ("$" + v.length() + "\r\n" + v + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    private NearCache.FillTicket ticket(String k, long now) {
        return cache.startFill(key(k), tracked, GET, RespVersion.RESP2, NO_ARGS, now);
    }

    private byte[] get(String k, long now) {
        return cache.get(key(k), GET, RespVersion.RESP2, NO_ARGS, now);
    }

    @Test
    void shouldServeAFilledReplyUntilTheKeyIsInvalidated() {
        long now = System.nanoTime();
        assertThat(cache.finishFill(ticket("k", now), bulk("v1"), -1)).isTrue();
        assertThat(get("k", now)).isEqualTo(bulk("v1"));
        cache.invalidate(key("k"), NearCache.Source.TRACKING);
        assertThat(get("k", now)).isNull();
        assertThat(cache.hits()).isEqualTo(1);
        assertThat(cache.misses()).isEqualTo(1);
        assertThat(cache.invalidations(NearCache.Source.TRACKING)).isEqualTo(1);
    }

    /**
     * The fill race (Lettuce issue #3481): the read is sent, a write's invalidation arrives, then the
     * read's reply (the old value) arrives. The reply must not be cached.
     */
    @Test
    void shouldNotCacheAReplyThatLostARaceWithAnInvalidation() {
        long now = System.nanoTime();
        NearCache.FillTicket ticket = ticket("k", now);
        cache.invalidate(key("k"), NearCache.Source.TRACKING);
        assertThat(cache.finishFill(ticket, bulk("old"), -1)).isFalse();
        assertThat(get("k", now)).isNull();
        // the next fill, taken after the invalidation, is cached
        assertThat(cache.finishFill(ticket("k", now), bulk("new"), -1)).isTrue();
        assertThat(get("k", now)).isEqualTo(bulk("new"));
    }

    @Test
    void shouldNotCacheAFillWhoseWriteBeganOrEndedInBetween() {
        long now = System.nanoTime();
        NearCache.FillTicket ticket = ticket("k", now);
        cache.invalidateUncounted(key("k"));         // a write through this proxy is forwarded
        assertThat(cache.finishFill(ticket, bulk("old"), -1)).isFalse();
        NearCache.FillTicket during = ticket("k", now);
        cache.invalidate(key("k"), NearCache.Source.WRITE);   // its reply arrives
        assertThat(cache.finishFill(during, bulk("old"), -1)).isFalse();
        assertThat(get("k", now)).isNull();
    }

    @Test
    void shouldNotCacheAFillThatOverlappedAFlushOrTheLossOfItsNodesLink() {
        long now = System.nanoTime();
        NearCache.FillTicket beforeFlush = ticket("a", now);
        cache.invalidateAll(NearCache.Source.FLUSH);
        assertThat(cache.finishFill(beforeFlush, bulk("old"), -1)).isFalse();

        NearCache.FillTicket beforeDrop = ticket("b", now);
        cache.dropNode(tracked);
        assertThat(cache.finishFill(beforeDrop, bulk("old"), -1)).isFalse();
        assertThat(get("a", now)).isNull();
        assertThat(get("b", now)).isNull();
    }

    @Test
    void shouldDropOnlyTheLostNodesEntries() {
        long now = System.nanoTime();
        cache.finishFill(ticket("mine", now), bulk("1"), -1);
        TrackedNode second = cache.tracked(other);
        cache.finishFill(cache.startFill(key("theirs"), second, GET, RespVersion.RESP2, NO_ARGS, now), bulk("2"), -1);
        cache.dropNode(tracked);
        assertThat(get("mine", now)).isNull();
        assertThat(get("theirs", now)).isEqualTo(bulk("2"));
    }

    @Test
    void shouldNotServeAnEntryPastTheKeysTtlInRedisNorPastMaxTtl() {
        long now = System.nanoTime();
        cache.finishFill(ticket("short", now), bulk("v"), 50);
        assertThat(get("short", now + TimeUnit.MILLISECONDS.toNanos(49))).isEqualTo(bulk("v"));
        assertThat(get("short", now + TimeUnit.MILLISECONDS.toNanos(50))).isNull();

        cache.finishFill(ticket("long", now), bulk("v"), TimeUnit.HOURS.toMillis(1));
        assertThat(get("long", now + TimeUnit.SECONDS.toNanos(29))).isEqualTo(bulk("v"));
        assertThat(get("long", now + TimeUnit.SECONDS.toNanos(30))).isNull();

        assertThat(cache.finishFill(ticket("expiring", now), bulk("v"), 0)).as("PTTL 0: already expiring").isFalse();

        // the key expired between the read (a value) and its PTTL (no key): not kept
        assertThat(cache.finishFill(ticket("gone", now), bulk("v"), -2)).isFalse();
        assertThat(get("gone", now)).isNull();
        // a read of a key that does not exist, and PTTL agreeing: kept (hot missing keys stay hits)
        assertThat(cache.finishFill(ticket("missing", now), "$-1\r\n".getBytes(StandardCharsets.US_ASCII), -2)).isTrue();
        assertThat(get("missing", now)).isEqualTo("$-1\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void shouldKeepRepliesPerCommandArgumentsAndProtocol() {
        long now = System.nanoTime();
        byte[] fieldA = {0, 0, 0, 1, 'a'};
        byte[] fieldB = {0, 0, 0, 1, 'b'};
        int hget = 9;
        cache.finishFill(cache.startFill(key("h"), tracked, hget, RespVersion.RESP2, fieldA, now), bulk("A"), -1);
        cache.finishFill(cache.startFill(key("h"), tracked, hget, RespVersion.RESP3, fieldA, now), bulk("A3"), -1);
        cache.finishFill(cache.startFill(key("h"), tracked, hget, RespVersion.RESP2, fieldB, now), bulk("B"), -1);
        assertThat(cache.get(key("h"), hget, RespVersion.RESP2, fieldA, now)).isEqualTo(bulk("A"));
        assertThat(cache.get(key("h"), hget, RespVersion.RESP3, fieldA, now)).isEqualTo(bulk("A3"));
        assertThat(cache.get(key("h"), hget, RespVersion.RESP2, fieldB, now)).isEqualTo(bulk("B"));
        assertThat(cache.get(key("h"), GET, RespVersion.RESP2, NO_ARGS, now)).isNull();
        cache.invalidate(key("h"), NearCache.Source.BROADCAST);
        assertThat(cache.get(key("h"), hget, RespVersion.RESP3, fieldA, now)).as("dropped by key").isNull();
    }

    @Test
    void shouldStayWithinMaxMemoryByEvicting() {
        NearCache small = new NearCache(config(64 * 1024), List.of(node));
        TrackedNode t = small.tracked(node);
        long now = System.nanoTime();
        byte[] value = bulk("x".repeat(1000));
        for (int i = 0; i < 1000; i++) {
            small.finishFill(small.startFill(key("k" + i), t, GET, RespVersion.RESP2, NO_ARGS, now), value, -1);
        }
        small.cleanUp();
        assertThat(small.bytes()).isLessThanOrEqualTo(64 * 1024);
        assertThat(small.evictions()).isGreaterThan(900);
    }

    @Test
    void shouldCacheNothingWhenDisabledOrForUntrackedNodes() {
        NearCache off = new NearCache(L1Config.disabled(), List.of(node));
        assertThat(off.enabled()).isFalse();
        assertThat(off.tracked(node)).isNull();
        assertThat(cache.tracked(new BackendNode("other", "127.0.0.1", 7009))).isNull();
    }
}
