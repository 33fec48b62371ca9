package io.cacheproxy.proxy.l1;

import io.cacheproxy.proxy.upstream.ReplySink;
import io.cacheproxy.proxy.upstream.UpstreamConnection;
import io.cacheproxy.resp.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * One read sent to fill L1: {@code CLIENT CACHING yes} (so the node tracks the key for this
 * connection, whose tracking is {@code OPTIN} and redirected to the node's {@link InvalidationLink}),
 * the client's read itself, and {@code PTTL key}, pipelined on the connection the read would have
 * taken anyway, so it keeps its place among the client's other commands. The read's reply goes to
 * the client at once; once the TTL is in, the reply is cached if the {@link NearCache.FillTicket}
 * still holds and the connection's tracking was confirmed for the link's current epoch.
 *
 * <p>Without tracking (only the broadcast channel, or neither), the read and PTTL are sent alone.
 *
 * <p>Confined to the connection's event loop.
 */
public final class Fill extends ReplySink.InPlace {
    private enum Phase { CACHING, READ, TTL, DONE }

    private static final byte[] PTTL = "PTTL".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CACHING_YES = "*3\r\n$6\r\nCLIENT\r\n$7\r\nCACHING\r\n$3\r\nyes\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final NearCache cache;
    private final NearCache.FillTicket ticket;
    private final ReplySink client;
    private final UpstreamConnection connection;
    /** The link epoch the connection's tracking must be confirmed for; -1 when tracking is off. */
    private final int linkEpoch;
    private Phase phase;
    private byte[] value;
    private boolean clientAnswered;
    /** The node refused CLIENT CACHING: the read is still answered, but its reply is not cached. */
    private boolean cachingRefused;

    private Fill(NearCache cache, NearCache.FillTicket ticket, ReplySink client, UpstreamConnection connection,
                 int linkEpoch) {
        this.cache = cache;
        this.ticket = ticket;
        this.client = client;
        this.connection = connection;
        this.linkEpoch = linkEpoch;
        this.phase = linkEpoch >= 0 ? Phase.CACHING : Phase.READ;
    }

    /**
     * Sends the fill of {@code ticket} on {@code connection}: takes ownership of {@code command} (the
     * client's read); {@code client} gets the read's reply, or its failure, exactly once.
     */
    public static void send(NearCache cache, NearCache.FillTicket ticket, UpstreamConnection connection,
                            ByteBuf command, ReplySink client) {
        InvalidationLink link = ticket.node().link();
        int linkEpoch = -1;
        if (link != null && link.tracking()) {
            linkEpoch = link.epoch();
            connection.ensureTracking(link.clientId(), linkEpoch);
        }
        Fill fill = new Fill(cache, ticket, client, connection, linkEpoch);
        byte[] key = ticket.key().bytes();
        ByteBuf pttl = ByteBufAllocator.DEFAULT.buffer(24 + key.length);
        RespWriter.writeCommand(pttl, PTTL, key);
        if (linkEpoch >= 0) {
            connection.send(Unpooled.wrappedBuffer(CACHING_YES), fill);
        }
        connection.send(command, fill);
        connection.send(pttl, fill);
    }

    @Override
    public void onReply(ByteBuf in, int index, int length) {
        switch (phase) {
            case CACHING -> {
                phase = Phase.READ;
                cachingRefused = isError(in, index);
            }
            case READ -> {
                phase = Phase.TTL;
                if (!isError(in, index) && !cachingRefused) {
                    value = new byte[length];
                    in.getBytes(index, value);
                }
                clientAnswered = true;
                client.onReply(in, index, length);
            }
            case TTL -> {
                phase = Phase.DONE;
                if (value != null && in.getByte(index) == ':' && trackingHeld()) {
                    cache.finishFill(ticket, value, parseInteger(in, index + 1));
                } else {
                    cache.abandonFill(ticket);
                }
            }
            case DONE -> throw new IllegalStateException("a fill takes three replies");
        }
    }

    /** Whether the connection's tracking was set up for the link's epoch, and the link still is. */
    private boolean trackingHeld() {
        if (linkEpoch < 0) {
            return true;
        }
        InvalidationLink link = ticket.node().link();
        return connection.trackingEpoch() == linkEpoch && link.epoch() == linkEpoch && link.isUp();
    }

    @Override
    public void onFailure(String error) {
        if (phase != Phase.DONE) {
            cache.abandonFill(ticket);
        }
        phase = Phase.DONE;
        if (!clientAnswered) {
            clientAnswered = true;
            client.onFailure(error);
        }
    }

    @Override
    public long deadlineNanos() {
        return client.deadlineNanos();
    }

    private static boolean isError(ByteBuf buf, int index) {
        byte type = buf.getByte(index);
        return type == '-' || type == '!';
    }

    /** The integer at {@code buf[index…]} up to CR; Long.MIN_VALUE if it is not one. */
    static long parseInteger(ByteBuf buf, int index) {
        boolean negative = buf.getByte(index) == '-';
        int i = negative ? index + 1 : index;
        long v = 0;
        int digits = 0;
        byte b;
        while ((b = buf.getByte(i)) != '\r') {
            if (b < '0' || b > '9' || ++digits > 18) {
                return Long.MIN_VALUE;
            }
            v = v * 10 + (b - '0');
            i++;
        }
        return digits == 0 ? Long.MIN_VALUE : negative ? -v : v;
    }
}
