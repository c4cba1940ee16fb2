package dev.hull.engine.network;

import dev.hull.linux.LinuxException;
import dev.hull.linux.net.Netlink;
import dev.hull.linux.net.NetworkNamespaces;
import dev.hull.linux.net.Nftables;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A rootless container's network (issue 19), where the engine has no host network to change: it is
 * root of the user's namespace only, in the host's network namespace.
 * <ul>
 * <li>The bridges of the user's networks (the default one too) live in one network namespace of the
 * user's, {@code HULL_STATE/netns/bridges} (made on first use, ends with the user's namespace), where
 * {@link Networking} makes them and the containers' veths exactly as for root: containers on a network
 * reach each other by name through it. It has no way out and needs no NAT rules.</li>
 * <li>The way out and the published ports of each container: a user-mode network stack attached to the
 * container's own namespace as {@code tap0} (with the default route), as rootless podman does: pasta
 * (Debian's passt; {@code -t HOST:CONTAINER} per published port, listening on the host as the user) or
 * slirp4netns (ports added through its API socket). It runs as the user, outside the container, and
 * ends with the container's network namespace (pasta sees the bind mount go; slirp4netns is ended by
 * {@link #stop}).</li>
 * </ul>
 */
public final class UserModeNetwork {
    /** The user-mode stacks, best first: the program and the Debian package that has it. */
    public enum Tool {
        PASTA("/usr/bin/pasta", "passt"),
        SLIRP4NETNS("/usr/bin/slirp4netns", "slirp4netns");

        public final Path binary;
        public final String pkg;

        Tool(String binary, String pkg) {
            this.binary = Path.of(binary);
            this.pkg = pkg;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The container's interface to the stack. */
    static final String IFNAME = "tap0";
    private static final String PID_FILE = "netstack.pid";
    private static final String LOG_FILE = "netstack.log";
    private static final Path UNPRIVILEGED_PORT_START = Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start");

    private final Tool tool;
    private final Path bridges;
    /** slirp4netns's API sockets (a socket's path must be short: 107 bytes): HULL_STATE/slirp4netns/ID. */
    private final Path apis;

    public UserModeNetwork(Tool tool, Path stateRoot) {
        this.tool = tool;
        this.bridges = stateRoot.resolve("netns").resolve("bridges");
        this.apis = stateRoot.resolve("slirp4netns");
    }

    public Tool tool() {
        return tool;
    }

    /**
     * A netlink socket on the namespace of the user's bridges, made now if missing (first use, or a
     * file left by a namespace of the user's that is gone: its bind mount went with it).
     */
    Netlink openBridges() throws IOException, LinuxException {
        try {
            return Netlink.openIn(bridges);
        } catch (LinuxException e) {
            NetworkNamespaces.remove(bridges); // a plain file (the mount is gone): setns refuses it
            NetworkNamespaces.create(bridges);
            return Netlink.openIn(bridges);
        }
    }

    /** Host ports below net.ipv4.ip_unprivileged_port_start are refused: the user cannot bind them. */
    static void checkPorts(List<PortSpec> ports) throws RuntimeError {
        int start;
        try {
            // one read of a whole buffer: a sysctl answers nothing past offset 0 (Files.readString would see "1")
            start = Integer.parseInt(Files.readAllLines(UNPRIVILEGED_PORT_START).getFirst().trim());
        } catch (IOException | NumberFormatException e) {
            start = 1024;
        }
        for (PortSpec p : ports) {
            if (p.hostPort() != 0 && p.hostPort() < start) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "rootless: -p " + p.hostPort() + ":"
                        + p.containerPort() + ": host port " + p.hostPort() + " is below net.ipv4.ip_unprivileged_port_start"
                        + " (" + start + "), so an ordinary user cannot listen on it (an administrator may lower it:"
                        + " sysctl net.ipv4.ip_unprivileged_port_start=" + p.hostPort() + ")");
            }
        }
    }

    /**
     * Attaches the stack to the container's namespace netns (tap0, its address and default route),
     * forwarding the host ports of ports to the container's; dir: the container's directory (pid, log).
     */
    void start(Path netns, List<Nftables.PortMapping> ports, Path dir) throws IOException {
        stop(dir, apis);
        Path log = dir.resolve(LOG_FILE);
        Path pidFile = dir.resolve(PID_FILE);
        if (tool == Tool.PASTA) {
            List<String> cmd = new ArrayList<>(List.of(tool.binary.toString(), "--config-net", "--quiet", "-I", IFNAME,
                    "-t", forwards(ports, "tcp"), "-u", forwards(ports, "udp"), "-T", "none", "-U", "none",
                    "--netns", netns.toString(), "-P", pidFile.toString(), "-l", log.toString()));
            if (!hostLoopback()) {
                cmd.add("--no-map-gw"); // the gateway is the real one, not the host's loopback
            }
            // pasta configures the namespace, then goes to the background (the pid file) and returns
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            int rc = waitFor(p);
            if (rc != 0 || !Files.exists(pidFile)) {
                throw new IOException("pasta (the container's way out) failed (exit " + rc + "): " + tail(log));
            }
            return;
        }
        dev.hull.linux.SecureDirs.ensure(apis, dev.hull.linux.SecureDirs.PRIVATE);
        Path api = apis.resolve(dir.getFileName().toString());
        Files.deleteIfExists(api);
        List<String> cmd = new ArrayList<>(List.of(tool.binary.toString(), "--configure", "--mtu=65520",
                "--netns-type=path", "--api-socket", api.toString()));
        if (!hostLoopback()) {
            cmd.add("--disable-host-loopback"); // 10.0.2.2 does not lead to the host's 127.0.0.1
        }
        cmd.addAll(List.of(netns.toString(), IFNAME));
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Files.writeString(pidFile, Long.toString(p.pid()));
        // ready once its API socket answers (it is made after tap0 is configured)
        while (!Files.exists(api)) {
            if (!p.isAlive()) {
                throw new IOException("slirp4netns (the container's way out) failed (exit " + p.exitValue() + "): "
                        + tail(log));
            }
            sleep();
        }
        for (Nftables.PortMapping m : ports) {
            String reply = slirpApi(api, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"" + m.protocol()
                    + "\",\"host_addr\":\"" + (m.hostIp() == null ? "0.0.0.0" : m.hostIp()) + "\",\"host_port\":"
                    + m.hostPort() + ",\"guest_port\":" + m.containerPort() + "}}");
            if (!reply.contains("\"return\"")) {
                throw new IOException("slirp4netns: publishing " + m.hostPort() + "/" + m.protocol() + ": " + reply.trim());
            }
        }
    }

    /**
     * Whether the container may reach what listens on the host's loopback (its gateway address leading
     * there): only when HULL_ROOTLESS_HOST_LOOPBACK=1 where it starts. Off by default, as podman's: a
     * database or an admin port bound to 127.0.0.1 is the user's, not every container's.
     */
    public static boolean hostLoopback() {
        return "1".equals(dev.hull.runtime.Caller.getenv("HULL_ROOTLESS_HOST_LOOPBACK"));
    }

    /** pasta's -t/-u: none, or ADDR/HOST:CONTAINER,... for the mappings of protocol. */
    private static String forwards(List<Nftables.PortMapping> ports, String protocol) {
        List<String> out = new ArrayList<>();
        for (Nftables.PortMapping m : ports) {
            if (m.protocol().equals(protocol)) {
                out.add((m.hostIp() == null ? "" : m.hostIp() + "/") + m.hostPort() + ":" + m.containerPort());
            }
        }
        return out.isEmpty() ? "none" : String.join(",", out);
    }

    /** One request to slirp4netns's API socket, its reply (it answers, then closes). */
    private static String slirpApi(Path api, String request) throws IOException {
        try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(api))) {
            ch.write(java.nio.ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            ch.shutdownOutput();
            return new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * Ends the container's stack if it still runs: the pid in dir when that process is the stack of
     * this container (its command line names dir's pid file or the container's namespace).
     */
    void stop(Path dir) throws IOException {
        stop(dir, apis);
    }

    private static void stop(Path dir, Path apis) throws IOException {
        Path pidFile = dir.resolve(PID_FILE);
        String pid;
        try {
            pid = Files.readString(pidFile).trim();
        } catch (NoSuchFileException e) {
            return;
        }
        try {
            String cmdline = Files.readString(Path.of("/proc", pid, "cmdline")).replace('\0', ' ');
            String id = dir.getFileName().toString();
            if (cmdline.contains(pidFile.toString()) || cmdline.contains("/netns/" + id)) {
                ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (IOException | NumberFormatException e) {
            // gone already
        }
        Files.deleteIfExists(pidFile);
        Files.deleteIfExists(apis.resolve(dir.getFileName().toString()));
    }

    private static int waitFor(Process p) throws IOException {
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static void sleep() throws IOException {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.startsWith("Failed to send")).toList();
            return String.join("; ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
