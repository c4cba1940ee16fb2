package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.engine.network.NetworkInfo;
import dev.hull.engine.network.NetworkState;
import dev.hull.engine.network.OwnedLeases;
import dev.hull.linux.Syscalls;
import dev.hull.linux.net.Netlink;
import dev.hull.linux.net.Nftables;
import dev.hull.testing.HostLock;
import dev.hull.testing.OwnedMounts;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Container networking against the real kernel: bridges, veths, addresses, nftables NAT and
 * published ports, names. A network namespace with its own veth to the host plays a remote
 * client/server (192.168.231.2, the host is .1). The default network of this test's Hull home is
 * bridge hulltb0 on 10.231.0.0/24 (not hull0), so it stays out of the way of a real Hull.
 */
class NetworkTest {
    static final String REMOTE = "hulltr";
    static final Path REMOTE_NS = Path.of("/run/netns", REMOTE);
    static final String BRIDGE = "hulltb0";
    static final String PAGE = "hello from the container\n";
    static Flags f;
    static Path www;
    static Path remoteWww;
    static Process remoteServer;
    final List<String> networks = new ArrayList<>();
    /**
     * This test's fixed host-wide names (bridge hulltb0, netns hulltr, its subnets and host ports)
     * are its own only while it holds this: another run of it on the host waits.
     */
    static HostLock names;

