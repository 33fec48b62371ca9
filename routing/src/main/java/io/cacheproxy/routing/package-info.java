/**
 * Where and how a command goes: the command table (arity, key positions, read/write, blocking,
 * pub/sub, admin), how each command is handled by the proxy ({@link io.cacheproxy.routing.CommandKind}),
 * key hashing and the choice of backend node within a pool. Plain Java: nothing here opens a socket
 * or imports {@code io.netty.channel}, so all of it is tested with plain JUnit.
 */
package io.cacheproxy.routing;
