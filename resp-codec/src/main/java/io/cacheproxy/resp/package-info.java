/**
 * The RESP2/RESP3 wire format, and nothing else: {@link io.cacheproxy.resp.RespRequestDecoder} turns
 * client bytes into {@link io.cacheproxy.resp.RespRequest}s with Redis's own framing rules and error
 * texts, {@link io.cacheproxy.resp.RespReplyScanner} and {@link io.cacheproxy.resp.RespReplyDecoder}
 * frame upstream replies without building objects so they can be forwarded byte for byte,
 * {@link io.cacheproxy.resp.RespWriter} and {@link io.cacheproxy.resp.RespReplies} produce exact reply
 * bytes, and {@link io.cacheproxy.resp.RespValue} is a neutral value model for the few places that must
 * look inside a reply (fan-out merges, the near cache, tests). The package knows nothing about commands,
 * keys or configuration, and every limit is a {@link io.cacheproxy.resp.RespLimits} constructor argument.
 */
package io.cacheproxy.resp;
