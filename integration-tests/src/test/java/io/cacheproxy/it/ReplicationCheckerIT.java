package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.it.ReplicationChecker.Result;
import io.cacheproxy.it.ReplicationChecker.Running;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The replication checker against one real {@code redis-server}, no proxy: a clean run finds
 * nothing; a server killed and restarted empty mid-run is caught (lost writes, stale reads, INCR
 * mismatches) with the errors counted, not thrown; a frozen server costs timeouts but no
 * violation. {@link ReplicationCheckerTest} checks the checker's logic without sockets.
 */
@Timeout(90)
class ReplicationCheckerIT {

    /** One server per test: the tests kill and freeze it. */
    @RegisterExtension
    final RedisExtension redis = new RedisExtension();

    private ReplicationChecker checker() {
        return new ReplicationChecker(redis.host(), redis.port()).threads(6).keysPerThread(50);
    }

    @Test
    void shouldFindNoViolationAgainstAHealthyServer() {
        ReplicationChecker checker = checker().duration(Duration.ofSeconds(2));

        Result r = checker.run();

        assertThat(r.violations()).as(r.report()).isZero();
        assertThat(r.errors()).as(r.report()).isZero();
        assertThat(r.ops()).as(r.report()).isGreaterThan(2_000);
        assertThat(r.ackedWrites()).as(r.report()).isGreaterThan(500);
        assertThat(r.incrs()).as(r.report()).isGreaterThan(100);
        assertThat(r.verifiedKeys()).isEqualTo(checker.keys().size()).isEqualTo(6 * 51);
        assertThat(r.maxLatency()).as(r.report()).isLessThan(Duration.ofSeconds(1));
        assertThat(r.elapsed()).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(5));
        assertThat(redis.fixture().call("GET", "rc:5:49")).startsWith("$"); // the keys are real
    }

    @Test
    void shouldCatchTheDataLossOfARestartAndCountTheErrors() {
        // slowed down, so that keys written before the kill are not all rewritten after the restart
        Running run = checker().stepPause(Duration.ofMillis(2)).duration(Duration.ofSeconds(30)).start();
        sleep(Duration.ofMillis(700));
        run.mark("kill -9");
        redis.fixture().kill();
        sleep(Duration.ofMillis(200));
        run.mark("restart empty");
        redis.fixture().restart();
        sleep(Duration.ofMillis(200));
        Result r = run.stop();

        assertThat(r.errors()).as(r.report()).isPositive();
        assertThat(r.errorTexts().keySet()).as(r.report())
                .anyMatch(text -> text.startsWith("connect: ConnectException"));
        assertThat(r.problems()).as(r.report()).isEmpty();
        assertThat(r.lost()).as(r.report()).isPositive();
        assertThat(r.stale()).as(r.report()).isPositive();
        assertThat(r.incrMismatches()).as(r.report()).isPositive();
        assertThat(r.lostWrites()).as(r.report()).isNotEmpty().allMatch(w -> w.finalVersion() < w.ackedVersion());
        assertThat(r.staleReads()).as(r.report()).isNotEmpty()
                .allMatch(s -> s.version() == 0 && s.at().compareTo(r.marks().get(1).at()) > 0);
        Duration kill = r.marks().get(0).at();
        assertThat(r.firstError()).as(r.report()).isGreaterThanOrEqualTo(kill);
        assertThat(r.lastError()).as(r.report()).isLessThan(r.marks().get(1).at().plusSeconds(1));
        assertThat(r.verifiedKeys()).isEqualTo(6 * 51);
    }

    @Test
    void shouldCountTimeoutsOfAFrozenServerWithoutViolations() {
        Running run = checker().socketTimeout(Duration.ofMillis(300)).duration(Duration.ofSeconds(3)).start();
        sleep(Duration.ofMillis(700));
        run.mark("SIGSTOP");
        redis.fixture().pause();
        sleep(Duration.ofMillis(1000));
        run.mark("SIGCONT");
        redis.fixture().resume();
        Result r = run.await();

        assertThat(r.violations()).as(r.report()).isZero();
        assertThat(r.exceptions()).as(r.report()).isGreaterThanOrEqualTo(6);
        assertThat(r.errorReplies()).as(r.report()).isZero();
        assertThat(r.errorTexts().keySet()).as(r.report())
                .allMatch(text -> text.equals("SocketTimeoutException: Read timed out"));
        assertThat(r.maxLatency()).as(r.report())
                .isGreaterThanOrEqualTo(Duration.ofMillis(290)).isLessThan(Duration.ofSeconds(1));
        assertThat(r.firstError()).as(r.report()).isBetween(r.marks().get(0).at(), r.marks().get(1).at());
        assertThat(r.lastError()).as(r.report()).isLessThan(r.marks().get(1).at().plusMillis(500));
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
