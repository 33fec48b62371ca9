package io.cacheproxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Durations}, {@link Sizes} and {@link HostAndPort}: the value syntaxes of the file. */
class ValueFormatsTest {

    @ParameterizedTest
    @CsvSource({
            "500ms, PT0.5S", "10s, PT10S", "1m, PT1M", "2h, PT2H", "1d, PT24H", "0, PT0S", "0s, PT0S",
            "10S, PT10S", "' 5 ms ', PT0.005S", "250us, PT0.00025S", "7ns, PT0.000000007S"})
    void shouldParseDurations(String text, Duration expected) {
        assertThat(Durations.parse(text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10", "1.5s", "-1s", "10x", "s", "1 minute", "99999999999999999999s"})
    void shouldRejectBadDurations(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(ConfigException.class)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("duration: ");
    }

    @ParameterizedTest
    @CsvSource({"PT0S, 0s", "PT0.5S, 500ms", "PT30S, 30s", "PT1M, 1m", "PT90S, 90s", "PT2H, 2h", "PT48H, 2d",
            "PT1.5S, 1500ms", "PT0.00025S, 250us", "PT0.000000007S, 7ns"})
    void shouldFormatDurationsInTheLargestExactUnit(Duration d, String expected) {
        assertThat(Durations.format(d)).isEqualTo(expected);
        assertThat(Durations.parse(expected)).isEqualTo(d);
    }

    @ParameterizedTest
    @CsvSource({"64mb, 67108864", "512kb, 524288", "1gb, 1073741824", "100, 100", "64b, 64", "0, 0",
            "64MB, 67108864", "2tb, 2199023255552", "' 1 kb', 1024"})
    void shouldParseSizesInBinaryUnits(String text, long expected) {
        assertThat(Sizes.parse(text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1k", "1m", "1.5mb", "-1", "mb", "64 megabytes", "99999999tb"})
    void shouldRejectBadSizes(String text) {
        assertThatThrownBy(() -> Sizes.parse(text))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("size: ");
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "64, 64b", "1536, 1536b", "524288, 512kb", "268435456, 256mb", "1073741824, 1gb",
            "1099511627776, 1tb"})
    void shouldFormatSizesInTheLargestExactUnit(long bytes, String expected) {
        assertThat(Sizes.format(bytes)).isEqualTo(expected);
        assertThat(Sizes.parse(expected)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1:7001, 127.0.0.1, 7001", "[::1]:7001, ::1, 7001", "redis-1.svc:6379, redis-1.svc, 6379",
            "0.0.0.0:0, 0.0.0.0, 0", "' localhost:65535 ', localhost, 65535"})
    void shouldParseHostAndPort(String text, String host, int port) {
        HostAndPort hp = HostAndPort.parse(text);
        assertThat(hp).isEqualTo(HostAndPort.of(host, port));
        assertThat(HostAndPort.parse(hp.toString())).isEqualTo(hp);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "127.0.0.1| expected: host:port, e.g. 127.0.0.1:6380",
            ":6380| expected: host:port with a host, e.g. 127.0.0.1:6380",
            "::1:6380| expected: an IPv6 address in brackets, e.g. [::1]:6380",
            "[::1]6380| expected: [ipv6-address]:port, e.g. [::1]:6380",
            "host:65536| expected: host:port with a port 0..65535",
            "host:-1| expected: host:port with a port 0..65535",
            "host:http| expected: host:port with a port 0..65535"})
    void shouldRejectBadHostAndPort(String text, String reason) {
        assertThatThrownBy(() -> HostAndPort.parse(text))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                        .containsExactly(new ConfigError("address", text, reason.strip())));
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1, 6380, 127.0.0.1:6380", "::1, 7001, [::1]:7001", "fe80::1%eth0, 1, [fe80::1%eth0]:1"})
    void shouldPrintHostAndPortSoThatItParsesBack(String host, int port, String text) {
        assertThat(HostAndPort.of(host, port)).hasToString(text);
        assertThat(HostAndPort.parse(text)).isEqualTo(HostAndPort.of(host, port));
    }
}
