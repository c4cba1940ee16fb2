package dev.hull.rootless;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.HullCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rootless networks (issue 19): a rootless container's way out and published ports through a user-mode
 * stack (pasta by default, slirp4netns asked for by HULL_ROOTLESS_NETWORK), containers on a user's
 * network reaching each other by name through a bridge in the user's own network namespace, host ports
 * below net.ipv4.ip_unprivileged_port_start refused, and no stack left behind by rm. The user's
 * commands see a tun node of the test's own ({@link RootlessUser#useTun}): this host's is root's alone.
 */
class RootlessNetworkTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final RootlessUser.Fixture FIXTURE = new RootlessUser.Fixture("hulltest-rlnet");
    static RootlessUser user;

    @BeforeAll
    static void setUp() throws Exception {
        user = FIXTURE.user();
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/pasta")), "pasta is missing (Debian: passt)");
        user.useTun(FIXTURE.dir());
    }

    /** A free host port now (the kernel's pick; the stack binds it right after). */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** What a connection to the host's port (loopback or another address of the host) answers, once it listens. */
    private static String fetch(InetAddress host, int port) throws Exception {
        IOException last = null;
        for (int i = 0; i < 600; i++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 5000);
                s.setSoTimeout(60_000);
                s.getOutputStream().write("GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!reply.isEmpty()) {
                    return reply;
                }
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("nothing answers on " + host + ":" + port, last);
    }

    /**
     * What a container (run with env) reads from target:PORT (a shell word) while the test listens on
     * bind:PORT and answers word to the first connection: the word, or "" when nothing came in seconds.
     */
    private static String readFrom(Map<String, String> env, InetAddress bind, String target, String word,
            int seconds) throws Exception {
        try (ServerSocket host = new ServerSocket(0, 5, bind)) {
            Thread server = Thread.ofVirtual().start(() -> {
                try (Socket c = host.accept(); OutputStream o = c.getOutputStream()) {
                    o.write((word + "\n").getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // closed unanswered: the assertion says it
                }
            });
            // The reply is read as it comes, not up to the close: this pasta (Debian 12's, 2023-03) does not
            // always pass the host's close on to the container (README), so nc alone could wait for ever.
            HullCommand.Result r = user.hull(env, "run", "--rm", "busybox", "sh", "-c", "nc " + target + " "
                    + host.getLocalPort() + " </dev/null >/tmp/o & for i in $(seq " + seconds * 10 + "); do"
                    + " grep -q . /tmp/o && break; sleep 0.1; done; kill $! 2>/dev/null; head -n 1 /tmp/o");
            host.close();
            server.join();
            ok(r);
            return r.out().strip();
        }
    }

    private static void ok(HullCommand.Result r) {
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    /** A web server in a container: busybox httpd serving text as /index.html on port 80. */
    private static String[] httpd(String text) {
        return new String[] {"busybox", "sh", "-c", "mkdir /w && echo " + text + " > /w/index.html && exec httpd -f -p 80 -h /w"};
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void theWayOutAndAPublishedPortGoThroughPasta() throws Exception {
        HullCommand.Result r = user.hull("info");
        assertThat(r.out()).as(r.toString()).contains("network: pasta (/usr/bin/pasta)");
        assertThat(r.out()).contains("the host's loopback unreachable");
        // The host's loopback is not the container's to reach by default (podman's rule): what its gateway
        // address answers is the real gateway's, not a server on the host's 127.0.0.1 ...
        String word = "out-" + ProcessHandle.current().pid();
        String gateway = "$(ip route | awk '/^default/ {print $3}')";
        assertThat(readFrom(Map.of(), InetAddress.getLoopbackAddress(), gateway, word, 3)).isEmpty();
        // ... unless the user says so where it starts
        assertThat(readFrom(Map.of("HULL_ROOTLESS_HOST_LOOPBACK", "1"), InetAddress.getLoopbackAddress(), gateway,
                word, 60)).isEqualTo(word);
        // the way out: an address of the host's (on a bridge of this test's own) is reached through pasta
        String link = "rlo" + ProcessHandle.current().pid() % 100000;
        String address = "10.251." + ProcessHandle.current().pid() % 250 + ".1";
        ok(RootlessUser.run("ip", "link", "add", link, "type", "bridge"));
        try {
            ok(RootlessUser.run("ip", "addr", "add", address + "/24", "dev", link));
            ok(RootlessUser.run("ip", "link", "set", link, "up"));
            assertThat(readFrom(Map.of(), InetAddress.getByName(address), address, word, 60)).isEqualTo(word);
        } finally {
            RootlessUser.run("ip", "link", "del", link);
        }
        // a published port, on the host's loopback and on its other addresses, as the user's
        int port = freePort();
        String name = "rl-web-" + ProcessHandle.current().pid();
        ok(user.hull(concat(new String[] {"run", "-d", "--name", name, "-p", port + ":80"}, httpd("from-pasta"))));
        try {
            assertThat(fetch(InetAddress.getLoopbackAddress(), port)).endsWith("from-pasta\n");
            InetAddress other = java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces()).stream()
                    .filter(i -> !i.getName().equals("lo"))
                    .flatMap(i -> java.util.Collections.list(i.getInetAddresses()).stream())
                    .filter(a -> a instanceof java.net.Inet4Address).findFirst().orElse(null);
            if (other != null) {
                assertThat(fetch(other, port)).endsWith("from-pasta\n");
            }
            r = user.hull("port", name);
            assertThat(r.out()).as(r.toString()).isEqualTo("80/tcp -> 0.0.0.0:" + port + "\n");
            String id = user.hull("inspect", "--format", "{{.Id}}", name).out().strip();
            assertThat(stacksOf(id)).as("pasta of " + id).isNotEmpty();
            ok(user.hull("rm", "-f", name));
            assertThat(stacksOf(id)).as("pasta of " + id + " after rm").isEmpty();
            try (ServerSocket again = new ServerSocket()) {
                again.setReuseAddress(true);
                again.bind(new InetSocketAddress(port)); // the host port is free again
            }
        } finally {
            user.hull("rm", "-f", name);
        }
    }

    /** The container's network stacks: pasta or slirp4netns processes whose command line names it. */
    private static java.util.List<Long> stacksOf(String id) throws Exception {
        java.util.List<Long> pids = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            pids.clear();
            try (var procs = Files.list(Path.of("/proc"))) {
                for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                    try {
                        String cmd = Files.readString(p.resolve("cmdline"));
                        if (cmd.contains(id) && (cmd.startsWith("/usr/bin/pasta") || cmd.startsWith("/usr/bin/slirp4netns"))) {
                            pids.add(Long.parseLong(p.getFileName().toString()));
                        }
                    } catch (IOException e) {
                        // gone meanwhile
                    }
                }
            }
            if (pids.isEmpty()) {
                return pids;
            }
            Thread.sleep(50); // a stack that was killed may take a moment to be reaped
        }
        return pids;
    }

    @Test
    void containersOnAUsersNetworkReachEachOtherByName() throws Exception {
        String net = "rl-net-" + ProcessHandle.current().pid();
        String peer = "rl-peer-" + ProcessHandle.current().pid();
        ok(user.hull("network", "create", net));
        try {
            ok(user.hull(concat(new String[] {"run", "-d", "--name", peer, "--network", net}, httpd("from-peer"))));
            HullCommand.Result r = user.hull("run", "--rm", "--network", net, "busybox", "sh", "-c",
                    "for i in $(seq 100); do printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc " + peer
                            + " 80 | tail -n 1 | grep . && exit; sleep 0.2; done; exit 1");
            assertThat(r.out()).as(r.toString()).isEqualTo("from-peer\n");
        } finally {
            user.hull("rm", "-f", peer);
            ok(user.hull("network", "rm", net));
        }
    }

    @Test
    void aPortBelowTheUnprivilegedStartIsRefusedNamingTheSysctl() throws Exception {
        int start = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start"))
                .getFirst().strip());
        Assumptions.assumeTrue(start > 80, "this host lets users bind port 80 (ip_unprivileged_port_start " + start + ")");
        HullCommand.Result r = user.hull("run", "--rm", "-p", "80:80", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: rootless: -p 80:80: host port 80 is below"
                + " net.ipv4.ip_unprivileged_port_start (" + start + ")");
    }

    @Test
    void slirp4netnsServesWhenAskedFor() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/slirp4netns")), "slirp4netns is missing");
        Map<String, String> slirp = Map.of("HULL_ROOTLESS_NETWORK", "slirp4netns");
        int port = freePort();
        String name = "rl-slirp-" + ProcessHandle.current().pid();
        HullCommand.Result r = user.hull(slirp, concat(new String[] {"run", "-d", "--name", name, "-p", port + ":80"},
                httpd("from-slirp")));
        ok(r);
        String id = r.out().strip();
        try {
            assertThat(fetch(InetAddress.getLoopbackAddress(), port)).endsWith("from-slirp\n");
            r = user.hull(slirp, "exec", name, "sh", "-c", "ip -o -4 addr show tap0 | awk '{print $4}'");
            assertThat(r.out()).as(r.toString()).isEqualTo("10.0.2.100/24\n");
            assertThat(stacksOf(id)).as("slirp4netns of " + id).hasSize(1);
            // 10.0.2.2 leads to the host's loopback only when the user says so
            String word = "slirp-" + ProcessHandle.current().pid();
            assertThat(readFrom(slirp, InetAddress.getLoopbackAddress(), "10.0.2.2", word, 3)).isEmpty();
            assertThat(readFrom(Map.of("HULL_ROOTLESS_NETWORK", "slirp4netns", "HULL_ROOTLESS_HOST_LOOPBACK", "1"),
                    InetAddress.getLoopbackAddress(), "10.0.2.2", word, 60)).isEqualTo(word);
        } finally {
            ok(user.hull(slirp, "rm", "-f", name));
        }
        assertThat(stacksOf(id)).as("slirp4netns of " + id + " after rm").isEmpty();
    }
}
