package io.cacheproxy.proxy.server;

import io.cacheproxy.proxy.ErrorReplies;
import io.cacheproxy.proxy.ProxyContext;
import io.cacheproxy.resp.RespReplies;
import io.cacheproxy.resp.RespRequest;
import io.cacheproxy.resp.RespVersion;
import io.cacheproxy.resp.RespWriter;
import io.cacheproxy.routing.CommandSpec;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Locale;

/**
 * The commands the proxy answers from the client's {@link ClientSession} instead of a backend:
 * PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT and CLIENT ID/GETNAME/SETNAME/SETINFO/INFO/REPLY/….
 * Replies match Redis 7's byte for byte where the content does not depend on the server (for HELLO
 * and CLIENT INFO it necessarily does: ids, addresses).
 */
final class ConnectionCommands {
    private static final List<String> CLIENT_HELP = List.of(
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GETNAME", "    Return the name of the current connection.",
            "ID", "    Return the ID of the current connection.",
            "INFO", "    Return information about the current client connection.",
            "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
            "SETNAME <name>", "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>", "    Set client meta attr. Options are LIB-NAME and LIB-VER.",
            "HELP", "    Print this help.");

    private final ProxyContext proxy;

    ConnectionCommands(ProxyContext proxy) {
        this.proxy = proxy;
    }

    /** Answers {@code request}, which it releases, by completing {@code pending}. */
    void answer(ClientHandler client, ClientSession session, RespRequest request, CommandSpec spec, PendingReply pending) {
        try {
            ByteBuf reply = client.channel().alloc().buffer(64);
            String error = answer(client, session, request, spec, pending, reply);
            if (error != null) {
                reply.clear();
                RespWriter.writeError(reply, error);
            }
            client.complete(pending, reply);
        } finally {
            request.release();
        }
    }

    /** Writes the reply to {@code out}, or returns an error text. */
    private String answer(ClientHandler client, ClientSession session, RespRequest request, CommandSpec spec,
                          PendingReply pending, ByteBuf out) {
        int argc = request.argCount();
        switch (spec.name()) {
            case "ping" -> {
                if (argc > 2) {
                    return ErrorReplies.wrongArity("ping");
                }
                if (argc == 1) {
                    copy(out, RespReplies.PONG);
                } else {
                    RespWriter.writeBulk(out, request.arg(1));
                }
            }
            case "echo" -> RespWriter.writeBulk(out, request.arg(1));
            case "quit" -> {
                copy(out, RespReplies.OK);
                client.closeAfter(pending);
            }
            case "reset" -> {
                session.reset(proxy.authRequired());
                proxy.clientTracking().disable(session.id);
                client.resetConnections();
                RespWriter.writeSimpleString(out, "RESET");
            }
            case "select" -> {
                long db;
                try {
                    db = request.argLong(1);
                } catch (NumberFormatException e) {
                    return ErrorReplies.NOT_AN_INTEGER;
                }
                if (db != 0) {
                    return ErrorReplies.DB_INDEX_OUT_OF_RANGE;
                }
                copy(out, RespReplies.OK);
            }
            case "auth" -> {
                if (argc > 3) {
                    return ErrorReplies.SYNTAX;
                }
                String user = argc == 3 ? request.argString(1) : "default";
                String password = request.argString(argc - 1);
                String error = authenticate(session, user, password, argc == 2);
                if (error != null) {
                    return error;
                }
                copy(out, RespReplies.OK);
            }
            case "hello" -> {
                return hello(client, session, request, out);
            }
            case "client" -> {
                if (argc == 1) {
                    return ErrorReplies.wrongArity("client");
                }
                return ErrorReplies.unknownSubcommand(request.argString(1), "client");
            }
            case "client|id" -> RespWriter.writeInteger(out, session.id);
            case "client|getname" -> {
                if (session.name == null) {
                    RespWriter.writeNull(out, session.protocol);
                } else {
                    RespWriter.writeBulk(out, session.name);
                }
            }
            case "client|setname" -> {
                String name = request.argString(2);
                if (!validName(name)) {
                    return ErrorReplies.CLIENT_NAME_INVALID;
                }
                session.name = name.isEmpty() ? null : name;
                copy(out, RespReplies.OK);
            }
            case "client|setinfo" -> {
                String attribute = request.argString(2).toLowerCase(Locale.ROOT);
                String value = request.argString(3);
                if (!attribute.equals("lib-name") && !attribute.equals("lib-ver")) {
                    return "ERR Unrecognized option '" + request.argString(2) + "'";
                }
                if (!validName(value)) {
                    return "ERR " + attribute + " cannot contain spaces, newlines or special characters.";
                }
                if (attribute.equals("lib-name")) {
                    session.libName = value;
                } else {
                    session.libVersion = value;
                }
                copy(out, RespReplies.OK);
            }
            case "client|info" -> RespWriter.writeVerbatim(out, session.protocol, "txt", clientInfo(client, session));
            case "client|reply" -> {
                String mode = request.argString(2).toLowerCase(Locale.ROOT);
                switch (mode) {
                    case "on" -> {
                        session.replyMode = ClientSession.ReplyMode.ON;
                        pending.silent = false;
                        copy(out, RespReplies.OK);
                    }
                    case "off", "skip" -> {
                        session.replyMode = mode.equals("off") ? ClientSession.ReplyMode.OFF : ClientSession.ReplyMode.SKIP;
                        pending.silent = true;
                        copy(out, RespReplies.OK);
                    }
                    default -> {
                        return ErrorReplies.SYNTAX;
                    }
                }
            }
            case "client|no-touch" -> copy(out, RespReplies.OK);
            case "client|help" -> {
                RespWriter.writeArrayHeader(out, CLIENT_HELP.size());
                for (String line : CLIENT_HELP) {
                    RespWriter.writeSimpleString(out, line);
                }
            }
            default -> {
                return "ERR the proxy does not handle '" + spec.displayName() + "'";
            }
        }
        return null;
    }

