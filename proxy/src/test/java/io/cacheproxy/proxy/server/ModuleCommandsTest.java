package io.cacheproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cacheproxy.routing.CommandKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Reading COMMAND INFO replies in the forms Redis 7 sends (ModuleCommandsIT asks a real one). */
class ModuleCommandsTest {

    private static ModuleCommands.Lookup parse(String reply) {
        ByteBuf buf = Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8);
        try {
            return ModuleCommands.parse(buf, "ft.search", 7);
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldLocateKeysAtFixedPositions() {
        // RESP2, trimmed after the step (the rest is not read)
        var lookup = parse("*1\r\n*6\r\n$9\r\nft.search\r\n:-1\r\n*2\r\n+readonly\r\n+module\r\n:1\r\n:1\r\n:1\r\n");
        assertThat(lookup).isInstanceOf(ModuleCommands.Located.class);
        var spec = ((ModuleCommands.Located) lookup).spec();
        assertThat(spec.kind()).isEqualTo(CommandKind.KEYED);
        assertThat(spec.firstKey()).isEqualTo(1);
        assertThat(spec.lastKey()).isEqualTo(1);
        assertThat(spec.keyStep()).isEqualTo(1);
        assertThat(spec.id()).isEqualTo(7);
    }

    @Test
    void shouldReadTheResp3FormAndKeylessCommands() {
        var lookup = parse("*1\r\n*6\r\n$8\r\nft._list\r\n:1\r\n~1\r\n+module\r\n:0\r\n:0\r\n:0\r\n");
        assertThat(((ModuleCommands.Located) lookup).spec().kind()).isEqualTo(CommandKind.KEYLESS);
    }

    @Test
    void shouldRefuseToGuessMovableKeys() {
        var lookup = parse("*1\r\n*6\r\n$9\r\nft.search\r\n:-2\r\n*2\r\n+module\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n");
        assertThat(lookup).isInstanceOf(ModuleCommands.Unlocatable.class);
    }

    @Test
    void shouldTellACommandTheBackendDoesNotKnowInBothProtocols() {
        assertThat(parse("*1\r\n$-1\r\n")).isInstanceOf(ModuleCommands.UnknownToBackend.class);
        assertThat(parse("*1\r\n_\r\n")).isInstanceOf(ModuleCommands.UnknownToBackend.class);
    }

    @Test
    void shouldReturnNullForAnyOtherShape() {
        assertThat(parse("-ERR unknown subcommand\r\n")).isNull();
        assertThat(parse("*1\r\n*3\r\n:1\r\n:2\r\n:3\r\n")).isNull();
        assertThat(parse("*2\r\n$-1\r\n$-1\r\n")).isNull();
    }
}
