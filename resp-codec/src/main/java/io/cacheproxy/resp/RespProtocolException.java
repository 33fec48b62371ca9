package io.cacheproxy.resp;

import io.netty.handler.codec.DecoderException;

/**
 * The peer broke the protocol; the connection cannot be resynchronised and must be closed. The
 * message is the text Redis puts after {@code -ERR } in its own reply (for example
 * {@code "Protocol error: invalid bulk length"}), so the proxy can reply
 * {@code "-ERR " + getMessage()} and close, exactly as Redis does.
 *
 * <p>A decoder that throws this stays failed: it emits nothing more and discards further input.
 */
public final class RespProtocolException extends DecoderException {

    private static final long serialVersionUID = 1L;

    public RespProtocolException(String message) {
        super(message);
    }
}
