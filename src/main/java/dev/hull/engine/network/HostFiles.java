package dev.hull.engine.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The container's /etc/hosts, /etc/hostname and /etc/resolv.conf: files in its directory,
 * bind-mounted over the image's. They are rewritten in place (same inode: the bind mount keeps
 * pointing at it) when the container starts and when peers on its networks come and go.
 */
public final class HostFiles {
    public static final String HOSTS = "hosts", HOSTNAME = "hostname", RESOLV = "resolv.conf";
    static final Path HOST_RESOLV = Path.of("/etc/resolv.conf");
    static final Path RESOLVED_UPSTREAM = Path.of("/run/systemd/resolve/resolv.conf");

    private HostFiles() {}

    /** A peer as another container's /etc/hosts names it. */
    public record Peer(String ip, List<String> names) {}

    /** /etc/hosts: localhost, the container's own addresses and name, --add-host lines, then peers. */
    public static String hosts(String hostname, List<String> ownIps, List<String> addHosts, List<Peer> peers,
            boolean hostNetwork) throws IOException {
        StringBuilder b = new StringBuilder();
        if (hostNetwork) {
            try {
                b.append(Files.readString(Path.of("/etc/hosts")));
                if (!b.isEmpty() && b.charAt(b.length() - 1) != '\n') {
                    b.append('\n');
                }
            } catch (NoSuchFileException e) {
                b.append("127.0.0.1\tlocalhost\n");
            }
        } else {
            b.append("127.0.0.1\tlocalhost\n");
            b.append("::1\tlocalhost ip6-localhost ip6-loopback\n");
            b.append("fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
        }
        for (String h : addHosts) {
            int c = h.indexOf(':');
            b.append(h.substring(c + 1)).append('\t').append(h, 0, c).append('\n');
        }
        for (String ip : ownIps) {
            b.append(ip).append('\t').append(hostname).append('\n');
        }
        for (Peer p : peers) {
            b.append(p.ip()).append('\t').append(String.join(" ", p.names())).append('\n');
        }
        return b.toString();
    }

    private static final java.util.regex.Pattern NAME =
            java.util.regex.Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})");
    private static final java.util.regex.Pattern IPV6 = java.util.regex.Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    /** A host name (one word of letters, digits, '.', '-', '_'): nothing else may reach a hosts file. */
    public static String checkName(String name, String flag) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(flag + " " + name.replace("\n", "\\n")
                    + ": a host name is letters, digits, '.', '-' and '_' (up to 253)");
        }
        return name;
    }

    /** An IPv4 address, or an IPv6 one written as it is. */
    public static String checkAddress(String ip, String flag) {
        if (ip.contains(":")) {
            if (!IPV6.matcher(ip).matches()) {
                throw new IllegalArgumentException(flag + " " + ip.replace("\n", "\\n") + ": not an IP address");
            }
            return ip;
        }
        try {
            Subnet.parseIp(ip);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " " + e.getMessage());
        }
        return ip;
    }

    /** --add-host NAME:IP (IP may be host-gateway), checked. */
    public static String checkAddHost(String h) {
        int c = h.indexOf(':');
        if (c <= 0 || c == h.length() - 1) {
            throw new IllegalArgumentException("--add-host " + h + ": use NAME:IP");
        }
        checkName(h.substring(0, c), "--add-host");
        String ip = h.substring(c + 1);
        if (!ip.equals("host-gateway")) {
            checkAddress(ip, "--add-host " + h.substring(0, c) + ":");
        }
        return h;
    }

    /**
     * /etc/resolv.conf: --dns/--dns-search/--dns-option where given, the rest from the host's. In
     * its own network namespace the container cannot reach the host's loopback resolvers (a
     * systemd-resolved stub, a local dnsmasq): those are dropped, and with none left it gets
     * docker's fallback, 8.8.8.8 and 8.8.4.4.
     */
    public static String resolvConf(List<String> dns, List<String> search, List<String> options, boolean hostNetwork)
            throws IOException {
        List<String> servers = new ArrayList<>();
        List<String> hostSearch = new ArrayList<>();
        List<String> hostOptions = new ArrayList<>();
        Path src = HOST_RESOLV;
        String text = read(src);
        if (!hostNetwork && text.contains("127.0.0.53") && Files.isReadable(RESOLVED_UPSTREAM)) {
            text = read(RESOLVED_UPSTREAM);
        }
        for (String line : text.split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length < 2 || w[0].startsWith("#") || w[0].startsWith(";")) {
                continue;
            }
            switch (w[0]) {
                case "nameserver" -> {
                    if (hostNetwork || !(w[1].startsWith("127.") || w[1].equals("::1"))) {
                        servers.add(w[1]);
                    }
                }
                case "search", "domain" -> hostSearch.addAll(List.of(w).subList(1, w.length));
                case "options" -> hostOptions.addAll(List.of(w).subList(1, w.length));
                default -> { }
            }
        }
        if (!dns.isEmpty()) {
            servers = dns;
        } else if (servers.isEmpty() && !hostNetwork) {
            servers = List.of("8.8.8.8", "8.8.4.4");
        }
        StringBuilder b = new StringBuilder();
        List<String> s = search.isEmpty() ? hostSearch : search;
        if (!s.isEmpty() && !(s.size() == 1 && s.getFirst().equals("."))) {
            b.append("search ").append(String.join(" ", s)).append('\n');
        }
        for (String ns : servers) {
            b.append("nameserver ").append(ns).append('\n');
        }
        List<String> o = options.isEmpty() ? hostOptions : options;
        if (!o.isEmpty()) {
            b.append("options ").append(String.join(" ", o)).append('\n');
        }
        return b.toString();
    }

    private static String read(Path p) throws IOException {
        try {
            return Files.readString(p);
        } catch (NoSuchFileException e) {
            return "";
        }
    }

    /** Rewrites file in place (truncate + write: the same inode, which a bind mount pins). */
    public static void write(Path file, String content) throws IOException {
        Files.writeString(file, content);
    }
}
