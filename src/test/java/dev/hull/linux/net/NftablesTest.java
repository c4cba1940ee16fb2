package dev.hull.linux.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.net.Nftables.NetworkRule;
import dev.hull.linux.net.Nftables.PortMapping;
import dev.hull.testing.HostLock;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Nftables against the real kernel (root, nft): bridges and network
 * namespaces made for the test, servers and clients as Java sockets created
 * inside those namespaces (a socket stays in the namespace it was created in),
 * so every server answers "NAME PEER-ADDRESS" and the tests see the source
 * address each connection really arrived with.
 *
 * <pre>
 *   host: hulltestbr0 10.199.0.1/24 -- veth -- netns hulltestc 10.199.0.2 ("container", default via .1)
 *         hulltestbr1 10.198.0.1/24 -- veth -- netns hulltestd 10.198.0.2 (a second network, some tests)
 *         hulltestr0 192.168.199.1/24 -- veth -- netns hulltestr 192.168.199.2 ("remote", default via .1)
 * </pre>
 *
 * A table ip hulltestother (a set, a counter rule, a base chain) must be
 * byte-identical after every test. Everything named hulltest* (tables, links,
 * netns) is removed before, between and after the tests.
 */
class NftablesTest {
    private static final String TABLE = "hulltest";
    private static final String OTHER = "hulltestother";
    private static final String BR0 = "hulltestbr0", BR1 = "hulltestbr1";
    private static final String C = "hulltestc", D = "hulltestd", R = "hulltestr";
    private static final NetworkRule NET0 = new NetworkRule(BR0, "10.199.0.0/24", false);
    private static final int FAIL_MS = 700;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Nftables nft = new Nftables(TABLE);
    private final List<Closeable> servers = new CopyOnWriteArrayList<>();
    private String otherBefore;

    /** The hulltest* names are this test's (and NetlinkTest's) on the host only while it holds this. */
    static HostLock names;

