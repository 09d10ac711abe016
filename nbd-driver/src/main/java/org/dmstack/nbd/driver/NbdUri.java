package org.dmstack.nbd.driver;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnknownHostException;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import org.dmstack.nbd.protocol.Nbd;

/**
 * Where an export is, written as libnbd writes NBD URIs:
 * {@code nbd://host[:port]/[export]} over TCP (port 10809 unless given) and
 * {@code nbd+unix:///[export]?socket=PATH} over a Unix socket. The export name is the path without
 * its first slash, percent-decoded ({@code nbd://h/} is the default export ""). As libnbd does
 * (and doc/uri.md allows), a user name ({@code nbd://user@h/}) is ignored, being only for TLS
 * authentication, and so is a fragment ({@code #...}); any other query parameter is refused.
 *
 * @param host the server's host name or address, or null for a Unix socket
 * @param port the TCP port (0 for a Unix socket)
 * @param socket the Unix socket's path, or null for TCP
 * @param export the export name
 */
public record NbdUri(String host, int port, Path socket, String export) {
    public NbdUri {
        Objects.requireNonNull(export, "export");
        if ((host == null) == (socket == null)) throw new IllegalArgumentException("an NBD URI names either a host or a Unix socket");
        if (host != null && (port <= 0 || port > 65535)) throw new IllegalArgumentException("Invalid port " + port);
        if (export.indexOf('\0') >= 0 || export.getBytes(StandardCharsets.UTF_8).length > Nbd.MAX_STRING) {
            throw new IllegalArgumentException("Invalid export name: it must not hold NUL or be longer than " + Nbd.MAX_STRING + " bytes");
        }
    }

    /**
     * Parses an NBD URI.
     *
     * @throws IllegalArgumentException with a sentence that names the URI and what is wrong with it
     */
    public static NbdUri parse(String text) {
        String uri = Objects.requireNonNull(text, "uri").strip();
        int colon = uri.indexOf("://");
        if (colon < 0) throw invalid(uri, "expected nbd://host[:port]/export or nbd+unix:///export?socket=PATH");
        String scheme = uri.substring(0, colon);
        String rest = uri.substring(colon + 3);
        int hash = rest.indexOf('#');
        if (hash >= 0) rest = rest.substring(0, hash);
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        authority = authority.substring(authority.lastIndexOf('@') + 1);
        String export = slash < 0 ? "" : decode(uri, rest.substring(slash + 1));
        String socket = null;
        if (query != null && !query.isEmpty()) {
            for (String param : query.split("&")) {
                int eq = param.indexOf('=');
                String key = eq < 0 ? param : param.substring(0, eq);
                if (key.startsWith("tls-")) throw invalid(uri, "the parameter '" + key + "' is for TLS, which is not supported");
                if (!key.equals("socket")) throw invalid(uri, "the parameter '" + key + "' is not supported (only socket=PATH is)");
                socket = decode(uri, eq < 0 ? "" : param.substring(eq + 1));
            }
        }
        switch (scheme) {
            case "nbd" -> {
                if (socket != null) throw invalid(uri, "socket= belongs to nbd+unix:// URIs");
                return new NbdUri(host(uri, authority), port(uri, authority), null, export);
            }
            case "nbd+unix" -> {
                if (!authority.isEmpty()) throw invalid(uri, "an nbd+unix URI has no host (nbd+unix:///export?socket=PATH)");
                if (socket == null || socket.isEmpty()) throw invalid(uri, "an nbd+unix URI needs ?socket=PATH");
                if (socket.startsWith("\0")) throw invalid(uri, "sockets in the abstract namespace (socket=%00...) are not supported");
                return new NbdUri(null, 0, Path.of(socket), export);
            }
            case "nbds", "nbds+unix" -> throw invalid(uri, "TLS is not supported; use nbd:// or nbd+unix://");
            default -> throw invalid(uri, "unknown scheme '" + scheme + "' (expected nbd or nbd+unix)");
        }
    }

    private static String host(String uri, String authority) {
        String host;
        if (authority.startsWith("[")) {
            int end = authority.indexOf(']');
            if (end < 0) throw invalid(uri, "unclosed [ in the host");
            host = authority.substring(1, end);
        } else {
            int c = authority.indexOf(':');
            host = c < 0 ? authority : authority.substring(0, c);
        }
        if (host.isEmpty()) throw invalid(uri, "no host");
        return host;
    }

    private static int port(String uri, String authority) {
        int from = authority.startsWith("[") ? authority.indexOf(']') + 1 : 0;
        int c = authority.indexOf(':', from);
        if (c < 0) return Nbd.DEFAULT_PORT;
        try {
            int port = Integer.parseInt(authority.substring(c + 1));
            if (port > 0 && port <= 65535) return port;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid(uri, "invalid port '" + authority.substring(c + 1) + "'");
    }

    private static String decode(String uri, String part) {
        try {
            return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid(uri, "bad percent-encoding in '" + part + "'");
        }
    }

    private static String encode(String part) {
        return java.net.URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/");
    }

    private static IllegalArgumentException invalid(String uri, String why) {
        return new IllegalArgumentException("Invalid NBD URI '" + uri + "': " + why);
    }

    /** The address to connect to (resolving the host name now, so a changed DNS entry is followed). */
    SocketAddress address() throws UnknownHostException {
        if (socket != null) return UnixDomainSocketAddress.of(socket);
        InetSocketAddress address = new InetSocketAddress(host, port);
        // connect would throw UnresolvedAddressException, which says nothing
        if (address.isUnresolved()) throw new UnknownHostException("unknown host '" + host + "'");
        return address;
    }

    /** A new, unconnected channel of the right family. */
    SocketChannel openChannel() throws IOException {
        return socket != null ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
    }

    /** The URI in the form {@link #parse} reads. */
    @Override
    public String toString() {
        String path = "/" + encode(export);
        if (socket != null) return "nbd+unix://" + path + "?socket=" + encode(socket.toString()); // a # or & in it stays the socket's
        return "nbd://" + (host.contains(":") ? "[" + host + "]" : host) + (port == Nbd.DEFAULT_PORT ? "" : ":" + port) + path;
    }
}
