package io.cacheproxy.resp;

/**
 * The protocol version a client negotiated ({@code HELLO 2} / {@code HELLO 3}). It decides only how
 * {@link RespWriter} spells RESP3-only types (null, map, set, push, double, boolean, verbatim) to the
 * client; requests look the same in both versions.
 */
public enum RespVersion {
    /** The protocol every client starts with; RESP3 types are written as their RESP2 fallbacks. */
    RESP2,
    /** Negotiated with {@code HELLO 3}. */
    RESP3
}
