package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.proxy.tracking.ClientTracking;
import io.cacheproxy.proxy.tracking.TrackingOptions;
import io.cacheproxy.resp.RespReplies;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespWriter;
import io.cacheproxy.routing.CommandSpec;
import io.netty.buffer.ByteBuf;
import java.util.Locale;
import java.util.Set;

/**
 * CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO: client-side caching through the proxy (see
 * {@link ClientTracking}), with Redis's replies and error texts. {@code CLIENT TRACKING on} is
 * answered once every invalidation link hears of every key's change; the client's reading pauses
 * until then, so no read of it is remembered before changes can be heard.
 */
final class TrackingCommands {
    private static final Set<String> NAMES = Set.of("client|tracking", "client|caching", "client|getredir",
            "client|trackinginfo");

    private final ProxyContext proxy;

    TrackingCommands(ProxyContext proxy) {
        this.proxy = proxy;
    }

    static boolean handles(CommandSpec spec) {
        return NAMES.contains(spec.name());
    }

    /** Answers {@code request}, which it releases, by completing {@code pending} (maybe later). */
    void answer(ClientHandler client, ClientSession session, RespRequest request, CommandSpec spec, PendingReply pending) {
        try {
            ByteBuf reply = client.channel().alloc().buffer(64);
            String error = switch (spec.name()) {
                case "client|tracking" -> tracking(client, session, request, pending, reply);
                case "client|caching" -> caching(session, request, reply);
                case "client|getredir" -> {
                    TrackingOptions t = session.tracking;
                    RespWriter.writeInteger(reply, t == null ? -1 : t.shownRedirect());
                    yield null;
                }
                default -> {
                    trackingInfo(session, reply);
                    yield null;
                }
            };
            if (error != null) {
                reply.clear();
                RespWriter.writeError(reply, error);
            }
            if (reply.isReadable()) {
                client.complete(pending, reply);
            } else {
                reply.release();        // answered later
            }
        } finally {
            request.release();
        }
    }

    private String tracking(ClientHandler client, ClientSession session, RespRequest request, PendingReply pending,
                            ByteBuf reply) {
        ClientTracking tracking = proxy.clientTracking();
        TrackingOptions.Parsed parsed = TrackingOptions.parse(request);
        if (parsed.error() != null) {
            return parsed.error();
        }
        if (!parsed.on()) {
            tracking.disable(session.id);
            session.tracking = null;
            session.cachingNext = null;
            reply.writeBytes(RespReplies.OK.duplicate());
            return null;
        }
        String refused = tracking.check(session.id, parsed.options());
        if (refused != null) {
            return refused;
        }
        client.channel().config().setAutoRead(false);
        String unavailable = proxy.nearCache().trackAllKeys(() -> client.channel().eventLoop().execute(() -> {
            client.channel().config().setAutoRead(true);
            client.complete(pending, RespReplies.OK.duplicate());
        }));
        if (unavailable != null) {
            client.channel().config().setAutoRead(true);
            return unavailable;
        }
        session.tracking = tracking.enable(session.id, parsed.options());
        return null;
    }

    /** CLIENT CACHING yes|no, with Redis's checks in its order. */
    private static String caching(ClientSession session, RespRequest request, ByteBuf reply) {
        TrackingOptions t = session.tracking;
        if (t == null) {
            return "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
                    + "OPTOUT mode enabled";
        }
        String value = request.argString(2).toLowerCase(Locale.ROOT);
        if (value.equals("yes")) {
            if (!t.optin()) {
                return "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
            }
            session.cachingNext = Boolean.TRUE;
        } else if (value.equals("no")) {
            if (!t.optout()) {
                return "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";
            }
            session.cachingNext = Boolean.FALSE;
        } else {
            return "ERR syntax error";
        }
        reply.writeBytes(RespReplies.OK.duplicate());
        return null;
    }

    private void trackingInfo(ClientSession session, ByteBuf out) {
        TrackingOptions t = session.tracking;
        java.util.List<String> flags = new java.util.ArrayList<>();
        if (t == null) {
            flags.add("off");
        } else {
            flags.add("on");
            if (t.bcast()) {
                flags.add("bcast");
            }
            if (t.optin()) {
                flags.add("optin");
            }
            if (t.optout()) {
                flags.add("optout");
            }
            if (session.cachingNext != null) {
                flags.add(session.cachingNext ? "caching-yes" : "caching-no");
            }
            if (t.noloop()) {
                flags.add("noloop");
            }
            if (proxy.clientTracking().redirectBroken(session.id)) {
                flags.add("broken_redirect");
            }
        }
        RespWriter.writeMapHeader(out, session.protocol, 3);
        RespWriter.writeBulk(out, "flags");
        RespWriter.writeSetHeader(out, session.protocol, flags.size());
        for (String flag : flags) {
            RespWriter.writeBulk(out, flag);
        }
        RespWriter.writeBulk(out, "redirect");
        RespWriter.writeInteger(out, t == null ? -1 : t.shownRedirect());
        RespWriter.writeBulk(out, "prefixes");
        if (t == null) {
            RespWriter.writeArrayHeader(out, 0);
        } else {
            RespWriter.writeArrayHeader(out, t.prefixes().size());
            for (byte[] prefix : t.prefixes()) {
                RespWriter.writeBulk(out, prefix);
            }
        }
    }
}
