package io.cacheproxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.resp.RespRequest;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class KeyPositionsTest {
    private static final CommandTable TABLE = CommandTable.standard();

    private static int[] keys(String... args) {
        RespRequest request = RespRequest.of(UnpooledByteBufAllocator.DEFAULT, args);
        try {
            return KeyPositions.of(TABLE.lookup(request), request);
        } finally {
            request.release();
        }
    }

    @Test
    void shouldFindFixedKeyPositions() {
        assertThat(keys("GET", "k")).containsExactly(1);
        assertThat(keys("MSET", "a", "1", "b", "2")).containsExactly(1, 3);
        assertThat(keys("MGET", "a", "b", "c")).containsExactly(1, 2, 3);
        assertThat(keys("BLPOP", "a", "b", "0")).containsExactly(1, 2);
        assertThat(keys("OBJECT", "ENCODING", "k")).containsExactly(2);
        assertThat(keys("PING")).isEmpty();
    }

    @Test
    void shouldReadNumkeysOfScriptsAndSetOperations() {
        assertThat(keys("EVAL", "return 1", "2", "a", "b", "arg")).containsExactly(3, 4);
        assertThat(keys("EVALSHA", "abc", "0")).isEmpty();
        assertThat(keys("ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2")).containsExactly(1, 3, 4);
        assertThat(keys("ZINTER", "2", "a", "b")).containsExactly(2, 3);
        assertThat(keys("LMPOP", "2", "a", "b", "LEFT")).containsExactly(2, 3);
        assertThat(keys("BLMPOP", "0", "1", "a", "LEFT")).containsExactly(3);
    }

    @Test
    void shouldFindStreamsAndStoreDestinations() {
        assertThat(keys("XREAD", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0")).containsExactly(4, 5);
        assertThat(keys("SORT", "src", "BY", "w_*", "STORE", "dst")).containsExactly(1, 5);
        assertThat(keys("GEORADIUS", "g", "0", "0", "1", "km", "STOREDIST", "d")).containsExactly(1, 7);
    }

    @Test
    void shouldReturnNullWhenKeysCannotBeLocated() {
        assertThat(keys("EVAL", "return 1", "x")).isNull();
        assertThat(keys("EVAL", "return 1", "3", "a")).isNull();
        assertThat(keys("XREAD", "STREAMS", "s1")).isNull();
    }
}
