package io.cacheproxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.resp.RespRequest;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class CommandTableTest {
    private static final CommandTable TABLE = CommandTable.standard();

    private static CommandSpec lookup(String... args) {
        RespRequest request = RespRequest.of(UnpooledByteBufAllocator.DEFAULT, args);
        try {
            return TABLE.lookup(request);
        } finally {
            request.release();
        }
    }

    static Stream<Arguments> kinds() {
        return Stream.of(
                Arguments.of(new String[] {"GET", "k"}, "get", CommandKind.KEYED),
                Arguments.of(new String[] {"set", "k", "v"}, "set", CommandKind.KEYED),
                Arguments.of(new String[] {"HSET", "h", "f", "v"}, "hset", CommandKind.KEYED),
                Arguments.of(new String[] {"MSET", "a", "1"}, "mset", CommandKind.KEYED),
                Arguments.of(new String[] {"ping"}, "ping", CommandKind.CONNECTION),
                Arguments.of(new String[] {"HELLO", "3"}, "hello", CommandKind.CONNECTION),
                Arguments.of(new String[] {"client", "setname", "x"}, "client|setname", CommandKind.CONNECTION),
                Arguments.of(new String[] {"CLIENT", "SETINFO", "lib-name", "x"}, "client|setinfo", CommandKind.CONNECTION),
                Arguments.of(new String[] {"client", "kill", "x"}, "client|kill", CommandKind.ADMIN),
                Arguments.of(new String[] {"CONFIG", "GET", "x"}, "config|get", CommandKind.ADMIN),
                Arguments.of(new String[] {"object", "encoding", "k"}, "object|encoding", CommandKind.ADMIN),
                Arguments.of(new String[] {"MEMORY", "USAGE", "k"}, "memory|usage", CommandKind.ADMIN),
                Arguments.of(new String[] {"debug", "sleep", "0"}, "debug", CommandKind.ADMIN),
                Arguments.of(new String[] {"SHUTDOWN"}, "shutdown", CommandKind.FORBIDDEN),
                Arguments.of(new String[] {"monitor"}, "monitor", CommandKind.FORBIDDEN),
                Arguments.of(new String[] {"replicaof", "no", "one"}, "replicaof", CommandKind.FORBIDDEN),
                Arguments.of(new String[] {"BLPOP", "k", "0"}, "blpop", CommandKind.BLOCKING),
                Arguments.of(new String[] {"xread", "block", "0", "streams", "s", "$"}, "xread", CommandKind.BLOCKING),
                Arguments.of(new String[] {"WAIT", "1", "0"}, "wait", CommandKind.BLOCKING),
                Arguments.of(new String[] {"MULTI"}, "multi", CommandKind.TRANSACTION),
                Arguments.of(new String[] {"watch", "k"}, "watch", CommandKind.TRANSACTION),
                Arguments.of(new String[] {"SUBSCRIBE", "c"}, "subscribe", CommandKind.SUBSCRIBE),
                Arguments.of(new String[] {"eval", "return 1", "0"}, "eval", CommandKind.MOVABLE_KEYS),
                Arguments.of(new String[] {"ZUNIONSTORE", "d", "2", "a", "b"}, "zunionstore", CommandKind.MOVABLE_KEYS),
                Arguments.of(new String[] {"SCAN", "0"}, "scan", CommandKind.WHOLE_KEYSPACE),
                Arguments.of(new String[] {"flushall"}, "flushall", CommandKind.WHOLE_KEYSPACE),
                Arguments.of(new String[] {"SCRIPT", "LOAD", "return 1"}, "script|load", CommandKind.WHOLE_KEYSPACE),
                Arguments.of(new String[] {"TIME"}, "time", CommandKind.KEYLESS),
                Arguments.of(new String[] {"command", "count"}, "command|count", CommandKind.KEYLESS),
                Arguments.of(new String[] {"PUBLISH", "c", "m"}, "publish", CommandKind.KEYLESS));
    }

    @ParameterizedTest(name = "{1} is {2}")
    @MethodSource("kinds")
    void shouldClassifyEveryCommandShape(String[] args, String name, CommandKind kind) {
        CommandSpec spec = lookup(args);
        assertThat(spec).isNotNull();
        assertThat(spec.name()).isEqualTo(name);
        assertThat(spec.kind()).isEqualTo(kind);
    }

    @Test
    void shouldResolveUnknownSubcommandsToTheirContainer() {
        assertThat(lookup("CONFIG", "NOSUCH").name()).isEqualTo("config");
        assertThat(lookup("client", "nosuch").kind()).isEqualTo(CommandKind.CONNECTION);
    }

    @Test
    void shouldReturnNullForUnknownCommands() {
        assertThat(lookup("NOSUCHCOMMAND", "x")).isNull();
        assertThat(lookup("ge")).isNull();
        assertThat(lookup("gett")).isNull();
    }

    @Test
    void shouldKnowKeyPositionsAndArity() {
        CommandSpec get = TABLE.get("get");
        assertThat(get.firstKey()).isEqualTo(1);
        assertThat(get.arityAccepts(2)).isTrue();
        assertThat(get.arityAccepts(3)).isFalse();
        CommandSpec mset = TABLE.get("mset");
        assertThat(mset.keyStep()).isEqualTo(2);
        assertThat(mset.lastKey()).isEqualTo(-1);
        assertThat(mset.arityAccepts(3)).isTrue();
        assertThat(mset.arityAccepts(2)).isFalse();
        assertThat(TABLE.get("object|encoding").firstKey()).isEqualTo(2);
    }

    @Test
    void shouldCoverEveryCommandOfRedis7() {
        assertThat(TABLE.all()).hasSizeGreaterThan(360);
        for (CommandSpec spec : TABLE.all()) {
            assertThat(spec.kind()).as(spec.name()).isNotNull();
            if (spec.kind() == CommandKind.KEYED) {
                assertThat(spec.firstKey()).as(spec.name()).isPositive();
            }
        }
    }

    @Test
    void shouldNumberCommandsDenselyInNameOrder() {
        int expected = 0;
        for (CommandSpec spec : TABLE.all()) {
            assertThat(spec.id()).as(spec.name()).isEqualTo(expected++);
        }
        assertThat(expected).isEqualTo(TABLE.size());
        assertThat(lookup("GET").id()).isEqualTo(TABLE.get("get").id());
    }

    @Test
    void shouldParseTableLinesStrictly() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CommandTable.parseLine("get\t2"))
                .hasMessageContaining("expected: 7 tab-separated fields");
    }
}