    @BeforeAll
    static void rootAndNft() throws Exception {
        assumeTrue(Syscalls.getuid() == 0, "nftables changes need root");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/nft")) || Files.isExecutable(Path.of("/sbin/nft")),
                "needs the nft binary");
        names = HostLock.exclusive("hulltest-names");
        cleanUp();
    }

    @BeforeEach
    void otherTable() throws Exception {
        nftScript("""
                table ip hulltestother {
                    set blocked { type ipv4_addr; elements = { 203.0.113.7, 203.0.113.8 } }
                    chain counted { counter packets 0 bytes 0 ip saddr 198.51.100.1 accept; }
                    chain forwarding { type filter hook forward priority 10; policy accept; ip daddr @blocked drop; }
                }
                """);
        otherBefore = listOther();
        assertThat(otherBefore).contains("counter packets 0 bytes 0").contains("203.0.113.7");
    }

    @AfterEach
    void removeEverything() throws Exception {
        for (Closeable s : servers) {
            s.close();
        }
        assertThat(listOther()).as("table ip hulltestother after the test").isEqualTo(otherBefore);
        cleanUp();
        assertThat(run("nft", "list", "tables")).doesNotContain("hulltest");
        assertThat(run("ip", "link", "show")).doesNotContain("hulltest");
        assertThat(run("ip", "netns", "list")).doesNotContain("hulltest");
    }

    @AfterAll
    static void finallyClean() throws Exception {
        try {
            cleanUp();
        } finally {
            if (names != null) {
                names.close();
            }
        }
    }

    @Test
    void publishedPortsAnswerOnLoopbackBridgeAndRemoteThenRemovePortsClosesThem() throws Exception {
        topology(false);
        tcpServer(C, 80, "c");
        tcpServer(C, 81, "c81");
        udpServer(C, 5353, "c");
        nft.ensure();
        assertThat(Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip()).isEqualTo("1");
        nft.addNetwork(NET0);
        assertThat(Files.readString(Path.of("/proc/sys/net/ipv4/conf", BR0, "route_localnet")).strip()).isEqualTo("1");
        assertThat(awaitTcp(null, "10.199.0.2", 80)).as("the container's server, directly").isEqualTo("c 10.199.0.1");
        assertThat(tcp(null, "127.0.0.1", 18080)).as("nothing published yet").isNull();
        assertThat(tcp(R, "192.168.199.1", 18080)).as("nothing published yet").isNull();

        PortMapping web = new PortMapping("tcp", null, 18080, "10.199.0.2", 80);
        PortMapping dns = new PortMapping("udp", "0.0.0.0", 15353, "10.199.0.2", 5353);
        PortMapping local = new PortMapping("tcp", "127.0.0.1", 18081, "10.199.0.2", 80);
        PortMapping any82 = new PortMapping("tcp", null, 18082, "10.199.0.2", 80);
        PortMapping local82 = new PortMapping("tcp", "127.0.0.1", 18082, "10.199.0.2", 81);
        nft.addPorts(List.of(web, dns, local, any82, local82));
        assertThat(dns.hostIp()).isNull(); // "0.0.0.0" is every address, stored as null
        assertThat(nft.ports()).containsExactlyInAnyOrder(web, dns, local, any82, local82);

        // the host itself: 127.0.0.1 (route_localnet + masquerade to the bridge address) and the bridge address
        assertThat(awaitTcp(null, "127.0.0.1", 18080)).isEqualTo("c 10.199.0.1");
        assertThat(awaitTcp(null, "10.199.0.1", 18080)).isEqualTo("c 10.199.0.1");
        // from elsewhere, to the host's address there: DNAT keeps the client's address
        assertThat(awaitTcp(R, "192.168.199.1", 18080)).isEqualTo("c 192.168.199.2");
        assertThat(awaitUdp(R, "192.168.199.1", 15353)).isEqualTo("c 192.168.199.2");
        // hairpin: the container reaches its own published port through host addresses, seen as the bridge address
        assertThat(awaitTcp(C, "10.199.0.1", 18080)).isEqualTo("c 10.199.0.1");
        assertThat(awaitTcp(C, "192.168.199.1", 18080)).isEqualTo("c 10.199.0.1");
        // a mapping on 127.0.0.1 only
        assertThat(awaitTcp(null, "127.0.0.1", 18081)).isEqualTo("c 10.199.0.1");
        assertThat(tcp(null, "10.199.0.1", 18081)).as("127.0.0.1-only port on the bridge address").isNull();
        assertThat(tcp(R, "192.168.199.1", 18081)).as("127.0.0.1-only port from the remote").isNull();
        // the mapping on one address wins over the any-address one of the same port
        assertThat(awaitTcp(null, "127.0.0.1", 18082)).isEqualTo("c81 10.199.0.1");
        assertThat(awaitTcp(null, "10.199.0.1", 18082)).isEqualTo("c 10.199.0.1");

        PortMapping absent = new PortMapping("udp", null, 15354, "10.199.0.2", 5353);
        PortMapping otherValue = new PortMapping("tcp", null, 18080, "10.199.0.3", 80); // same key, other container
        nft.removePorts(List.of(otherValue, absent));
        assertThat(nft.ports()).as("a key mapped to something else stays")
                .containsExactlyInAnyOrder(web, dns, local, any82, local82);
        nft.removePorts(List.of(web, dns, local, absent, any82, local82));
        assertThat(nft.ports()).isEmpty();
        assertThat(tcp(null, "127.0.0.1", 18080)).isNull();
        assertThat(tcp(null, "127.0.0.1", 18081)).isNull();
        assertThat(tcp(null, "127.0.0.1", 18082)).isNull();
        assertThat(tcp(null, "10.199.0.1", 18080)).isNull();
        assertThat(tcp(R, "192.168.199.1", 18080)).isNull();
        assertThat(udp(R, "192.168.199.1", 15353)).isNull();
        nft.removePorts(List.of(web, dns)); // nothing left to remove: no error
        assertThat(tcp(null, "10.199.0.2", 80)).as("the server is still up").isEqualTo("c 10.199.0.1");
    }

    @Test
    void containersAreMasqueradedOutButInternalNetworksStayOnTheirBridge() throws Exception {
        topology(true);
        tcpServer(R, 8000, "r");
        tcpServer(C, 80, "c");
        List<String> atRemote = udpServer(R, 9000, "r");
        List<String> atD = udpServer(D, 9000, "d");
        nft.ensure();
        // without rules the remote sees container addresses (it routes back through the host) ...
        assertThat(awaitTcp(C, "192.168.199.2", 8000)).isEqualTo("r 10.199.0.2");
        assertThat(awaitTcp(D, "192.168.199.2", 8000)).isEqualTo("r 10.198.0.2");
        assertThat(awaitTcp(D, "10.199.0.2", 80)).isEqualTo("c 10.198.0.2");
        // ... and one-way datagrams go both ways between the second network and the remote
        assertThat(awaitReceived(D, "192.168.199.2", "out-0", atRemote)).isEqualTo("out-0 10.198.0.2");
        assertThat(awaitReceived(R, "10.198.0.2", "in-0", atD)).isEqualTo("in-0 192.168.199.2");

        NetworkRule internal = new NetworkRule(BR1, "10.198.0.0/24", true);
        nft.addNetwork(NET0);
        nft.addNetwork(internal);
        assertThat(nft.networks()).containsExactlyInAnyOrder(NET0, internal);
        assertThat(awaitTcp(C, "192.168.199.2", 8000)).as("masqueraded").isEqualTo("r 192.168.199.1");
        assertThat(tcp(D, "192.168.199.2", 8000)).as("internal network to the remote").isNull();
        assertThat(tcp(D, "10.199.0.2", 80)).as("internal network to another bridge").isNull();
        // each direction on its own (a TCP failure could be either): nothing leaves, nothing comes in
        udpSend(D, "192.168.199.2", 9000, "out-1");
        udpSend(R, "10.198.0.2", 9000, "in-1");
        Thread.sleep(FAIL_MS);
        assertThat(atRemote).as("datagram out of the internal network").noneMatch(m -> m.startsWith("out-1"));
        assertThat(atD).as("datagram into the internal network").noneMatch(m -> m.startsWith("in-1"));

        // the same network, not internal: out it goes, masqueraded, and in too
        nft.removeNetwork(BR1);
        nft.addNetwork(new NetworkRule(BR1, "10.198.0.0/24", false));
        assertThat(awaitTcp(D, "192.168.199.2", 8000)).isEqualTo("r 192.168.199.1");
        assertThat(awaitReceived(R, "10.198.0.2", "in-2", atD)).isEqualTo("in-2 192.168.199.2");
    }

    @Test
    void bridgesAreIsolatedButPublishedPortsStayReachable() throws Exception {
        topology(true);
        tcpServer(C, 80, "c");
        tcpServer(D, 80, "d");
        nft.ensure();
        assertThat(awaitTcp(D, "10.199.0.2", 80)).as("before the rules, bridge to bridge").isEqualTo("c 10.198.0.2");
        assertThat(awaitTcp(C, "10.198.0.2", 80)).isEqualTo("d 10.199.0.2");

        nft.addNetwork(NET0);
        nft.addNetwork(new NetworkRule(BR1, "10.198.0.0/24", false));
        assertThat(tcp(D, "10.199.0.2", 80)).as("hulltestbr1 -> hulltestbr0").isNull();
        assertThat(tcp(C, "10.198.0.2", 80)).as("hulltestbr0 -> hulltestbr1").isNull();

        nft.addPorts(List.of(new PortMapping("tcp", null, 18080, "10.199.0.2", 80)));
        // through a published port: allowed (ct status dnat), masqueraded to hulltestbr0's address
        assertThat(awaitTcp(D, "10.198.0.1", 18080)).isEqualTo("c 10.199.0.1");
        assertThat(tcp(D, "10.199.0.2", 80)).as("still isolated directly").isNull();

        nft.removeNetwork(BR1);
        nft.removeNetwork(BR0);
        assertThat(awaitTcp(D, "10.199.0.2", 80)).as("no network rules, no isolation").isEqualTo("c 10.198.0.2");
    }

    @Test
    void addNetworkIsIdempotentAndRemoveNetworkRemovesExactlyItsRules() throws Exception {
        try (Netlink nl = Netlink.open()) {
            nl.createBridge(BR0);
            nl.createBridge(BR1);
        }
        NetworkRule internal = new NetworkRule(BR1, "10.198.0.9/24", true);
        assertThat(internal.subnet()).isEqualTo("10.198.0.0/24");
        nft.ensure();
        nft.ensure();
        nft.addNetwork(NET0);
        nft.addNetwork(NET0);
        nft.addNetwork(internal);
        nft.addNetwork(new NetworkRule(BR1, "10.198.0.0/24", true));
        assertThat(nft.networks()).containsExactlyInAnyOrder(NET0, internal);
        assertThat(rulesOf(BR0)).hasSize(4);
        assertThat(rulesOf(BR1)).hasSize(4);
        assertThat(chainRules("prerouting")).hasSize(4);
        assertThat(chainRules("output")).hasSize(4);
        assertThat(bridgesSet()).containsExactlyInAnyOrder(BR0, BR1);

        assertThatThrownBy(() -> nft.addNetwork(new NetworkRule(BR0, "10.197.0.0/24", false)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("add network hulltestbr0 10.197.0.0/24")
                .hasMessageContaining("already has the rules of network 10.199.0.0/24");
        assertThatThrownBy(() -> nft.addNetwork(new NetworkRule("hulltestnone", "10.196.0.0/24", false)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("add network hulltestnone")
                .hasMessageContaining("route_localnet");
        assertThatThrownBy(() -> new NetworkRule("a\"b", "10.0.0.0/8", false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new NetworkRule(BR0, "10.0.0.0", false)).isInstanceOf(IllegalArgumentException.class);

        List<JsonNode> rulesBefore = tableItems("rule");
        nft.removeNetwork(BR0);
        assertThat(run("nft", "list", "table", "ip", TABLE)).doesNotContain(BR0).contains(BR1);
        assertThat(rulesOf(BR1)).hasSize(4);
        assertThat(bridgesSet()).containsExactly(BR1);
        assertThat(nft.networks()).containsExactly(internal);
        // exactly BR0's rules went: every other rule is still there, same handle, same expressions
        assertThat(tableItems("rule")).isEqualTo(rulesBefore.stream().filter(r -> !r.toString().contains(BR0)).toList());

        nft.removeNetwork(BR0); // absent: no error
        nft.removeNetwork(BR1);
        assertThat(nft.networks()).isEmpty();
        assertThat(chainRules("postrouting")).isEmpty();
        assertThat(chainRules("forward")).isEmpty();
        assertThat(chainRules("prerouting")).hasSize(4);
    }

    @Test
    void otherTablesAreByteIdenticalAfterEveryOperation() throws Exception {
        try (Netlink nl = Netlink.open()) {
            nl.createBridge(BR0);
        }
        PortMapping p = new PortMapping("tcp", null, 18080, "10.199.0.2", 80);
        List<ThrowingRunnable> ops = List.of(
                nft::ensure, nft::ensure, () -> nft.addNetwork(NET0), () -> nft.addNetwork(NET0),
                () -> nft.addPorts(List.of(p)), nft::ports, nft::networks, nft::exists,
                () -> nft.removePorts(List.of(p)), () -> nft.removeNetwork(BR0), () -> nft.removeNetwork(BR0),
                nft::deleteTable, nft::deleteTable, nft::exists, nft::ports, nft::networks,
                () -> nft.removePorts(List.of(p)), () -> nft.removeNetwork(BR0));
        for (int i = 0; i < ops.size(); i++) {
            ops.get(i).run();
            assertThat(listOther()).as("table ip hulltestother after operation " + i).isEqualTo(otherBefore);
        }
        assertThat(nft.exists()).isFalse();
        assertThat(new Nftables(OTHER).exists()).isTrue();
    }

    @Test
    void duplicateKeysFailClearlyAndAddNothing() throws Exception {
        assertThat(nft.exists()).isFalse();
        assertThat(nft.ports()).isEmpty();
        assertThat(nft.networks()).isEmpty();
        PortMapping p = new PortMapping("tcp", null, 18080, "10.199.0.2", 80);
        assertThatThrownBy(() -> nft.addPorts(List.of(p)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("add ports [tcp 0.0.0.0:18080 -> 10.199.0.2:80]")
                .hasMessageContaining("No such file or directory"); // nft's stderr: no table yet
        nft.ensure();
        assertThat(nft.exists()).isTrue();
        nft.addPorts(List.of(p));
        PortMapping fresh = new PortMapping("udp", null, 18090, "10.199.0.2", 53);
        PortMapping clash = new PortMapping("TCP", "0.0.0.0", 18080, "10.199.0.3", 8080);
        assertThatThrownBy(() -> nft.addPorts(List.of(fresh, clash)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("already mapped: [tcp 0.0.0.0:18080 -> 10.199.0.2:80]")
                .hasMessageContaining("File exists");
        assertThatThrownBy(() -> nft.addPorts(List.of(p)))
                .isInstanceOf(IOException.class).hasMessageContaining("already mapped");
        assertThat(nft.ports()).as("one transaction: the fresh port was not added either").containsExactly(p);
        assertThatThrownBy(() -> nft.addPorts(List.of(fresh, fresh))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PortMapping("sctp", null, 1, "10.0.0.1", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PortMapping("tcp", null, 0, "10.0.0.1", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PortMapping("tcp", "localhost", 1, "10.0.0.1", 1)).isInstanceOf(IllegalArgumentException.class);

        // the same port on one host address is another key
        PortMapping onLoopback = new PortMapping("tcp", "127.0.0.1", 18080, "10.199.0.3", 80);
        nft.addPorts(List.of(onLoopback, fresh));
        assertThat(nft.ports()).containsExactlyInAnyOrder(p, onLoopback, fresh);
        nft.deleteTable();
        assertThat(nft.exists()).isFalse();
    }

    @Test
    void concurrentEnsureAddNetworkAndAddPortsFromEightThreads() throws Exception {
        try (Netlink nl = Netlink.open()) {
            nl.createBridge(BR0);
        }
        for (int round = 0; round < 3; round++) {
            assertThat(nft.exists()).isFalse();
            int base = 19000 + round * 100;
            CountDownLatch go = new CountDownLatch(1);
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int port = base + i;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        Nftables mine = new Nftables(TABLE); // as another process would
                        mine.ensure();
                        mine.addNetwork(NET0);
                        mine.addPorts(List.of(new PortMapping("tcp", null, port, "10.199.0.2", 80),
                                new PortMapping("udp", "127.0.0.1", port, "10.199.0.2", 53)));
                        mine.ensure();
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            go.countDown();
            for (Thread t : threads) {
                t.join();
            }
            assertThat(errors).as("round " + round).isEmpty();
            assertThat(nft.ports()).hasSize(16);
            assertThat(nft.ports()).extracting(PortMapping::hostPort).containsOnly(
                    base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7);
            assertThat(chainRules("prerouting")).hasSize(4);
            assertThat(chainRules("output")).hasSize(4);
            assertThat(rulesOf(BR0)).as("one copy of the network's rules").hasSize(4);
            nft.deleteTable();
        }
    }

    @Test
    void ensureTurnsOnForwarding() throws Exception {
        // in a namespace of its own, turned off there first (the host's is not ours to turn off): nft and
        // /proc/sys/net both follow the namespace of the thread that runs them
        run("ip", "netns", "add", D);
        Path forward = Path.of("/proc/sys/net/ipv4/ip_forward");
        in(D, () -> Files.writeString(forward, "0\n"));
        assertThat(in(D, () -> Files.readString(forward).strip())).isEqualTo("0");
        assertThat(Files.readString(forward).strip()).as("the host's").isEqualTo("1");
        List<String> tables = in(D, () -> {
            new Nftables(TABLE).ensure();
            return List.of(Files.readString(forward).strip(), run("nft", "list", "tables"));
        });
        assertThat(tables.get(0)).isEqualTo("1");
        assertThat(tables.get(1)).isEqualTo("table ip hulltest\n");
        assertThat(nft.exists()).as("not in the host's namespace").isFalse();
    }

    // ---- topology ----

    /** hulltestbr0 + netns hulltestc, the remote hulltestr, and with second: hulltestbr1 + netns hulltestd. */
    private static void topology(boolean second) throws Exception {
        try (Netlink nl = Netlink.open()) {
            container(nl, C, BR0, "10.199.0");
            if (second) {
                container(nl, D, BR1, "10.198.0");
            }
            run("ip", "netns", "add", R);
            vethInto(nl, "hulltestr0", "hulltestr1", R);
            nl.addAddress("hulltestr0", ip("192.168.199.1"), 24);
            nl.setUp("hulltestr0", true);
            inside(R, "hulltestr1", "192.168.199");
        }
    }

    private static void container(Netlink nl, String ns, String bridge, String net) throws Exception {
        run("ip", "netns", "add", ns);
        nl.createBridge(bridge);
        nl.addAddress(bridge, ip(net + ".1"), 24);
        nl.setUp(bridge, true);
        vethInto(nl, ns + "0", ns + "1", ns);
        nl.setMaster(ns + "0", bridge);
        nl.setUp(ns + "0", true);
        // as the engine must: with br_netfilter loaded, a bridge sends a hairpin-NAT'd packet back out the
        // port it came in on only in hairpin mode
        Files.writeString(Path.of("/sys/class/net", ns + "0", "brport/hairpin_mode"), "1");
        inside(ns, ns + "1", net);
    }

    private static void inside(String ns, String link, String net) throws Exception {
        try (Netlink in = Netlink.openIn(Path.of("/run/netns", ns))) {
            in.setUp("lo", true);
            in.addAddress(link, ip(net + ".2"), 24);
            in.setUp(link, true);
            in.addDefaultRoute(ip(net + ".1"));
        }
    }

    private static void vethInto(Netlink nl, String name, String peer, String ns) throws Exception {
        int fd = nsFd(ns);
        try {
            nl.createVeth(name, peer, fd);
        } finally {
            Syscalls.close(fd);
        }
    }

    private static int nsFd(String ns) throws LinuxException {
        return Syscalls.open("/run/netns/" + ns, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    }

    // ---- sockets in namespaces ----

    /** Runs body on a fresh platform thread inside netns ns (null: here); sockets it creates stay in ns. */
    private static <T> T in(String ns, Callable<T> body) throws Exception {
        if (ns == null) {
            return body.call();
        }
        AtomicReference<T> value = new AtomicReference<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("in-" + ns).start(() -> {
            try {
                int self = Syscalls.open("/proc/thread-self/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
                int target = nsFd(ns);
                try {
                    Syscalls.setns(target, 0x40000000);
                    try {
                        value.set(body.call());
                    } finally {
                        Syscalls.setns(self, 0x40000000);
                    }
                } finally {
                    Syscalls.close(target);
                    Syscalls.close(self);
                }
            } catch (Throwable e) {
                error.set(e);
            }
        });
        t.join();
        if (error.get() instanceof Exception e) {
            throw e;
        } else if (error.get() != null) {
            throw new AssertionError(error.get());
        }
        return value.get();
    }

    /** A TCP server on 0.0.0.0:port in ns answering "name peer-address" to every connection. */
    private void tcpServer(String ns, int port, String name) throws Exception {
        ServerSocket ss = in(ns, () -> {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("0.0.0.0", port));
            return s;
        });
        servers.add(ss);
        Thread.ofVirtual().start(() -> {
            while (!ss.isClosed()) {
                try (Socket c = ss.accept()) {
                    c.getOutputStream().write((name + " " + c.getInetAddress().getHostAddress() + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // closed, or a client gone
                }
            }
        });
    }

    /**
     * A UDP server on 0.0.0.0:port in ns answering "name peer-address" to every datagram; the list it returns
     * gets "payload peer-address" for each datagram received.
     */
    private List<String> udpServer(String ns, int port, String name) throws Exception {
        DatagramChannel ch = in(ns, () -> DatagramChannel.open().bind(new InetSocketAddress("0.0.0.0", port)));
        servers.add(ch);
        List<String> received = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            ByteBuffer buf = ByteBuffer.allocate(512);
            while (ch.isOpen()) {
                try {
                    buf.clear();
                    InetSocketAddress from = (InetSocketAddress) ch.receive(buf);
                    String peer = from.getAddress().getHostAddress();
                    received.add(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8) + " " + peer);
                    ch.send(ByteBuffer.wrap((name + " " + peer).getBytes(StandardCharsets.UTF_8)), from);
                } catch (IOException e) {
                    // closed
                }
            }
        });
        return received;
    }

    /** Sends one datagram from ns, not waiting for any answer. */
    private static void udpSend(String ns, String host, int port, String payload) throws Exception {
        in(ns, () -> {
            try (DatagramSocket s = new DatagramSocket()) {
                byte[] b = payload.getBytes(StandardCharsets.UTF_8);
                s.send(new DatagramPacket(b, b.length, new InetSocketAddress(ip(host), port)));
            }
            return null;
        });
    }

    /** Sends payload from ns to host:9000 every 100 ms for up to 3 s until the list has it: that entry, or null. */
    private static String awaitReceived(String ns, String host, String payload, List<String> received) throws Exception {
        for (long end = System.nanoTime() + 3_000_000_000L; System.nanoTime() < end; ) {
            udpSend(ns, host, 9000, payload);
            Thread.sleep(100);
            for (String m : received) {
                if (m.startsWith(payload + " ")) {
                    return m;
                }
            }
        }
        return null;
    }

    /** The line a TCP server at host:port sends to a client in ns, or null if it cannot connect in FAIL_MS. */
    private static String tcp(String ns, String host, int port) throws Exception {
        return in(ns, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(ip(host), port), FAIL_MS);
                s.setSoTimeout(FAIL_MS);
                return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
            } catch (IOException e) {
                return null;
            }
        });
    }

    /** The answer of a UDP server at host:port to a datagram from ns, or null if none in FAIL_MS. */
    private static String udp(String ns, String host, int port) throws Exception {
        return in(ns, () -> {
            try (DatagramSocket s = new DatagramSocket()) {
                s.setSoTimeout(FAIL_MS);
                byte[] ping = "ping".getBytes(StandardCharsets.UTF_8);
                s.send(new DatagramPacket(ping, ping.length, new InetSocketAddress(ip(host), port)));
                DatagramPacket in = new DatagramPacket(new byte[512], 512);
                s.receive(in);
                return new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return null;
            }
        });
    }

    /** tcp, retried for up to 3s while it fails (a fresh link may need a moment). */
    private static String awaitTcp(String ns, String host, int port) throws Exception {
        String out = null;
        for (long end = System.nanoTime() + 3_000_000_000L; out == null && System.nanoTime() < end; ) {
            out = tcp(ns, host, port);
        }
        return out;
    }

    private static String awaitUdp(String ns, String host, int port) throws Exception {
        String out = null;
        for (long end = System.nanoTime() + 3_000_000_000L; out == null && System.nanoTime() < end; ) {
            out = udp(ns, host, port);
        }
        return out;
    }

    // ---- reading the table ----

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static List<JsonNode> tableItems(String kind) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode item : JSON.readTree(run("nft", "-j", "-a", "list", "table", "ip", TABLE)).path("nftables")) {
            if (item.has(kind)) {
                out.add(item.get(kind));
            }
        }
        return out;
    }

    private static List<JsonNode> chainRules(String chain) throws Exception {
        return tableItems("rule").stream().filter(r -> r.path("chain").asText().equals(chain)).toList();
    }

    /** Rules whose comment names the bridge. */
    private static List<JsonNode> rulesOf(String bridge) throws Exception {
        return tableItems("rule").stream()
                .filter(r -> List.of(r.path("comment").asText("").split(" ")).contains(bridge)).toList();
    }

    private static List<String> bridgesSet() throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode set : tableItems("set")) {
            if (set.path("name").asText().equals("bridges")) {
                set.path("elem").forEach(e -> out.add(e.asText()));
            }
        }
        return out;
    }

    private static String listOther() throws Exception {
        return run("nft", "list", "table", "ip", OTHER);
    }

    // ---- helpers ----

    private static void cleanUp() throws Exception {
        for (JsonNode item : JSON.readTree(run("nft", "-j", "list", "tables")).path("nftables")) {
            JsonNode t = item.get("table");
            if (t != null && t.path("name").asText().startsWith("hulltest")) {
                run("nft", "delete", "table", t.path("family").asText(), t.path("name").asText());
            }
        }
        try (Netlink nl = Netlink.open()) {
            for (Netlink.Link l : nl.links()) {
                if (l.name().startsWith("hulltest")) {
                    try {
                        nl.deleteLink(l.name());
                    } catch (LinuxException e) {
                        if (e.errno() != Errno.ENODEV) { // a veth peer already gone with its other end
                            throw e;
                        }
                    }
                }
            }
        }
        for (String line : run("ip", "netns", "list").lines().toList()) {
            String name = line.split(" ")[0];
            if (name.startsWith("hulltest")) {
                run("ip", "netns", "del", name);
            }
        }
    }

    private static void nftScript(String script) throws Exception {
        Process p = new ProcessBuilder("nft", "-f", "-").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(script.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("nft -f - failed: " + out);
        }
    }

    private static Inet4Address ip(String s) throws Exception {
        return (Inet4Address) InetAddress.getByName(s);
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}
