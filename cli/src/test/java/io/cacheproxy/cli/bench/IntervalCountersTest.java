package io.cacheproxy.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The {@link IntervalCounter}s: parsing what {@link ProcessCpu} and {@link BackendCommands} read. */
class IntervalCountersTest {

    @Test
    void shouldAddUserAndSystemTicksOfAProcStatLine() {
        // fields 14 (utime) = 1200 and 15 (stime) = 345; the name holds a space and parentheses
        String stat = "4242 (redis (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1200 345 0 0 20 0 5 0 100 "
                + "123456 789 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assertThat(ProcessCpu.parseTicks(stat)).isEqualTo(1545);
    }

    @Test
    void shouldReadThisProcessesCpuTime() throws BenchFailure {
        ProcessCpu self = ProcessCpu.self();
        self.start();
        long spin = 0;
        for (long end = System.nanoTime() + 50_000_000; System.nanoTime() < end; ) {
            spin++;
        }
        self.stop();
        assertThat(spin).isPositive();
        assertThat(self.seconds()).isGreaterThanOrEqualTo(0);
        assertThat(self.pid()).isEqualTo(ProcessHandle.current().pid());
    }

    @Test
    void shouldRejectAProcessThatDoesNotExist() {
        assertThatThrownBy(() -> new ProcessCpu("ghost", Long.MAX_VALUE))
                .isInstanceOf(BenchFailure.class)
                .hasMessageContaining("ghost (pid " + Long.MAX_VALUE + ")")
                .hasMessageEndingWith("no such process");
    }

    @Test
    void shouldFindTotalCommandsProcessedInInfoStats() {
        String info = "# Stats\r\ntotal_connections_received:12\r\ntotal_commands_processed:987654\r\n"
                + "instantaneous_ops_per_sec:3\r\n";
        assertThat(BackendCommands.parse(info)).isEqualTo(987654);
        assertThatThrownBy(() -> BackendCommands.parse("# Stats\r\n"))
                .hasMessage("no total_commands_processed in INFO stats");
    }
}
