package io.cacheproxy.resp;

/**
 * Size limits applied while decoding, with Redis's defaults in {@link #DEFAULTS}. Every limit is
 * checked against the <em>declared</em> size before any byte of the body arrives, and nothing is ever
 * allocated in proportion to a declared size: a client declaring a 512&nbsp;MB bulk string only makes the
 * decoder wait for the bytes in its cumulation buffer.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>limit</th><th>default</th><th>Redis equivalent</th><th>applies to</th></tr>
 *   <tr><td>{@code maxBulkLength}</td><td>512 MB</td><td>{@code proto-max-bulk-len}</td>
 *       <td>request bulk arguments; reply bulk, blob error and verbatim strings, and reply
 *       simple-string lines</td></tr>
 *   <tr><td>{@code maxArgs}</td><td>1048576</td><td>(Redis 7 allows up to {@code INT_MAX})</td>
 *       <td>number of arguments in one multibulk request</td></tr>
 *   <tr><td>{@code maxInlineLength}</td><td>64 KB</td><td>{@code PROTO_INLINE_MAX_SIZE}</td>
 *       <td>an inline request line, and each {@code *N} / {@code $N} header line of a request</td></tr>
 *   <tr><td>{@code maxNestingDepth}</td><td>128</td><td>(hiredis: 7)</td>
 *       <td>nested aggregates in a reply</td></tr>
 * </table>
 *
 * @param maxBulkLength   the longest bulk string, in bytes; at most {@link Integer#MAX_VALUE} - 64,
 *                        because a message has to fit in one {@code ByteBuf}
 * @param maxArgs         the most arguments in one multibulk request
 * @param maxInlineLength the longest inline request line or request header line, in bytes
 * @param maxNestingDepth the deepest nesting of aggregate replies (a flat array has depth 1)
 */
public record RespLimits(long maxBulkLength, int maxArgs, int maxInlineLength, int maxNestingDepth) {

    /** Redis's defaults: 512 MB bulk strings, 1M arguments, 64 KB inline lines, 128 nesting levels. */
    public static final RespLimits DEFAULTS = new RespLimits(512L * 1024 * 1024, 1024 * 1024, 64 * 1024, 128);

    /** The largest {@code maxBulkLength} that still leaves room for headers in one buffer. */
    static final long MAX_BULK_LENGTH_CAP = Integer.MAX_VALUE - 64;

    public RespLimits {
        if (maxBulkLength < 0 || maxBulkLength > MAX_BULK_LENGTH_CAP) {
            throw new IllegalArgumentException(
                    "maxBulkLength: " + maxBulkLength + " (expected: 0-" + MAX_BULK_LENGTH_CAP + ")");
        }
        if (maxArgs <= 0) {
            throw new IllegalArgumentException("maxArgs: " + maxArgs + " (expected: > 0)");
        }
        if (maxInlineLength <= 0) {
            throw new IllegalArgumentException("maxInlineLength: " + maxInlineLength + " (expected: > 0)");
        }
        if (maxNestingDepth <= 0) {
            throw new IllegalArgumentException("maxNestingDepth: " + maxNestingDepth + " (expected: > 0)");
        }
    }

    public RespLimits withMaxBulkLength(long v) {
        return new RespLimits(v, maxArgs, maxInlineLength, maxNestingDepth);
    }

    public RespLimits withMaxArgs(int v) {
        return new RespLimits(maxBulkLength, v, maxInlineLength, maxNestingDepth);
    }

    public RespLimits withMaxInlineLength(int v) {
        return new RespLimits(maxBulkLength, maxArgs, v, maxNestingDepth);
    }

    public RespLimits withMaxNestingDepth(int v) {
        return new RespLimits(maxBulkLength, maxArgs, maxInlineLength, v);
    }
}