    /** AUTH: null on success, else the error reply. */
    private String authenticate(ClientSession session, String user, String password, boolean passwordOnly) {
        if (!proxy.authRequired()) {
            if (passwordOnly) {
                return ErrorReplies.AUTH_WITHOUT_PASSWORD;
            }
            if (!user.equals("default")) {
                return ErrorReplies.WRONGPASS;
            }
            return null;
        }
        if (!proxy.checkPassword(user, password)) {
            return ErrorReplies.WRONGPASS;
        }
        session.authenticated = true;
        session.user = user;
        return null;
    }

    /** HELLO [protover [AUTH user pass] [SETNAME name]]. */
    private String hello(ClientHandler client, ClientSession session, RespRequest request, ByteBuf out) {
        int argc = request.argCount();
        RespVersion protocol = session.protocol;
        if (argc >= 2) {
            long version;
            try {
                version = request.argLong(1);
            } catch (NumberFormatException e) {
                return "ERR Protocol version is not an integer or out of range";
            }
            if (version != 2 && version != 3) {
                return ErrorReplies.NOPROTO;
            }
            protocol = version == 3 ? RespVersion.RESP3 : RespVersion.RESP2;
        }
        String user = null;
        String password = null;
        String name = null;
        for (int i = 2; i < argc; i++) {
            boolean more = i + 1 < argc;
            if (request.argEqualsIgnoreCase(i, AUTH) && i + 2 < argc) {
                user = request.argString(i + 1);
                password = request.argString(i + 2);
                i += 2;
            } else if (request.argEqualsIgnoreCase(i, SETNAME) && more) {
                name = request.argString(i + 1);
                if (!validName(name)) {
                    return ErrorReplies.CLIENT_NAME_INVALID;
                }
                i += 1;
            } else {
                return "ERR Syntax error in HELLO option '" + request.argString(i) + "'";
            }
        }
        if (user != null) {
            String error = authenticate(session, user, password, false);
            if (error != null) {
                return error;
            }
        }
        if (!session.authenticated) {
            return "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
                    + "<proto> AUTH <user> <pass> option can be used to authenticate the client and select "
                    + "the RESP protocol version at the same time";
        }
        if (protocol != session.protocol) {
            session.protocol = protocol;
            client.resetConnections();   // dedicated connections speak the old protocol
        }
        if (name != null) {
            session.name = name.isEmpty() ? null : name;
        }
        RespWriter.writeMapHeader(out, protocol, 7);
        RespWriter.writeBulk(out, "server");
        RespWriter.writeBulk(out, "redis");
        RespWriter.writeBulk(out, "version");
        RespWriter.writeBulk(out, proxy.serverVersion());
        RespWriter.writeBulk(out, "proto");
        RespWriter.writeInteger(out, protocol == RespVersion.RESP3 ? 3 : 2);
        RespWriter.writeBulk(out, "id");
        RespWriter.writeInteger(out, session.id);
        RespWriter.writeBulk(out, "mode");
        RespWriter.writeBulk(out, "standalone");
        RespWriter.writeBulk(out, "role");
        RespWriter.writeBulk(out, "master");
        RespWriter.writeBulk(out, "modules");
        RespWriter.writeArrayHeader(out, 0);
        return null;
    }

    private static String clientInfo(ClientHandler client, ClientSession session) {
        long now = System.currentTimeMillis();
        return "id=" + session.id
                + " addr=" + address(client.channel().remoteAddress())
                + " laddr=" + address(client.channel().localAddress())
                + " fd=-1 name=" + (session.name == null ? "" : session.name)
                + " age=" + (now - session.createdAtMillis) / 1000
                + " idle=" + (now - session.lastCommandAtMillis) / 1000
                + " flags=" + (session.inMulti ? "x" : "N")
                + " db=0 sub=0 psub=0 ssub=0 multi=" + (session.inMulti ? 0 : -1)
                + " user=" + (session.user == null ? "default" : session.user)
                + " redir=-1 resp=" + (session.protocol == RespVersion.RESP3 ? 3 : 2)
                + " lib-name=" + (session.libName == null ? "" : session.libName)
                + " lib-ver=" + (session.libVersion == null ? "" : session.libVersion)
                + "\n";
    }

    private static String address(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return inet.getAddress().getHostAddress() + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    /** Redis allows names of printable ASCII without spaces (33..126). */
    private static boolean validName(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '!' || c > '~') {
                return false;
            }
        }
        return true;
    }

    private static void copy(ByteBuf out, ByteBuf constant) {
        out.writeBytes(constant, constant.readerIndex(), constant.readableBytes());
    }

    private static final byte[] AUTH = {'A', 'U', 'T', 'H'};
    private static final byte[] SETNAME = {'S', 'E', 'T', 'N', 'A', 'M', 'E'};
}
