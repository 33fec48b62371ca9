package io.cacheproxy.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OutboundFlusherTest {
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoop loop = group.next();
    private final OutboundFlusher flusher = new OutboundFlusher(loop);
    private final List<String> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void shouldFlushThisPassTargetsOnceAfterTheReadsThatMarkedThem() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        loop.execute(() -> {
            OutboundFlusher.Flushable target = () -> events.add("flush");
            flusher.flushThisPass(target);
            events.add("read");
            loop.execute(done::countDown);
        });
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(events).containsExactly("read", "flush");
    }

    @Test
    void shouldFlushNextPassTargetsOnlyAfterEveryTaskOfThePassThatMarkedThem() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        loop.execute(() -> {
            flusher.flushNextPass(() -> {
                events.add("flush");
                done.countDown();
            });
            // tasks queued in this pass, even by other tasks of it, all run before the flush
            loop.execute(() -> {
                events.add("task");
                loop.execute(() -> events.add("task queued by a task"));
            });
        });
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(events).containsExactly("task", "task queued by a task", "flush");
    }

    @Test
    void shouldFlushATargetMarkedWhileFlushingInALaterBatch() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        OutboundFlusher.Flushable second = () -> {
            events.add("second");
            done.countDown();
        };
        OutboundFlusher.Flushable first = () -> {
            events.add("first");
            flusher.flushNextPass(second);
        };
        loop.execute(() -> flusher.flushNextPass(first));
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(events).containsExactly("first", "second");
    }
}
