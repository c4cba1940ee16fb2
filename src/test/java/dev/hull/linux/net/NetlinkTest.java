package dev.hull.linux.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.testing.HostLock;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Netlink against the real kernel (root): a bridge, veth pairs, a network
 * namespace the test makes with {@code ip netns add}, addresses, routes and a
 * ping across. Every step is read back through Netlink and through
 * {@code ip -j}; everything named hulltest* is removed after each test.
 */
class NetlinkTest {
    private static final String NS = "hulltestns";
    private static final Path NS_FILE = Path.of("/run/netns", NS);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The hulltest* names are this test's (and NftablesTest's) on the host only while it holds this. */
    static HostLock names;

    @BeforeAll
    static void rootOnly() throws Exception {
        assumeTrue(Syscalls.getuid() == 0, "netlink link changes need root");
        names = HostLock.exclusive("hulltest-names");
        cleanUp();
    }

    @AfterEach
    void removeEverything() throws Exception {
        cleanUp();
        assertThat(hostLinks()).noneMatch(n -> n.startsWith("hulltest"));
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
    void bridgeVethIntoNetnsAddressesRouteAndPing() throws Exception {
        run("ip", "netns", "add", NS);
        try (Netlink nl = Netlink.open()) {
            nl.createBridge("hulltest0");
            nl.addAddress("hulltest0", ip("10.199.0.1"), 24);
            nl.setUp("hulltest0", true);

            Netlink.Link bridge = nl.link("hulltest0");
            assertThat(bridge.kind()).isEqualTo("bridge");
            assertThat(bridge.up()).isTrue();
            assertThat(nl.index("hulltest0")).isEqualTo(bridge.index());
            assertThat(nl.addresses()).contains(new Netlink.Address(bridge.index(), ip("10.199.0.1"), 24));
            JsonNode ipBridge = ipJson("link", "show", "hulltest0").get(0);
            assertThat(ipBridge.get("ifindex").asInt()).isEqualTo(bridge.index());
            assertThat(flags(ipBridge)).contains("UP");
            assertThat(ipAddrs(null, "hulltest0")).containsExactly("10.199.0.1/24");

            nl.createVeth("hulltest1", "hulltest2");
            assertThat(nl.links()).extracting(Netlink.Link::name).contains("hulltest1", "hulltest2");
            assertThat(nl.link("hulltest1").kind()).isEqualTo("veth");

            nl.setMaster("hulltest1", "hulltest0");
            nl.setUp("hulltest1", true);
            assertThat(nl.link("hulltest1").master()).isEqualTo(bridge.index());
            assertThat(ipJson("link", "show", "hulltest1").get(0).get("master").asText()).isEqualTo("hulltest0");

            int nsFd = Syscalls.open(NS_FILE.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                nl.moveToNetns("hulltest2", nsFd);
            } finally {
                Syscalls.close(nsFd);
            }
            assertThat(nl.links()).extracting(Netlink.Link::name).doesNotContain("hulltest2");
            assertThat(hostLinks()).doesNotContain("hulltest2");
        }

        try (Netlink inNs = Netlink.openIn(NS_FILE)) {
            assertThat(inNs.links()).extracting(Netlink.Link::name).containsExactlyInAnyOrder("lo", "hulltest2");
            inNs.setUp("lo", true);
            inNs.addAddress("hulltest2", ip("10.199.0.2"), 24);
            inNs.setUp("hulltest2", true);
            inNs.addDefaultRoute(ip("10.199.0.1"));

            assertThat(inNs.link("hulltest2").up()).isTrue();
            assertThat(inNs.addresses()).contains(
                    new Netlink.Address(inNs.index("hulltest2"), ip("10.199.0.2"), 24));
        }
        // the JVM's own namespace is untouched by openIn
        assertThat(hostLinks()).doesNotContain("hulltest2");
        assertThat(flags(ipJson(NS, "link", "show", "hulltest2").get(0))).contains("UP");
        assertThat(ipAddrs(NS, "hulltest2")).containsExactly("10.199.0.2/24");
        JsonNode routes = ipJson(NS, "route", "show", "default");
        assertThat(routes.get(0).get("gateway").asText()).isEqualTo("10.199.0.1");
        assertThat(routes.get(0).get("dev").asText()).isEqualTo("hulltest2");

        String ping = Files.isExecutable(Path.of("/usr/bin/ping")) || Files.isExecutable(Path.of("/bin/ping"))
                ? "ping" : null;
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", NS));
        if (ping == null) {
            cmd.add("busybox");
        }
        cmd.addAll(List.of("ping", "-c1", "-W1", "10.199.0.1"));
        // the bridge may need a moment to forward on a fresh port
        String out = null;
        for (int i = 0; i < 5 && out == null; i++) {
            try {
                out = run(cmd.toArray(String[]::new));
            } catch (IOException e) {
                Thread.sleep(300);
            }
        }
        assertThat(out).as("ping 10.199.0.1 from the netns").isNotNull().contains("1 packets received");

        try (Netlink nl = Netlink.open()) {
            nl.removeAddress("hulltest0", ip("10.199.0.1"), 24);
            assertThat(ipAddrs(null, "hulltest0")).isEmpty();
            nl.setUp("hulltest0", false);
            assertThat(nl.link("hulltest0").up()).isFalse();
            nl.deleteLink("hulltest1"); // its peer in the netns goes with it
        }
        assertThat(run("ip", "-n", NS, "link", "show")).doesNotContain("hulltest2");
    }

    @Test
    void vethPeerMadeDirectlyInNetnsAndMtu() throws Exception {
        run("ip", "netns", "add", NS);
        try (Netlink nl = Netlink.open()) {
            int nsFd = Syscalls.open(NS_FILE.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                nl.createVeth("hulltest3", "hulltest4", nsFd);
            } finally {
                Syscalls.close(nsFd);
            }
            assertThat(hostLinks()).contains("hulltest3").doesNotContain("hulltest4");
            nl.setMtu("hulltest3", 1400);
            assertThat(nl.link("hulltest3").mtu()).isEqualTo(1400);
            assertThat(ipJson("link", "show", "hulltest3").get(0).get("mtu").asInt()).isEqualTo(1400);
        }
        try (Netlink inNs = Netlink.openIn(NS_FILE)) {
            assertThat(inNs.link("hulltest4").kind()).isEqualTo("veth");
            inNs.setMtu("hulltest4", 1300);
            inNs.addAddress("hulltest4", ip("10.199.1.2"), 24);
            inNs.setUp("hulltest4", true);
            inNs.addRoute(ip("10.198.0.0"), 16, ip("10.199.1.1"), "hulltest4");
        }
        assertThat(ipJson(NS, "link", "show", "hulltest4").get(0).get("mtu").asInt()).isEqualTo(1300);
        JsonNode route = ipJson(NS, "route", "show", "10.198.0.0/16").get(0);
        assertThat(route.get("gateway").asText()).isEqualTo("10.199.1.1");
    }

    @Test
    void errorsNameTheOperationAndTheLink() throws Exception {
        try (Netlink nl = Netlink.open()) {
            nl.createBridge("hulltest0");
            assertThatThrownBy(() -> nl.createBridge("hulltest0"))
                    .isInstanceOfSatisfying(LinuxException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.EEXIST);
                        assertThat(e.call()).contains("create bridge \"hulltest0\"");
                        assertThat(e.getMessage()).contains("EEXIST");
                    });
            assertThatThrownBy(() -> nl.deleteLink("hulltest9"))
                    .isInstanceOfSatisfying(LinuxException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.ENODEV);
                        assertThat(e.getMessage()).contains("delete link \"hulltest9\"").contains("ENODEV");
                    });
            assertThatThrownBy(() -> nl.index("hulltest9"))
                    .isInstanceOfSatisfying(LinuxException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENODEV));
            assertThatThrownBy(() -> nl.setMtu("hulltest0", 10))
                    .isInstanceOfSatisfying(LinuxException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
                        // with the kernel's extended-ack text
                        assertThat(e.call()).isEqualTo(
                                "netlink set link \"hulltest0\" mtu 10 (kernel: mtu less than device minimum)");
                    });
            nl.deleteLink("hulltest0");
            assertThat(hostLinks()).doesNotContain("hulltest0");
        }
    }

    @Test
    void openInRefusesWhatIsNotANetworkNamespace() {
        assertThatThrownBy(() -> Netlink.openIn(Path.of("/proc/self/ns/uts")))
                .isInstanceOfSatisfying(LinuxException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.EINVAL);
                    assertThat(e.call()).startsWith("setns(");
                });
        assertThatThrownBy(() -> Netlink.openIn(Path.of("/run/netns/hulltest-missing")))
                .isInstanceOfSatisfying(LinuxException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
    }

    // ---- helpers ----

    private static void cleanUp() throws Exception {
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
        if (Files.exists(NS_FILE)) {
            run("ip", "netns", "del", NS);
        }
    }

    private static Inet4Address ip(String s) throws Exception {
        return (Inet4Address) InetAddress.getByName(s);
    }

    private static List<String> hostLinks() throws Exception {
        return StreamSupport.stream(ipJson("link", "show").spliterator(), false)
                .map(n -> n.get("ifname").asText()).toList();
    }

    private static List<String> flags(JsonNode link) {
        return StreamSupport.stream(link.get("flags").spliterator(), false).map(JsonNode::asText).toList();
    }

    private static List<String> ipAddrs(String ns, String dev) throws Exception {
        JsonNode links = ns == null ? ipJson("-4", "addr", "show", "dev", dev) : ipJson(ns, "-4", "addr", "show", "dev", dev);
        List<String> out = new ArrayList<>();
        for (JsonNode l : links) {
            for (JsonNode a : l.get("addr_info")) {
                out.add(a.get("local").asText() + "/" + a.get("prefixlen").asInt());
            }
        }
        return out;
    }

    /** ip -j ARGS (first arg NS runs it in that netns). */
    private static JsonNode ipJson(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "-j"));
        if (args[0].equals(NS)) {
            cmd.addAll(List.of("-n", NS));
            cmd.addAll(List.of(args).subList(1, args.length));
        } else {
            cmd.addAll(List.of(args));
        }
        String out = run(cmd.toArray(String[]::new));
        return JSON.readTree(out.isBlank() ? "[]" : out);
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
