/**
 * Black-box integration tests of cacheproxy over TCP: real {@code redis-server} processes (or
 * {@code redis:7} containers) owned by {@link io.cacheproxy.it.RedisExtension}, an in-process proxy
 * in front of them ({@link io.cacheproxy.it.ProxyExtension}, {@link io.cacheproxy.it.TestProxy}), and
 * clients that range from raw bytes ({@link io.cacheproxy.it.RawRedisClient}) to Jedis, Lettuce and
 * {@code redis-cli}. The central check is differential ({@link io.cacheproxy.it.DifferentialIT}).
 */
package io.cacheproxy.it;