    @BeforeAll
    static void setUp() throws Exception {
        names = HostLock.exclusive("NetworkTest");
        f = new Flags("network");
        f.engine.networking().store().defineDefault(BRIDGE, "10.231.0.0/24");
        www = Files.createDirectories(f.dir.resolve("www"));
        Files.writeString(www.resolve("index.html"), PAGE);
        removeRemote();
        removeStaleBridges();
        sh("ip", "netns", "add", REMOTE);
        try (Netlink nl = Netlink.open()) {
            int fd = Syscalls.open(REMOTE_NS.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                nl.createVeth("hulltrh", "hulltrr", fd);
            } finally {
                Syscalls.close(fd);
            }
            nl.addAddress("hulltrh", (java.net.Inet4Address) java.net.InetAddress.getByName("192.168.231.1"), 24);
            nl.setUp("hulltrh", true);
        }
        try (Netlink in = Netlink.openIn(REMOTE_NS)) {
            in.setUp("lo", true);
            in.addAddress("hulltrr", (java.net.Inet4Address) java.net.InetAddress.getByName("192.168.231.2"), 24);
            in.setUp("hulltrr", true);
            in.addDefaultRoute((java.net.Inet4Address) java.net.InetAddress.getByName("192.168.231.1"));
        }
        // The remote server tells each client the address it sees (a CGI script of busybox httpd).
        remoteWww = Files.createDirectories(f.dir.resolve("remote/cgi-bin"));
        Path cgi = remoteWww.resolve("ip");
        Files.writeString(cgi, "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n");
        cgi.toFile().setExecutable(true);
        remoteServer = new ProcessBuilder("ip", "netns", "exec", REMOTE, "/bin/busybox", "httpd", "-f", "-p", "8099",
                "-h", remoteWww.getParent().toString()).redirectErrorStream(true).start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            removeAll();
        } finally {
            if (names != null) {
                names.close();
            }
        }
    }

    private static void removeAll() throws Exception {
        if (remoteServer != null) {
            remoteServer.destroyForcibly().waitFor();
        }
        if (f != null) {
            f.close(); // removes the containers
            try (Netlink nl = Netlink.open()) {
                nl.deleteLink(BRIDGE);
            } catch (Exception e) {
                // not made
            }
            new Nftables(dev.hull.engine.Engine.NFT_TABLE).removeNetwork(BRIDGE);
        }
        removeRemote();
    }

    @AfterEach
    void removeNetworks() throws Exception {
        for (String id : new ArrayList<>(f.engine.containers().list().stream().map(c -> c.id()).toList())) {
            f.remove(id);
        }
        for (String n : networks) {
            f.engine.removeNetwork(n);
        }
    }

    /** Bridges an earlier, killed run of this test left (they hold the subnets it uses). */
    private static void removeStaleBridges() throws Exception {
        try (Netlink nl = Netlink.open()) {
            for (Netlink.Address a : nl.addresses()) {
                String ip = a.address().getHostAddress();
                if (ip.startsWith("10.232.") || ip.startsWith("10.231.0.")) {
                    String name = nl.links().stream().filter(l -> l.index() == a.index()).map(Netlink.Link::name)
                            .findFirst().orElse(null);
                    if (name != null && (name.startsWith("hb-") || name.equals(BRIDGE))) {
                        nl.deleteLink(name);
                    }
                }
            }
        }
    }

    private static void removeRemote() throws Exception {
        if (Files.exists(REMOTE_NS)) {
            sh("ip", "netns", "del", REMOTE);
        }
        try (Netlink nl = Netlink.open()) {
            nl.deleteLink("hulltrh");
        } catch (Exception e) {
            // gone with the namespace
        }
    }

    static String sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + ": " + out);
        }
        return out;
    }

    /** The exit code and output of a command (no assertion). */
    static Flags.Result try_(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return new Flags.Result(p.exitValue(), out, "");
    }

    /**
     * An HTTP GET from the remote namespace (busybox wget; its -T crashes, so timeout bounds it).
     * In a container, such a timeout needs --init: as PID 1, wget would ignore timeout's SIGTERM.
     */
    static Flags.Result remoteGet(String url) throws Exception {
        return try_("ip", "netns", "exec", REMOTE, "/bin/busybox", "timeout", "5", "/bin/busybox", "wget", "-qO-", url);
    }

    static Flags.Result hostGet(String url) throws Exception {
        return try_("/bin/busybox", "timeout", "5", "/bin/busybox", "wget", "-qO-", url);
    }

    NetworkInfo network(String name, String subnet, boolean internal) throws Exception {
        NetworkInfo n = f.engine.networking().store().create(name, subnet, null, internal, Map.of());
        networks.add(name);
        return n;
    }

    String httpd(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(extra));
        args.addAll(List.of("-v", www + ":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www"));
        String id = f.detached(args.toArray(String[]::new));
        // running is not listening: wait (generously) until httpd answers inside, before anyone asks
        assertThat(exec(id, "i=0; until wget -qO- http://127.0.0.1:80/ >/dev/null 2>&1; do i=$((i+1));"
                + " [ $i -gt 600 ] && break; usleep 100000; done; wget -qO- http://127.0.0.1:80/")).isEqualTo(PAGE);
        return id;
    }

    NetworkState wiring(String id) throws Exception {
        return f.engine.networking().state(id);
    }

    String ip(String id) throws Exception {
        return wiring(id).endpoints().getFirst().ip();
    }

    @Test
    void containersReachEachOtherByAddressAndOnUserNetworksByNameAliasAndId() throws Exception {
        network("hulltn1", "10.232.1.0/24", false);
        String api = httpd("--network", "hulltn1", "--name", "api", "--network-alias", "web");
        assertThat(ip(api)).startsWith("10.232.1.");
        assertThat(f.output("--rm", "--network", "hulltn1", "busybox", "sh", "-c",
                "wget -qO- http://api/ && wget -qO- http://web/ && wget -qO- http://" + api.substring(0, 12) + "/"))
                .isEqualTo(PAGE + PAGE + PAGE);
        // api's own /etc/hosts lists a peer while the peer runs, and no longer once it is gone
        String peer = f.detached("--network", "hulltn1", "--name", "peer", "busybox", "sleep", "100");
        String apiHosts = f.engine.containers().dir(api).resolve("hosts").toString();
        assertThat(Files.readString(Path.of(apiHosts))).contains(ip(peer) + "\tpeer " + peer.substring(0, 12));
        f.engine.rename(peer, "renamed");
        assertThat(Files.readString(Path.of(apiHosts))).contains(ip(peer) + "\trenamed " + peer.substring(0, 12));
        f.remove(peer);
        assertThat(Files.readString(Path.of(apiHosts))).doesNotContain(peer.substring(0, 12));

        // the default network: by address, not by name; and no way across to another network
        String plain = httpd("--name", "plain");
        assertThat(ip(plain)).startsWith("10.231.0.");
        assertThat(f.output("--rm", "busybox", "wget", "-qO-", "http://" + ip(plain) + "/")).isEqualTo(PAGE);
        Flags.Result byName = f.run("--rm", "--init", "busybox", "sh", "-c",
                "timeout 5 wget -qO- http://plain/");
        assertThat(byName.exit()).isNotZero();
        assertThat(byName.err()).contains("bad address");
        Flags.Result across = f.run("--rm", "--init", "busybox", "timeout", "3", "wget", "-qO-", "http://" + ip(api) + "/");
        assertThat(across.exit()).as("default network → hulltn1: %s", across).isNotZero();
        // the control: the host reaches both bridges
        assertThat(hostGet("http://" + ip(api) + "/").out()).isEqualTo(PAGE);
    }

    @Test
    void publishedPortsAnswerOnLoopbackTheBridgeAddressAndFromARemoteHost() throws Exception {
        String web = httpd("-p", "18481:80", "-p", "127.0.0.1:18483:80");
        String gateway = wiring(web).endpoints().getFirst().gateway();
        assertThat(hostGet("http://127.0.0.1:18481/").out()).isEqualTo(PAGE);
        assertThat(hostGet("http://" + gateway + ":18481/").out()).isEqualTo(PAGE);
        assertThat(remoteGet("http://192.168.231.1:18481/").out()).isEqualTo(PAGE);
        // 127.0.0.1:18483 is for the host's loopback only
        assertThat(hostGet("http://127.0.0.1:18483/").out()).isEqualTo(PAGE);
        assertThat(remoteGet("http://192.168.231.1:18483/").exit()).isNotZero();
        // from a sibling container through the host's address (hairpin NAT), and from itself
        assertThat(f.output("--rm", "busybox", "wget", "-qO-", "http://" + gateway + ":18481/")).isEqualTo(PAGE);
        assertThat(exec(web, "wget -qO- http://" + gateway + ":18481/")).isEqualTo(PAGE);

        // UDP: a python echo server (the host's, bound in) behind 18482/udp, asked from the remote host
        String udp = f.detached("-p", "18482:5353/udp", "-v", "/usr:/usr:ro", "-v", "/usr/lib:/lib:ro",
                "-v", "/usr/lib64:/lib64:ro", "busybox", "/usr/bin/python3", "-c",
                "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('',5353))\n"
                        + "while True:\n d,a=s.recvfrom(100)\n s.sendto(b'udp:'+d,a)");
        assertThat(udpAsk(REMOTE_NS, "192.168.231.1", 18482, "ping")).isEqualTo("udp:ping");
        assertThat(udpAsk(null, "127.0.0.1", 18482, "local")).isEqualTo("udp:local");

        // what hull shows: docker's port, ps and inspect forms
        assertThat(f.hull.run("port", web).out()).contains("80/tcp -> 0.0.0.0:18481", "80/tcp -> 127.0.0.1:18483");
        assertThat(f.hull.run("port", udp, "5353/udp").out().trim()).isEqualTo("0.0.0.0:18482");
        assertThat(f.hull.run("ps").out()).contains("0.0.0.0:18481->80/tcp, 127.0.0.1:18483->80/tcp");
        String inspect = f.hull.run("inspect", "-f", "{{json .NetworkSettings.Ports}}", web).out();
        assertThat(inspect).contains("\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"18481\"}");

        // a port held by the host or by another container is refused, naming it
        assertThatThrownBy(() -> f.detached("-p", "18481:80", "busybox", "sleep", "10")).hasMessageContaining(
                "18481").hasMessageContaining("already published by container " + web.substring(0, 12));
        assertThatThrownBy(() -> f.detached("-p", "192.0.2.254:18485:80", "busybox", "sleep", "10"))
                .hasMessageContaining("192.0.2.254 is not an address of this host");
        try (java.net.ServerSocket held = new java.net.ServerSocket(18484)) {
            assertThatThrownBy(() -> f.detached("-p", "18484:80", "busybox", "sleep", "10"))
                    .hasMessageContaining("a process on the host listens on that port");
        }

        // -P: every exposed port (here --expose, a range) on a free host port of the kernel's choosing
        String all = f.detached("-P", "--expose", "7000-7001", "busybox", "sleep", "100");
        assertThat(wiring(all).ports()).extracting(Nftables.PortMapping::containerPort).containsExactly(7000, 7001);
        assertThat(wiring(all).ports()).allMatch(p -> p.hostPort() >= 1024 && p.hostIp() == null);
        f.remove(all);

        // stop takes the ports away (the table is every Hull's: the port map elements leading to web's address are web's)
        String webIp = ip(web);
        assertThat(f.engine.networking().nftables().ports()).anyMatch(p -> p.containerIp().equals(webIp));
        f.engine.stop(web, 1);
        assertThat(hostGet("http://127.0.0.1:18481/").exit()).isNotZero();
        assertThat(f.engine.networking().nftables().ports()).noneMatch(p -> p.containerIp().equals(webIp));
    }

    /** Sends text to host:port over UDP from the network namespace ns (null: this one); the answer. */
    static String udpAsk(Path ns, String host, int port, String text) throws Exception {
        Callable<String> ask = () -> {
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.socket().setSoTimeout(3000);
                ch.connect(new InetSocketAddress(host, port));
                ByteBuffer reply = ByteBuffer.allocate(200);
                for (int attempt = 0; attempt < 10; attempt++) { // the server may still be starting
                    ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
                    ch.configureBlocking(false);
                    long deadline = System.nanoTime() + 500_000_000L;
                    while (System.nanoTime() < deadline) {
                        try {
                            if (ch.read(reply) > 0) {
                                return new String(reply.array(), 0, reply.position(), StandardCharsets.UTF_8);
                            }
                        } catch (java.net.PortUnreachableException e) {
                            // not listening yet
                        }
                        Thread.sleep(10);
                    }
                    ch.configureBlocking(true);
                }
                return null;
            }
        };
        if (ns == null) {
            return ask.call();
        }
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                int fd = Syscalls.open(ns.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
                Syscalls.setns(fd, 0x40000000); // this thread only, and it ends after
                Syscalls.close(fd);
                result.set(ask.call());
            } catch (Throwable e) {
                result.set(e);
            }
        });
        t.join();
        if (result.get() instanceof Throwable e) {
            throw new AssertionError(e);
        }
        return (String) result.get();
    }

    @Test
    void containersGoOutThroughNatAndInternalNetworksHaveNoWayOut() throws Exception {
        String url = "http://192.168.231.2:8099/cgi-bin/ip";
        // the remote host sees the host's address: masquerade
        assertThat(f.output("--rm", "busybox", "wget", "-qO-", url)).contains("192.168.231.1").doesNotContain("10.231.");
        network("hulltin", "10.232.2.0/24", true);
        Flags.Result r = f.run("--rm", "--init", "--network", "hulltin", "busybox", "sh", "-c",
                "ip route; timeout 3 wget -qO- " + url);
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.out()).as("no default route").doesNotContain("default");
        // ... and not the host's other networks either: hulltin → the default network's gateway is dropped too
        Flags.Result toBridge = f.run("--rm", "--init", "--network", "hulltin", "busybox", "sh", "-c",
                "timeout 3 wget -qO- http://192.168.231.1:1/");
        assertThat(toBridge.exit()).isNotZero();
        assertThat(toBridge.err()).doesNotContain("refused"); // refused would mean a packet got through
    }

    @Test
    void nobodyButTheHostReachesItsLoopback() throws Exception {
        // a service of the host's on 127.0.0.1 only, and a port published on 127.0.0.1 only
        Process local = new ProcessBuilder("/bin/busybox", "httpd", "-f", "-p", "127.0.0.1:18473", "-h",
                www.toString()).start();
        try {
            String web = httpd("-p", "127.0.0.1:18474:80");
            String gateway = wiring(web).endpoints().getFirst().gateway();
            assertThat(hostGet("http://127.0.0.1:18473/").out()).isEqualTo(PAGE);
            assertThat(hostGet("http://127.0.0.1:18474/").out()).isEqualTo(PAGE);
            // a container that routes 127.0.0.0/8 to its gateway and accepts answers from 127.0.0.1 on
            // eth0 (privileged here to do it with ip and sysctl; NET_RAW alone could forge the packets)
            String attack = "sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1;"
                    + " ip addr del 127.0.0.1/8 dev lo; ip route add 127.0.0.0/8 via " + gateway
                    + "; timeout 3 wget -qO- http://127.0.0.1:18473/; echo rc=$?";
            // A table of this test's own counts the attack's packets where the guard drops them (prerouting,
            // just before it) and where they would go on to the host's loopback service (local input, before
            // any filter table: others on the host, kubelet's KUBE-FIREWALL say, may drop them there too).
            sh("nft", "add table ip " + WATCH + "; delete table ip " + WATCH);
            sh("nft", "add table ip " + WATCH + "; add chain ip " + WATCH + " pre { type filter hook prerouting"
                    + " priority -301; policy accept; }; add chain ip " + WATCH + " in { type filter hook input"
                    + " priority -1; policy accept; }; add rule ip " + WATCH + " pre iifname " + BRIDGE
                    + " ip daddr 127.0.0.1 tcp dport 18473 counter; add rule ip " + WATCH + " in iifname " + BRIDGE
                    + " ip daddr 127.0.0.1 tcp dport 18473 counter");
            try {
                String out = f.output("--rm", "--init", "--privileged", "busybox", "sh", "-c", attack);
                assertThat(out).doesNotContain(PAGE.trim()).contains("rc=");
                Map<String, Long> with = watched();
                assertThat(with.get("pre")).as("the attack's packets reach the host from the bridge").isPositive();
                assertThat(with.get("in")).as("and the guard drops them before they are routed to the host").isZero();
                // the control: without the guard rule the same packets are routed to the host's loopback. The
                // chain is every Hull's on the host, and another Hull's ensure() (for a new bridge, say) writes
                // the rule again meanwhile: an attempt counts only if the chain was still empty after it.
                String control;
                int attempts = 0;
                try {
                    do {
                        attempts++;
                        sh("nft", "flush", "chain", "ip", dev.hull.engine.Engine.NFT_TABLE, "guard");
                        control = f.output("--rm", "--init", "--privileged", "busybox", "sh", "-c", attack);
                    } while (guardRules() > 0 && attempts < 20);
                } finally {
                    f.engine.networking().nftables().ensure();
                }
                // the page comes back unless another firewall of the host drops the packets at input
                assertThat(watched().get("in")).as("without the guard (attempt %d, %s)", attempts, control)
                        .isPositive();
            } finally {
                sh("nft", "delete", "table", "ip", WATCH);
            }
            // nor a LAN neighbour that routes 127.0.0.0/8 to the host, to the 127.0.0.1-only published port
            Flags.Result lan = try_("ip", "netns", "exec", REMOTE, "sh", "-c", "ip addr del 127.0.0.1/8 dev lo;"
                    + " ip route add 127.0.0.0/8 via 192.168.231.1; /bin/busybox timeout 3 /bin/busybox wget -qO-"
                    + " http://127.0.0.1:18474/; rc=$?; ip route del 127.0.0.0/8; ip addr add 127.0.0.1/8 dev lo;"
                    + " exit $rc");
            assertThat(lan.exit()).as("%s", lan).isNotZero();
            assertThat(lan.out()).doesNotContain(PAGE.trim());
        } finally {
            local.destroyForcibly().waitFor();
        }
    }

    /** This test's own nftables table (not Hull's, nor named hulltest* as NftablesTest's are). */
    static final String WATCH = "hullnetworktest";

    /** The packet counters of the chains of table {@link #WATCH}: chain name → packets. */
    static Map<String, Long> watched() throws Exception {
        Map<String, Long> out = new TreeMap<>();
        for (JsonNode item : new ObjectMapper().readTree(sh("nft", "-j", "list", "table", "ip", WATCH))
                .path("nftables")) {
            JsonNode rule = item.get("rule");
            if (rule != null) {
                for (JsonNode e : rule.path("expr")) {
                    if (e.has("counter")) {
                        out.merge(rule.path("chain").asText(), e.path("counter").path("packets").asLong(), Long::sum);
                    }
                }
            }
        }
        return out;
    }

    /** How many rules the guard chain of Hull's table has now. */
    static int guardRules() throws Exception {
        int n = 0;
        String json = sh("nft", "-j", "list", "chain", "ip", dev.hull.engine.Engine.NFT_TABLE, "guard");
        for (JsonNode item : new ObjectMapper().readTree(json).path("nftables")) {
            if (item.has("rule")) {
                n++;
            }
        }
        return n;
    }

    @Test
    void noneHasOnlyLoopbackAndHostSharesTheHosts() throws Exception {
        assertThat(f.output("--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net").trim())
                .isEqualTo("lo");
        assertThat(f.output("--rm", "--network", "none", "busybox", "cat", "/etc/hosts")).contains("localhost");
        String hostNs = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        assertThat(f.output("--rm", "--network", "host", "busybox", "readlink", "/proc/self/ns/net").trim())
                .isEqualTo(hostNs);
        assertThat(f.output("--rm", "busybox", "readlink", "/proc/self/ns/net").trim()).isNotEqualTo(hostNs);
        assertThatThrownBy(() -> f.run("--rm", "--network", "none", "-p", "80", "busybox", "true"))
                .hasMessageContaining("-p/-P need a bridge network");
        assertThatThrownBy(() -> f.run("--rm", "--network", "nosuchnet", "busybox", "true"))
                .hasMessageContaining("no such network: nosuchnet");
    }

    @Test
    void containerModeSharesAnotherContainersNetwork() throws Exception {
        String web = httpd("--name", "shared", "-p", "18499:80");
        String out = f.output("--rm", "--network", "container:shared", "busybox", "sh", "-c",
                "ip -o -4 addr show eth0; wget -qO- http://127.0.0.1/; cat /etc/hosts");
        assertThat(out).contains("inet " + ip(web) + "/", PAGE, ip(web) + "\t" + web.substring(0, 12));
        assertThat(wiring(web)).isNotNull(); // the joiner's end takes nothing of web's wiring away
        assertThat(hostGet("http://127.0.0.1:18499/").out()).isEqualTo(PAGE);
        f.engine.stop(web, 1);
        assertThatThrownBy(() -> f.run("--rm", "--network", "container:shared", "busybox", "true"))
                .hasMessageContaining("shared");
    }

    @Test
    void addressMacDnsAndHostsFlags() throws Exception {
        network("hulltn3", "10.232.3.0/24", false);
        String out = f.output("--rm", "--network", "hulltn3", "--ip", "10.232.3.77", "--mac-address",
                "02:aa:bb:cc:dd:ee", "--hostname", "box", "--dns", "192.0.2.53", "--dns-search", "example.test",
                "--dns-option", "ndots:2", "--add-host", "db.local:192.0.2.9", "--add-host", "gw:host-gateway",
                "busybox", "sh", "-c", "ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; hostname;"
                        + " cat /etc/hostname /etc/resolv.conf /etc/hosts");
        assertThat(out).contains("inet 10.232.3.77/24", "02:aa:bb:cc:dd:ee", "box\nbox\n", "search example.test\n",
                "nameserver 192.0.2.53\n", "options ndots:2\n", "192.0.2.9\tdb.local\n", "10.232.3.1\tgw\n",
                "10.232.3.77\tbox\n");
        // an address outside the network, the gateway, one on the default network: refused before anything runs
        assertThatThrownBy(() -> f.run("--rm", "--network", "hulltn3", "--ip", "10.9.9.9", "busybox", "true"))
                .hasMessageContaining("not a free host address of network hulltn3");
        assertThatThrownBy(() -> f.run("--rm", "--network", "hulltn3", "--ip", "10.232.3.1", "busybox", "true"))
                .hasMessageContaining("gateway 10.232.3.1");
        assertThatThrownBy(() -> f.run("--rm", "--ip", "10.231.0.50", "busybox", "true"))
                .hasMessageContaining("needs a user-defined network");
        // an address in use is refused while its holder runs
        String holder = f.detached("--network", "hulltn3", "--ip", "10.232.3.78", "busybox", "sleep", "100");
        assertThatThrownBy(() -> f.detached("--network", "hulltn3", "--ip", "10.232.3.78", "busybox", "true"))
                .hasMessageContaining("gave that address to container " + holder.substring(0, 12));
        assertThatThrownBy(() -> f.run("--rm", "-p", "99999:80", "busybox", "true"))
                .hasMessageContaining("a number from 1 to 65535");
        assertThatThrownBy(() -> f.run("--rm", "--mac-address", "zz", "busybox", "true"))
                .hasMessageContaining("six hex bytes");
    }

    @Test
    void connectAndDisconnectARunningContainer() throws Exception {
        network("hulltn4", "10.232.4.0/24", false);
        String app = f.detached("--name", "app", "busybox", "sleep", "100");
        String db = f.detached("--network", "hulltn4", "--name", "db", "busybox", "sleep", "100");
        f.engine.connect("hulltn4", app, null, List.of("frontend"));
        NetworkState st = wiring(app);
        assertThat(st.endpoints()).extracting(NetworkState.Endpoint::network).containsExactly("bridge", "hulltn4");
        String appIp4 = st.endpoints().get(1).ip();
        assertThat(exec(app, "ip -o -4 addr show eth1")).contains("inet " + appIp4 + "/24");
        assertThat(exec(db, "ping -c1 -W2 frontend")).contains("1 packets received");
        assertThat(exec(app, "ping -c1 -W2 db")).contains("1 packets received");
        f.engine.disconnect("hulltn4", app);
        assertThat(exec(app, "ls /sys/class/net")).doesNotContain("eth1");
        assertThat(Files.readString(f.engine.containers().dir(db).resolve("hosts"))).doesNotContain("frontend");
        // kept for the next start too: connect while stopped, then start
        f.engine.stop(app, 1);
        f.engine.connect("hulltn4", app, "10.232.4.200", List.of());
        f.start(app);
        assertThat(wiring(app).endpoints().get(1).ip()).isEqualTo("10.232.4.200");
        assertThatThrownBy(() -> f.engine.removeNetwork("hulltn4")).hasMessageContaining("app")
                .hasMessageContaining("db");
        // a container's published ports go to its first network's address: that one stays while it runs
        String pub = f.detached("--network", "hulltn4", "-p", "18472:80", "busybox", "sleep", "100");
        f.engine.connect("bridge", pub, null, List.of());
        assertThatThrownBy(() -> f.engine.disconnect("hulltn4", pub)).hasMessageContaining("published ports");
        // the other one may go; the first keeps the default route
        f.engine.disconnect("bridge", pub);
        assertThat(exec(pub, "ip route")).contains("default via 10.232.4.1");
        // names end up in other containers' /etc/hosts: one word, nothing else
        assertThatThrownBy(() -> f.run("--rm", "--network", "hulltn4", "--network-alias", "x\n6.6.6.6 victim",
                "busybox", "true")).hasMessageContaining("a host name is letters");
        assertThatThrownBy(() -> f.engine.connect("bridge", pub, null, List.of("a b")))
                .hasMessageContaining("a host name is letters");
        assertThatThrownBy(() -> f.run("--rm", "--add-host", "a b:1.2.3.4", "busybox", "true"))
                .hasMessageContaining("a host name is letters");
    }

    private String exec(String id, String script) throws Exception {
        Path out = Files.createTempFile(f.dir, "exec-", "");
        int fd = Syscalls.open(out.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
        int nul = Syscalls.open("/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            f.engine.exec(id, new dev.hull.engine.Engine.ExecRequest(List.of("sh", "-c", script), List.of(), null,
                    null, false, false, false, false, new int[] {nul, fd, fd}, null));
        } finally {
            Syscalls.close(fd);
            Syscalls.close(nul);
        }
        return Files.readString(out);
    }

    @Test
    void concurrentRunsNeverShareAnAddress() throws Exception {
        network("hulltn5", "10.232.5.0/24", false);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> made = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                made.add(pool.submit(() -> f.detached("--network", "hulltn5", "busybox", "sleep", "100")));
            }
            Set<String> ips = Collections.synchronizedSet(new HashSet<>());
            for (Future<String> m : made) {
                String id = m.get(120, TimeUnit.SECONDS);
                String ip = ip(id);
                assertThat(ips.add(ip)).as("address %s handed out twice", ip).isTrue();
                // and the container really has it
                assertThat(exec(id, "ip -o -4 addr show eth0")).contains("inet " + ip + "/24");
            }
            assertThat(ips).hasSize(24);
            // and every one's /etc/hosts lists the 23 others (started at the same time as it)
            for (Future<String> m : made) {
                String hosts = Files.readString(f.engine.containers().dir(m.get()).resolve("hosts"));
                for (Future<String> other : made) {
                    if (other != m) {
                        assertThat(hosts).contains(ip(other.get()) + "\t");
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Everything networking leaves on the host and in the store for this test's containers and
     * networks, to compare before and after. Only what is this test's: other Hulls, CNI and engines
     * on the host make and remove their own links, netns mounts, leases, ports and rules meanwhile
     * (the nftables table and /run/hull-net are shared by every Hull home on the host).
     * <ul>
     * <li>links: this home's bridges, the links enslaved to them, and the veths named after this
     * test's containers ("hv" + the first 11 characters of the id + the slot); their addresses;
     * <li>ports: the published-port map elements that lead to an address of this home's networks;
     * <li>rules: the rules tagged with one of this home's bridges, and those bridges' elements of
     * the set bridges (the table's fixed chains are every Hull's);
     * <li>mounts: network namespace mounts in this test's directory or naming one of its containers;
     * <li>leases: the address and port leases of this home or of its containers, and its netns files.
     * </ul>
     */
    Map<String, Object> traces() throws Exception {
        Map<String, Object> t = new TreeMap<>();
        var store = f.engine.networking().store();
        List<NetworkInfo> nets = store.list();
        Set<String> bridges = new TreeSet<>(nets.stream().map(NetworkInfo::bridge).toList());
        bridges.add(BRIDGE);
        Set<String> ids = Set.copyOf(f.ids);
        Set<String> veths = new HashSet<>(ids.stream().map(id -> "hv" + id.substring(0, 11)).toList());
        try (Netlink nl = Netlink.open()) {
            List<Netlink.Link> links = nl.links();
            Set<Integer> bridgeIndexes = new HashSet<>(links.stream().filter(l -> bridges.contains(l.name()))
                    .map(Netlink.Link::index).toList());
            List<Netlink.Link> ours = links.stream().filter(l -> bridges.contains(l.name())
                    || bridgeIndexes.contains(l.master())
                    || (l.name().length() > 13 && veths.contains(l.name().substring(0, 13)))).toList();
            Set<Integer> indexes = new HashSet<>(ours.stream().map(Netlink.Link::index).toList());
            t.put("links", ours.stream().map(Netlink.Link::name).sorted().toList());
            t.put("addresses", nl.addresses().stream().filter(a -> indexes.contains(a.index()))
                    .map(a -> a.index() + " " + a.address().getHostAddress() + "/" + a.prefix()).sorted().toList());
        }
        Nftables nft = f.engine.networking().nftables();
        List<dev.hull.engine.network.Subnet> subnets = nets.stream().map(NetworkInfo::parsedSubnet).toList();
        t.put("ports", nft.ports().stream().filter(p -> subnets.stream()
                .anyMatch(s -> s.contains(dev.hull.engine.network.Subnet.parseIp(p.containerIp()))))
                .map(Nftables.PortMapping::toString).sorted().toList());
        t.put("rules", rulesOf(bridges));
        t.put("mounts", OwnedMounts.all().stream().filter(m -> m.fstype().equals("nsfs"))
                .filter(m -> m.ownedBy(List.of(f.dir), ids)).map(OwnedMounts.Mount::mountPoint).sorted().toList());
        List<String> leases = new ArrayList<>(OwnedLeases.of(store, ids));
        Path netns = f.dir.resolve("state/netns");
        if (Files.isDirectory(netns)) {
            try (var w = Files.list(netns)) {
                w.forEach(p -> leases.add(p.toString()));
            }
        }
        Collections.sort(leases);
        t.put("leases", leases);
        return t;
    }

    /**
     * The rules of Hull's table tagged with one of these bridges (comment "net BRIDGE SUBNET..."),
     * each as its chain, expression and comment, and those bridges' elements of the set bridges.
     */
    static List<String> rulesOf(Set<String> bridges) throws Exception {
        List<String> out = new ArrayList<>();
        Flags.Result r = try_("nft", "-j", "list", "table", "ip", dev.hull.engine.Engine.NFT_TABLE);
        if (r.exit() != 0) {
            return out; // no table
        }
        for (JsonNode item : new ObjectMapper().readTree(r.out()).path("nftables")) {
            JsonNode rule = item.get("rule");
            if (rule != null) {
                String[] c = rule.path("comment").asText("").split(" ");
                if (c.length >= 3 && c[0].equals("net") && bridges.contains(c[1])) {
                    out.add(rule.path("chain").asText() + " " + rule.path("expr") + " " + rule.path("comment").asText());
                }
            }
            JsonNode set = item.get("set");
            if (set != null && set.path("name").asText().equals("bridges")) {
                for (JsonNode e : set.path("elem")) {
                    if (bridges.contains(e.asText())) {
                        out.add("set bridges " + e.asText());
                    }
                }
            }
        }
        Collections.sort(out);
        return out;
    }

    @Test
    void twoHundredRunRmCyclesLeaveNothingBehind() throws Exception {
        f.output("--rm", "-p", "18490:80", "busybox", "true"); // the bridge and the table exist from here on
        Map<String, Object> before = traces();
        for (int i = 0; i < 100; i++) {
            assertThat(f.run("--rm", "-p", (i % 2 == 0 ? "18490:" : "") + "80", "busybox", "true").exit()).isZero();
            String id = f.detached("-p", "18491:80/udp", "busybox", "sleep", "100");
            f.remove(id);
        }
        assertThat(traces()).isEqualTo(before);
    }

    @Test
    void whatAKilledContainerLeftIsReclaimed() throws Exception {
        String web = httpd("-p", "18495:80");
        Map<String, Object> during = traces();
        // the monitor and the container die at once (as in a crash): nothing tears the wiring down
        var m = f.status(web);
        Syscalls.kill(m.monitorPid(), 9);
        Syscalls.kill(m.pid(), 9);
        f.awaitExited(web, 10_000);
        assertThat(traces()).isEqualTo(during);
        // the next container that wants the port gets it: the dead holder's wiring is reclaimed
        String next = httpd("-p", "18495:80");
        assertThat(hostGet("http://127.0.0.1:18495/").out()).isEqualTo(PAGE);
        assertThat(wiring(web)).isNull();
        f.remove(next);
        f.remove(web);
        // and prune clears what a killed container left even when nobody asks for its resources
        Map<String, Object> clean = traces();
        String other = httpd("-p", "18496:80");
        var s = f.status(other);
        Syscalls.kill(s.monitorPid(), 9);
        Syscalls.kill(s.pid(), 9);
        f.awaitExited(other, 10_000);
        assertThat(f.hull.run("network", "prune").exit()).isZero();
        assertThat(traces()).isEqualTo(clean);
    }

    @Test
    void aContainerThatEndsByItselfGivesItsPortAndAddressBack() throws Exception {
        f.output("--rm", "-p", "18498:80", "busybox", "true"); // the bridge and the table exist from here on
        Map<String, Object> clean = traces();
        String job = f.detached("-p", "18498:80", "busybox", "sh", "-c", "sleep 0.5; exit 3");
        assertThat(f.engine.networking().nftables().ports()).anyMatch(p -> p.hostPort() == 18498);
        f.awaitExited(job, 10_000);
        // its monitor ran `hull container cleanup` (a JVM): no hull command from us
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!traces().equals(clean) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(traces()).isEqualTo(clean);
        assertThat(f.engine.state(f.engine.containers().read(job)).exitCode()).isEqualTo(3);
        f.remove(job);
        // a detached --rm container: its monitor becomes `hull rm`, which tears down on the host
        String gone = f.detachedNoWait("--rm", "-p", "18498:80", "busybox", "sh", "-c", "sleep 0.5");
        deadline = System.nanoTime() + 30_000_000_000L;
        while ((Files.exists(f.engine.containers().dir(gone)) || !traces().equals(clean))
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(traces()).isEqualTo(clean);
    }

    @Test
    void aLostBridgeAndTableAreMadeAgain() throws Exception {
        // as after a reboot: the kernel's bridge and nftables table are gone, the store remains
        String web = httpd("-p", "18497:80");
        f.engine.stop(web, 1);
        try (Netlink nl = Netlink.open()) {
            nl.deleteLink(BRIDGE);
        }
        f.engine.networking().nftables().removeNetwork(BRIDGE);
        f.start(web);
        assertThat(hostGet("http://127.0.0.1:18497/").out()).isEqualTo(PAGE);
        // a firewall reload that flushes every table (bridges stay): prune writes the rules again
        sh("nft", "delete", "table", "ip", dev.hull.engine.Engine.NFT_TABLE);
        String seen = "http://192.168.231.2:8099/cgi-bin/ip";
        assertThat(f.output("--rm", "busybox", "wget", "-qO-", seen)).as("no NAT: the remote sees the container")
                .contains("10.231.0.");
        assertThat(hostGet("http://127.0.0.1:18497/").exit()).as("its port went with the table").isNotZero();
        assertThat(f.hull.run("network", "prune").exit()).isZero();
        assertThat(f.output("--rm", "busybox", "wget", "-qO-", seen)).contains("192.168.231.1");
        assertThat(hostGet("http://127.0.0.1:18497/").out()).as("and back").isEqualTo(PAGE);
        assertThat(f.output("--rm", "busybox", "wget", "-qO-", "http://192.168.231.2:8099/cgi-bin/ip"))
                .contains("192.168.231.1"); // (httpd shows it as [::ffff:192.168.231.1])
    }

    @Test
    void twoHullHomesShareTheDefaultBridgesAddressesAndTheHostsPorts() throws Exception {
        Path other = Files.createTempDirectory(Path.of("/tmp"), "hull-network-other-");
        dev.hull.engine.Engine second = new dev.hull.engine.Engine(other.resolve("home"), other.resolve("state"));
        try {
            second.networking().store().defineDefault(BRIDGE, "10.231.0.0/24"); // as two homes share hull0
            second.images().getOrBuildBuiltin("busybox");
            String mine = httpd("-p", "18470:80");
            dev.hull.engine.CreateOptions o = Flags.parse("-d", "busybox", "sleep", "100");
            String theirs = second.run(o, true, null).container().id();
            String theirIp = second.networking().state(theirs).endpoints().getFirst().ip();
            assertThat(theirIp).isNotEqualTo(ip(mine));
            // the other home's containers are not this home's to reclaim, and its ports are not free
            f.engine.networking().reclaim();
            var theirStore = second.networking().store();
            assertThat(theirStore.leases(theirStore.defaultNetwork())).containsEntry(theirIp, theirs);
            assertThat(second.networking().state(theirs)).isNotNull();
            dev.hull.engine.CreateOptions clash = Flags.parse("-d", "-p", "18470:80", "busybox", "sleep", "100");
            assertThatThrownBy(() -> second.run(clash, true, null)).hasMessageContaining("another Hull home");
            assertThat(hostGet("http://127.0.0.1:18470/").out()).isEqualTo(PAGE);
            second.remove(theirs, true);
        } finally {
            for (var c : second.containers().list()) {
                second.remove(c.id(), true);
            }
            dev.hull.image.SnapshotStore.deleteTree(other);
        }
    }

    @Test
    void networkCommands() throws Exception {
        HullCommand.Result created = f.hull.run("network", "create", "--subnet", "10.232.6.0/24", "--label", "a=b",
                "hulltn6");
        assertThat(created.exit()).as("%s", created).isZero();
        networks.add("hulltn6");
        assertThat(f.hull.run("network", "ls").out()).contains("hulltn6", "bridge", "host", "none");
        assertThat(f.hull.run("network", "inspect", "-f", "{{json .IPAM.Config}}", "hulltn6").out())
                .contains("\"Subnet\":\"10.232.6.0/24\",\"Gateway\":\"10.232.6.1\"");
        HullCommand.Result dup = f.hull.run("network", "create", "--subnet", "10.232.6.128/25", "hulltn7");
        assertThat(dup.exit()).isNotZero();
        assertThat(dup.err()).contains("overlaps network hulltn6");
        HullCommand.Result pre = f.hull.run("network", "rm", "bridge");
        assertThat(pre.err()).contains("predefined");
        assertThat(f.hull.run("network", "rm", "hulltn6").exit()).isZero();
        networks.remove("hulltn6");
        assertThat(f.hull.run("network", "ls", "-q").out()).doesNotContain("hulltn6");
    }
}
