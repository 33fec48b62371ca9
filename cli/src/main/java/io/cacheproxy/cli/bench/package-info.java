/**
 * {@code cacheproxy bench}: a closed-loop load generator for any Redis-protocol server (the proxy or a
 * plain {@code redis-server}). Each client connection keeps {@code --pipeline} GET/SET requests in
 * flight on one or two Netty event loop threads; requests are encoded straight into pooled buffers and
 * replies are only framed ({@link io.cacheproxy.resp.RespReplyScanner}), never decoded, so the
 * generator spends as little CPU per request as it can on a machine it shares with the proxy and
 * Redis. Latencies go to per-thread HdrHistograms merged at the end.
 */
package io.cacheproxy.cli.bench;
