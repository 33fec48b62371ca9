package io.cacheproxy.cli.bench;

import io.cacheproxy.cli.bench.RunState.Phase;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.resp.RespProtocolException;
import io.cacheproxy.resp.RespReplyDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One benchmark client connection, and the only handler in its pipeline: it keeps {@code pipeline}
 * requests in flight, and for every complete reply the scanner frames it records the latency, counts
 * errors, hits and misses, and (once per read) sends as many new requests as replies came in, in one
 * buffer and one flush. Replies are looked at in the socket buffer ({@link #onReply}) and never copied
 * or decoded; nothing is allocated per request but the outgoing pooled buffer per batch.
 *
 * <p>Requests carry their send time ({@link System#nanoTime()} once per batch) and kind in a ring
 * indexed like the replies, which Redis sends in request order. A request is measured when it was
 * sent during {@link Phase#MEASURE}, and its reply is recorded when it also arrives then.
 *
 * <p>Runs on its channel's event loop only; the controller starts it with {@link #startPrefill} or
 * {@link #startLoad} through {@code eventLoop().execute}. Not sharable: one instance per channel.
 */
final class BenchConnection extends RespReplyDecoder {

    private static final byte READ = 1;
    private static final byte MEASURED = 2;
    private static final byte PREFILL = 4;
    /** Requests in flight per connection during the prefill, however small {@code --pipeline} is. */
    static final int PREFILL_DEPTH = 64;

    private final RunState run;
    private final LoopStats stats;
    private final KeyDistribution keys;
    private final RequestEncoder encoder;
    private final double readRatio;
    private final int pipeline;
    private final SplittableRandom random;

    /** Per request in flight, at {@code index & mask}: when it was sent, and its flags. */
    private final long[] sentAt;
    private final byte[] flags;
    private final int mask;
    /** Ring index of the request the next reply answers, and of the next request sent. */
    private long head;
    private long tail;

    private ChannelHandlerContext ctx;
    /** When the current read arrived, and whether replies in it are recorded. */
    private long readNanos;
    private boolean recording;

    private boolean prefilling;
    private int prefillNext;
    private int prefillEnd;
    private boolean loading;
    /** Measured requests this connection may still send; -1 for no limit (a timed run). */
    private long quota = -1;
    private boolean finished;

    BenchConnection(RunState run, LoopStats stats, KeyDistribution keys, RequestEncoder encoder, double readRatio,
            int pipeline, SplittableRandom random) {
        super(RespLimits.DEFAULTS);
        this.run = run;
        this.stats = stats;
        this.keys = keys;
        this.encoder = encoder;
        this.readRatio = readRatio;
        this.pipeline = pipeline;
        this.random = random;
        int capacity = Integer.highestOneBit(Math.max(pipeline, PREFILL_DEPTH) - 1) << 1;
        this.sentAt = new long[capacity];
        this.flags = new byte[capacity];
        this.mask = capacity - 1;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** SETs keys {@code [from, to)} once each, {@link #PREFILL_DEPTH} at a time, then tells the run. */
    void startPrefill(int from, int to) {
        prefilling = true;
        prefillNext = from;
        prefillEnd = to;
        prefill();
    }

    /**
     * Starts the GET/SET load, which runs until {@link Phase#DONE}; with {@code quota >= 0}, sends at
     * most that many measured requests and tells the run when all are answered.
     */
    void startLoad(long quota) {
        this.quota = quota;
        loading = true;
        load();
    }

    int inFlight() {
        return (int) (tail - head);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        readNanos = System.nanoTime();
        recording = run.phase() == Phase.MEASURE;
        super.channelRead(ctx, msg);
    }

    @Override
    protected void onReply(ByteBuf in, int index, int length, List<Object> out) {
        if (head == tail) {
            throw new RespProtocolException("a reply to no request");
        }
        int slot = (int) (head++ & mask);
        byte kind = flags[slot];
        byte type = in.getByte(index);
        boolean error = type == '-' || type == '!';
        stats.replies++;
        if ((kind & PREFILL) != 0) {
            if (error) {
                stats.prefillErrors++;
                stats.noteError(errorText(in, index, length));
            }
            return;
        }
        if ((kind & MEASURED) == 0 || !recording) {
            return;
        }
        stats.measuredReplies++;
        long latency = readNanos - sentAt[slot];
        if (error) {
            stats.errors++;
            stats.noteError(errorText(in, index, length));
        }
        if ((kind & READ) != 0) {
            stats.recordRead(latency);
            if (type == '$') {
                if (in.getByte(index + 1) == '-') {
                    stats.misses++; // $-1
                } else {
                    stats.hits++;
                }
            } else if (type == '_') {
                stats.misses++; // RESP3 null
            }
        } else {
            stats.recordWrite(latency);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (prefilling) {
            prefill();
        } else if (loading) {
            load();
        }
        stats.publish();
        super.channelReadComplete(ctx);
    }

    private void prefill() {
        int n = Math.min(PREFILL_DEPTH - inFlight(), prefillEnd - prefillNext);
        if (n > 0) {
            ByteBuf buf = ctx.alloc().ioBuffer(n * encoder.maxRequestBytes());
            long now = System.nanoTime();
            for (int i = 0; i < n; i++) {
                encoder.writeSet(buf, prefillNext++);
                push(now, PREFILL);
            }
            ctx.writeAndFlush(buf, ctx.voidPromise());
        }
        if (prefillNext == prefillEnd && inFlight() == 0) {
            prefilling = false;
            run.prefillDone();
        }
    }

    private void load() {
        Phase phase = run.phase();
        if (phase == Phase.DONE) {
            loading = false;
            return;
        }
        boolean measured = phase == Phase.MEASURE;
        int n = pipeline - inFlight();
        if (measured && quota >= 0) {
            n = (int) Math.min(n, quota);
            quota -= n;
        }
        if (n > 0) {
            send(n, measured ? MEASURED : 0);
        }
        if (measured && quota == 0 && inFlight() == 0 && !finished) {
            finished = true;
            loading = false;
            run.connectionFinished(System.nanoTime());
        }
    }

    private void send(int n, byte measured) {
        ByteBuf buf = ctx.alloc().ioBuffer(n * encoder.maxRequestBytes());
        try {
            for (int i = 0; i < n; i++) {
                int key = keys.next(random);
                if (random.nextDouble() < readRatio) {
                    encoder.writeGet(buf, key);
                    flags[(int) (tail & mask)] = (byte) (READ | measured);
                } else {
                    encoder.writeSet(buf, key);
                    flags[(int) (tail & mask)] = measured;
                }
                tail++;
            }
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        // One timestamp for the batch, taken last so encoding is not counted as latency.
        long now = System.nanoTime();
        for (long i = tail - n; i < tail; i++) {
            sentAt[(int) (i & mask)] = now;
        }
        ctx.writeAndFlush(buf, ctx.voidPromise());
    }

    private void push(long now, byte kind) {
        int slot = (int) (tail++ & mask);
        sentAt[slot] = now;
        flags[slot] = kind;
    }

    private static String errorText(ByteBuf in, int index, int length) {
        return in.toString(index + 1, Math.max(0, length - 3), StandardCharsets.UTF_8).replace("\r\n", " ").strip();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (run.phase() != Phase.DONE) {
            run.fail("the server closed a connection" + (inFlight() > 0 ? " with " + inFlight()
                    + " requests unanswered" : "") + (stats.firstError == null ? "" : " (first error reply: " + stats.firstError + ")"));
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        run.fail(root.getMessage() == null ? root.toString() : root.getMessage());
        ctx.close();
    }
}
