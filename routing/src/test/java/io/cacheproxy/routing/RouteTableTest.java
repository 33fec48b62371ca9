package io.cacheproxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTableTest {
    private final RouteTable<String> routes = RouteTable.of(List.of(
            new RouteTable.Route<>("session:", "sessions"),
            new RouteTable.Route<>("s", "s-pool"),
            new RouteTable.Route<>(null, "main")));

    private String route(String key) {
        ByteBuf buf = Unpooled.copiedBuffer("xx" + key, StandardCharsets.UTF_8);
        return routes.targetFor(buf, 2, buf.readableBytes() - 2);
    }

    @Test
    void shouldTakeTheFirstMatchingPrefix() {
        assertThat(route("session:42")).isEqualTo("sessions");
        assertThat(route("sess")).isEqualTo("s-pool");
        assertThat(route("user:1")).isEqualTo("main");
        assertThat(route("")).isEqualTo("main");
    }

    @Test
    void shouldListEveryTargetOnceWithTheDefaultLast() {
        assertThat(routes.targets()).containsExactly("sessions", "s-pool", "main");
        assertThat(routes.defaultTarget()).isEqualTo("main");
    }

    @Test
    void shouldRequireExactlyOneDefaultRouteAtTheEnd() {
        assertThatThrownBy(() -> RouteTable.of(List.of(new RouteTable.Route<>("a:", "x"))))
                .hasMessageContaining("the last route has no prefix");
        assertThatThrownBy(() -> RouteTable.of(List.of(new RouteTable.Route<>(null, "x"), new RouteTable.Route<>(null, "y"))))
                .hasMessageContaining("only the last route has no prefix");
    }
}
