package io.cacheproxy.proxy.upstream;

/** A backend node together with the pool it serves (for commands that go to every node). */
public record PoolNode(BackendPool pool, BackendNode node) {
}
