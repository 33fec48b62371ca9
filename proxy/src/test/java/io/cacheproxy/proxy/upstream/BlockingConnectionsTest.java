package io.cacheproxy.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.proxy.OutboundFlusher;
import io.cacheproxy.proxy.Transport;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespVersion;
import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The bound and the idle lists of {@link BlockingConnections}, without sockets: a connection only
 * connects on its first command, and none is sent here.
 */
class BlockingConnectionsTest {
    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final BackendNode node = new BackendNode("main", "127.0.0.1", 7001);

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private BackendPool pool(int blockingConnections) {
        UpstreamSettings settings = new UpstreamSettings(Duration.ofSeconds(1), Duration.ofSeconds(1), null,
                RespLimits.DEFAULTS, blockingConnections);
        return new BackendPool("main", List.of(node), 160, settings, false);
    }

    private BlockingConnections newLoop() {
        return new BlockingConnections(new OutboundFlusher(loop), Transport.choose("nio"));
    }

    @Test
    void shouldRefuseAtTheBoundAndLendAGivenBackConnectionAgain() {
        BackendPool pool = pool(2);
        BlockingConnections connections = newLoop();
        UpstreamConnection first = connections.borrow(pool, node, RespVersion.RESP2);
        UpstreamConnection second = connections.borrow(pool, node, RespVersion.RESP2);

        assertThat(first).isNotNull().isNotSameAs(second);
        assertThat(second).isNotNull();
        assertThat(connections.borrow(pool, node, RespVersion.RESP2)).isNull();

        connections.giveBack(pool, first, RespVersion.RESP2);
        assertThat(first.isClosed()).isFalse();
        assertThat(connections.borrow(pool, node, RespVersion.RESP2)).isSameAs(first);
        assertThat(connections.borrow(pool, node, RespVersion.RESP2)).isNull();
    }

    @Test
    void shouldFreeThePlaceOfAClosedConnectionOnce() {
        BackendPool pool = pool(1);
        BlockingConnections connections = newLoop();
        UpstreamConnection abandoned = connections.borrow(pool, node, RespVersion.RESP2);
        connections.close(pool, abandoned);
        assertThat(abandoned.isClosed()).isTrue();

        UpstreamConnection failed = connections.borrow(pool, node, RespVersion.RESP2);
        assertThat(failed).isNotNull().isNotSameAs(abandoned);
        failed.close();                                  // as the deadline check or the node would
        connections.giveBack(pool, failed, RespVersion.RESP2);

        UpstreamConnection next = connections.borrow(pool, node, RespVersion.RESP2);
        assertThat(next).isNotNull().isNotSameAs(failed);
        assertThat(connections.borrow(pool, node, RespVersion.RESP2)).isNull();
    }

    @Test
    void shouldDropAConnectionThatClosedWhileIdle() {
        BackendPool pool = pool(1);
        BlockingConnections connections = newLoop();
        UpstreamConnection idle = connections.borrow(pool, node, RespVersion.RESP2);
        connections.giveBack(pool, idle, RespVersion.RESP2);
        idle.close();                                    // the node restarted

        UpstreamConnection fresh = connections.borrow(pool, node, RespVersion.RESP2);
        assertThat(fresh).isNotNull().isNotSameAs(idle);
    }

    @Test
    void shouldCloseConnectionsGivenBackBeyondTheIdleCap() {
        BackendPool pool = pool(100);
        BlockingConnections connections = newLoop();
        List<UpstreamConnection> borrowed = new ArrayList<>();
        for (int i = 0; i < BlockingConnections.MAX_IDLE + 2; i++) {
            borrowed.add(connections.borrow(pool, node, RespVersion.RESP2));
        }
        borrowed.forEach(c -> connections.giveBack(pool, c, RespVersion.RESP2));

        assertThat(borrowed).filteredOn(UpstreamConnection::isClosed).hasSize(2);
        // the two closed ones freed their places: 8 idle + 92 new fit the bound of 100
        for (int i = 0; i < 100; i++) {
            assertThat(connections.borrow(pool, node, RespVersion.RESP2)).as("borrow %d", i).isNotNull();
        }
        assertThat(connections.borrow(pool, node, RespVersion.RESP2)).isNull();
    }

    @Test
    void shouldCountTheBoundOverEveryLoopAndLetALoopCloseItsIdleConnections() {
        BackendPool pool = pool(2);
        BlockingConnections loopA = newLoop();
        BlockingConnections loopB = newLoop();
        UpstreamConnection idleOnA = loopA.borrow(pool, node, RespVersion.RESP2);
        loopA.giveBack(pool, idleOnA, RespVersion.RESP2);

        assertThat(loopB.borrow(pool, node, RespVersion.RESP2)).isNotNull();
        assertThat(loopB.borrow(pool, node, RespVersion.RESP2)).as("A's idle connection holds a place").isNull();

        loopA.closeIdle(pool, node);
        assertThat(idleOnA.isClosed()).isTrue();
        assertThat(loopB.borrow(pool, node, RespVersion.RESP2)).isNotNull();
    }

    @Test
    void shouldKeepProtocolVersionsApartAndCloseIdleOnesOfTheOtherVersionAtTheBound() {
        BackendPool pool = pool(1);
        BlockingConnections connections = newLoop();
        UpstreamConnection resp2 = connections.borrow(pool, node, RespVersion.RESP2);
        connections.giveBack(pool, resp2, RespVersion.RESP2);

        UpstreamConnection resp3 = connections.borrow(pool, node, RespVersion.RESP3);
        assertThat(resp3).isNotNull().isNotSameAs(resp2);
        assertThat(resp2.isClosed()).isTrue();
        assertThat(connections.borrow(pool, node, RespVersion.RESP2)).isNull();
    }
}
