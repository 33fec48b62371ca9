package io.cacheproxy.resp;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty's leak detector reports a {@code ByteBuf} leak during it, instead of only
 * logging it. Registered on every test class in this module with
 * {@code @ExtendWith(LeakCheckExtension.class)}.
 *
 * <p>Netty detects a leak when a tracked buffer is garbage collected unreleased, and reports it the
 * next time a buffer is tracked. So before and after each test this runs a few rounds of
 * {@code System.gc()} followed by an allocation, collecting the reports through a
 * {@link ResourceLeakDetector.LeakListener} set on the detector every {@code ByteBuf} allocator uses.
 * Each leak record is reported once per JVM (Netty de-duplicates them), which is enough to fail the
 * test that caused it.
 */
public final class LeakCheckExtension implements BeforeEachCallback, AfterEachCallback {

    private static final ConcurrentLinkedQueue<String> LEAKS = new ConcurrentLinkedQueue<>();

    static {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        try {
            Field f = AbstractByteBuf.class.getDeclaredField("leakDetector");
            f.setAccessible(true);
            ResourceLeakDetector<?> detector = (ResourceLeakDetector<?>) f.get(null);
            detector.setLeakListener((type, records) -> LEAKS.add(type + " leak:\n" + records));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        // Leaks from earlier code (another class, JUnit's own setup) are not this test's fault.
        flush(1);
        LEAKS.clear();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        assertNoLeaks(2);
    }

    /**
     * Starts listening for leaks, for code that checks at points of its own with
     * {@link #assertNoLeaksSinceInstall()} rather than around each test (the integration tests check
     * each proxy after it stops, when every buffer it held should be released).
     */
    public static void install() {
        // the static initializer has run: nothing else to do
    }

    /** Fails if Netty has reported a leak since {@link #install()} or the previous check. */
    public static void assertNoLeaksSinceInstall() {
        assertNoLeaks(3);
    }

    /** Runs {@code body}, then fails if a leak is reported; used to show the check itself works. */
    static void assertNoLeaks(Runnable body, int gcRounds) {
        flush(1);
        LEAKS.clear();
        body.run();
        assertNoLeaks(gcRounds);
    }

    private static void assertNoLeaks(int gcRounds) {
        flush(gcRounds);
        List<String> leaks = new ArrayList<>();
        for (String s; (s = LEAKS.poll()) != null; ) {
            leaks.add(s);
        }
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " ByteBuf leak(s) reported by Netty:\n"
                    + String.join("\n", leaks));
        }
    }

    /** Makes unreachable tracked buffers collectable and has the detector report them. */
    private static void flush(int rounds) {
        for (int i = 0; i < rounds && LEAKS.isEmpty(); i++) {
            System.gc();
            try {
                Thread.sleep(10); // the reference handler thread enqueues cleared references
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            // Tracking a new buffer polls the detector's reference queue and reports what it finds.
            // (Unpooled heap buffers are not tracked, so the probe must be pooled or direct.)
            ByteBuf probe = PooledByteBufAllocator.DEFAULT.heapBuffer(1);
            probe.release();
        }
    }
}
