package io.cacheproxy.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Test helpers: byte strings, ways to split input into reads, and decoding through an EmbeddedChannel. */
final class Wire {

    private Wire() {
    }

    /** The bytes of {@code s}, one byte per char (so "\xff" is the byte 0xff). */
    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** Drains {@code buf}'s readable bytes as a string, and releases it. */
    static String drain(ByteBuf buf) {
        try {
            return buf.toString(StandardCharsets.ISO_8859_1);
        } finally {
            buf.release();
        }
    }

    /** Writes with a fresh buffer and returns the bytes written. */
    static String written(java.util.function.Consumer<ByteBuf> writer) {
        ByteBuf out = Unpooled.buffer();
        writer.accept(out);
        return drain(out);
    }

    static List<byte[]> whole(byte[] data) {
        return List.of(data);
    }

    static List<byte[]> byteAtATime(byte[] data) {
        List<byte[]> parts = new ArrayList<>(data.length);
        for (byte b : data) {
            parts.add(new byte[] {b});
        }
        return parts;
    }

    /** Random cut points; sometimes many tiny pieces, sometimes a few large ones. */
    static List<byte[]> randomSplit(byte[] data, Random rnd) {
        List<byte[]> parts = new ArrayList<>();
        int maxPiece = switch (rnd.nextInt(3)) {
            case 0 -> 1 + rnd.nextInt(3);
            case 1 -> 1 + rnd.nextInt(16);
            default -> 1 + rnd.nextInt(Math.max(1, data.length));
        };
        int i = 0;
        while (i < data.length) {
            int n = Math.min(data.length - i, 1 + rnd.nextInt(maxPiece));
            parts.add(Arrays.copyOfRange(data, i, i + n));
            i += n;
        }
        return parts;
    }

    /** Every split of {@code data} into two reads. */
    static List<List<byte[]>> allTwoWaySplits(byte[] data) {
        List<List<byte[]>> splits = new ArrayList<>();
        for (int i = 0; i <= data.length; i++) {
            splits.add(List.of(Arrays.copyOfRange(data, 0, i), Arrays.copyOfRange(data, i, data.length)));
        }
        return splits;
    }

    /**
     * A leak-tracked copy (pooled direct, like a socket read), so a decoder that forgets to release it
     * fails the test. Unpooled heap buffers are not tracked by Netty's leak detector.
     */
    static ByteBuf tracked(byte[] part) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(part.length).writeBytes(part);
    }

    /**
     * Decoded requests as argument lists (each arg as an ISO-8859-1 string), with "!inline" appended to
     * inline ones; or, if the decoder failed, the requests before the failure followed by
     * "ERR <message>". Everything read is released and the channel is finished.
     */
    static List<String> decodeRequests(RespLimits limits, List<byte[]> parts) {
        EmbeddedChannel ch = new EmbeddedChannel(new RespRequestDecoder(limits));
        List<String> out = new ArrayList<>();
        String error = null;
        for (byte[] part : parts) {
            // Requests decoded by the write that failed came before the error; later writes emit nothing.
            boolean failedBefore = error != null;
            try {
                ch.writeInbound(tracked(part));
            } catch (RespProtocolException e) {
                if (error != null) {
                    throw new AssertionError("second error after the first: " + e.getMessage());
                }
                error = "ERR " + e.getMessage();
            }
            drainRequests(ch, out, failedBefore);
        }
        if (ch.finish()) {
            drainRequests(ch, out, error != null);
            throw new AssertionError("channel.finish() returned true: " + out);
        }
        if (error != null) {
            out.add(error);
        }
        return out;
    }

    private static void drainRequests(EmbeddedChannel ch, List<String> out, boolean failed) {
        List<RespRequest> read = new ArrayList<>();
        for (RespRequest r; (r = ch.readInbound()) != null; ) {
            read.add(r);
        }
        try {
            for (RespRequest r : read) {
                if (failed) {
                    throw new AssertionError("request emitted after a protocol error: " + r);
                }
                out.add(describe(r));
            }
        } finally {
            read.forEach(RespRequest::release);
        }
    }

    /** The arguments joined by '|' (args in ISO-8859-1), plus "!inline"; checks the content framing too. */
    static String describe(RespRequest r) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < r.argCount(); i++) {
            if (i > 0) {
                sb.append('|');
            }
            sb.append(str(r.argBytes(i)));
        }
        // content() is always the canonical multibulk form of exactly these args.
        byte[][] args = new byte[r.argCount()][];
        for (int i = 0; i < args.length; i++) {
            args[i] = r.argBytes(i);
        }
        ByteBuf expected = Unpooled.buffer();
        RespWriter.writeCommand(expected, args);
        try {
            if (!ByteBufUtil.equals(expected, r.content())) {
                throw new AssertionError("content is not the multibulk form of the args: "
                        + r.content().toString(StandardCharsets.ISO_8859_1));
            }
        } finally {
            expected.release();
        }
        return r.inline() ? sb + "!inline" : sb.toString();
    }

    /** Replies framed by RespReplyDecoder, as strings, or "ERR <message>" last on failure. */
    static List<String> decodeReplies(RespLimits limits, List<byte[]> parts) {
        EmbeddedChannel ch = new EmbeddedChannel(new RespReplyDecoder(limits));
        List<String> out = new ArrayList<>();
        String error = null;
        for (byte[] part : parts) {
            boolean failedBefore = error != null;
            try {
                ch.writeInbound(tracked(part));
            } catch (RespProtocolException e) {
                if (error != null) {
                    throw new AssertionError("second error after the first: " + e.getMessage());
                }
                error = "ERR " + e.getMessage();
            }
            for (ByteBuf b; (b = ch.readInbound()) != null; ) {
                String s = drain(b);
                if (failedBefore) {
                    throw new AssertionError("reply emitted after a protocol error: " + s);
                }
                out.add(s);
            }
        }
        if (ch.finish()) {
            for (ByteBuf b; (b = ch.readInbound()) != null; ) {
                b.release();
            }
            throw new AssertionError("channel.finish() returned true");
        }
        if (error != null) {
            out.add(error);
        }
        return out;
    }
}
