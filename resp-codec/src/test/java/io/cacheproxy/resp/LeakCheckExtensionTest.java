package io.cacheproxy.resp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheckExtension.class)
class LeakCheckExtensionTest {

    @Test
    void shouldFailWhenABufferIsLeaked() {
        String hint = "deliberate-leak-" + UUID.randomUUID();
        AssertionError e = assertThrows(AssertionError.class, () -> LeakCheckExtension.assertNoLeaks(() -> {
            ByteBuf leaked = PooledByteBufAllocator.DEFAULT.heapBuffer(16);
            // A unique hint makes the leak record unique: Netty reports each distinct record only once.
            leaked.touch(hint);
            leaked.writeInt(42);
            leaked = null; // dropped without release()
        }, 50));
        assertThat(e).hasMessageContaining("ByteBuf leak").hasMessageContaining(hint);
    }

    @Test
    void shouldPassWhenEveryBufferIsReleased() {
        LeakCheckExtension.assertNoLeaks(() -> {
            ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(16);
            b.writeInt(42);
            b.release();
        }, 2);
    }
}
