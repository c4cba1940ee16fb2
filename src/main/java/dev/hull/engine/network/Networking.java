package dev.hull.engine.network;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.net.Netlink;
import dev.hull.linux.net.NetworkNamespaces;
import dev.hull.linux.net.Nftables;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Wires containers to networks, docker's bridge model done with the kernel's own interfaces:
 * <ul>
 * <li>a network namespace per container, bind-mounted at {@code HULL_STATE/netns/ID} (restarts by
 * the monitor join the same one);</li>
 * <li>per network a Linux bridge holding the gateway address; per container and network a veth
 * pair, the container's end made directly inside its namespace (eth0, eth1 ...), the host's end
 * ({@code hv} + 11 hex digits of the id + the slot) on the bridge; addresses from
 * {@link NetworkStore}'s leases;</li>
 * <li>NAT and published ports in nftables ({@link Nftables}, table {@code ip hull}): the kernel
 * forwards every packet, no proxy process;</li>
 * <li>/etc/hosts, /etc/hostname, /etc/resolv.conf per container ({@link HostFiles}); on
 * user-defined networks every container's /etc/hosts lists its wired peers by name, alias and
 * short id, rewritten as they come and go.</li>
 * </ul>
 * What a container holds is written to its {@code network.json} before it is made (its address
 * and host-port leases just after they are taken), so tear-down (stop, rm, the next start) removes
 * exactly that and is safe to repeat; {@link #reclaim} finds what a crash left between a lease and
 * its record by the lease's owner.
 */
public final class Networking {
    static final ObjectMapper JSON = new ObjectMapper();
    public static final String STATE_FILE = "network.json";
    /** network.json is replaced whole: a stat tells whether what was parsed last is still it (ps, the API's list). */
    private static final dev.hull.linux.FileMemo<NetworkState> STATES =
            new dev.hull.linux.FileMemo<>(b -> JSON.readValue(b, NetworkState.class));

    private final NetworkStore store;
    private final Path netnsDir;
    private final Function<String, Path> containerDir;
    private final Nftables nft;
    private final Function<String, Closeable> claimIdle;
    /** Rootless: the user's bridges' namespace and the containers' user-mode stacks; null as root. */
    private UserModeNetwork userMode;

    /**
     * @param claimIdle the container's lock if it is idle (not running, nobody changing it) or gone,
     *                  held while its leftovers are removed; null if busy
     */
    public Networking(NetworkStore store, Path stateRoot, Function<String, Path> containerDir, Nftables nft,
            Function<String, Closeable> claimIdle) {
        this.store = store;
        this.netnsDir = stateRoot.resolve("netns");
        this.containerDir = containerDir;
        this.nft = nft;
        this.claimIdle = claimIdle;
    }

    /** Rootless wiring ({@link UserModeNetwork}) instead of the host's bridges and nftables. */
    public void rootless(UserModeNetwork u) {
        this.userMode = u;
    }

    /** The rootless wiring, or null (root, or rootless without a usable stack: network none only). */
    public UserModeNetwork userMode() {
        return userMode;
    }

    /** The netlink socket of where the bridges are: the host, or rootless the user's bridges' namespace. */
    private Netlink openHost() throws IOException, LinuxException {
        return userMode == null ? Netlink.open() : userMode.openBridges();
    }

    public NetworkStore store() {
        return store;
    }

    public Nftables nftables() {
        return nft;
    }

    public Path netnsFile(String id) {
        return netnsDir.resolve(id);
    }

    private Path stateFile(String id) {
        return containerDir.apply(id).resolve(STATE_FILE);
    }

    /** The container's wiring now; null when it has none. */
    public NetworkState state(String id) throws IOException {
        return STATES.read(stateFile(id));
    }

    private void save(String id, NetworkState st) throws IOException {
        Path f = stateFile(id);
        Path tmp = f.resolveSibling(STATE_FILE + ".tmp");
        Files.write(tmp, JSON.writeValueAsBytes(st));
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE);
    }

    // ---------------------------------------------------------------- create

    /** At create: the networks exist, --ip fits them, ports and hosts parse; nothing is made. */
    public void check(NetworkRequest r) throws IOException, RuntimeError {
        if (!r.wired()) {
            if (!r.ports().isEmpty()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "-p/-P need a bridge network; --network "
                        + r.mode() + " has no ports of its own to publish");
            }
            if (r.attachments().stream().anyMatch(a -> a.ip() != null)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ip needs a user-defined network");
            }
            return;
        }
        Set<String> seen = new HashSet<>();
        for (NetworkRequest.Attachment a : r.attachments()) {
            NetworkInfo n = store.resolve(a.network());
            if (!seen.add(n.name())) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "network " + n.name() + " is given twice");
            }
            if (a.ip() != null) {
                if (n.name().equals(NetworkStore.DEFAULT)) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ip " + a.ip()
                            + ": an address of your choice needs a user-defined network (hull network create)");
                }
                requestedIp(n, a.ip());
            }
            if (!a.aliases().isEmpty() && !n.dns()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--network-alias needs a user-defined network");
            }
        }
        if (userMode != null) {
            UserModeNetwork.checkPorts(r.ports());
        }
        Set<String> hostPorts = new HashSet<>();
        for (PortSpec p : r.ports()) {
            if (p.hostPort() != 0 && !hostPorts.add(p.protocol() + "/" + p.hostPort())) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "-p: host port " + p.hostPort() + "/"
                        + p.protocol() + " is given twice");
            }
        }
        if (r.attachments().size() > 16) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "a container can be on 16 networks at most");
        }
    }

    private static int requestedIp(NetworkInfo n, String ip) throws RuntimeError {
        int v;
        try {
            v = Subnet.parseIp(ip);
        } catch (IllegalArgumentException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ip " + e.getMessage());
        }
        if (!n.parsedSubnet().host(v) || v == n.gatewayIp()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ip " + ip + " is not a free host address of network "
                    + n.name() + " (" + n.subnet() + ", gateway " + n.gateway() + ")");
        }
        return v;
    }

    /**
     * The container's /etc/hostname, /etc/hosts and /etc/resolv.conf as they are before any
     * address is known (--network none and host keep these).
     */
    public void writeFiles(NetworkRequest r, Path dir) throws IOException {
        boolean host = r.mode().equals("host");
        HostFiles.write(dir.resolve(HostFiles.HOSTNAME), r.hostname() + "\n");
        HostFiles.write(dir.resolve(HostFiles.HOSTS), HostFiles.hosts(r.hostname(), List.of(),
                addHosts(r.addHosts(), null), List.of(), host));
        HostFiles.write(dir.resolve(HostFiles.RESOLV), HostFiles.resolvConf(r.dns(), r.dnsSearch(), r.dnsOptions(),
                host));
    }

    private static List<String> addHosts(List<String> addHosts, String gateway) {
        List<String> out = new ArrayList<>();
        for (String h : addHosts) {
            int c = h.indexOf(':');
            if (h.substring(c + 1).equals("host-gateway")) {
                if (gateway != null) {
                    out.add(h.substring(0, c) + ":" + gateway);
                }
            } else {
                out.add(h);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- start / stop

    /** At start: the namespace, its links and addresses, published ports, host files. */
    public NetworkState setUp(NetworkRequest r) throws IOException, RuntimeError {
        tearDown(r.id());
        Path ns = netnsFile(r.id());
        NetworkState st = new NetworkState(r.name(), r.hostname(), ns.toString(), List.of(), List.of(), r.addHosts());
        save(r.id(), st);
        boolean ok = false;
        try {
            dev.hull.linux.SecureDirs.ensure(ns.getParent(), dev.hull.linux.SecureDirs.PRIVATE); // HULL_STATE/netns
            NetworkNamespaces.create(ns);
            try (Netlink host = openHost(); Netlink in = Netlink.openIn(ns)) {
                List<NetworkRequest.Attachment> as = r.attachments();
                for (int slot = 0; slot < as.size(); slot++) {
                    st = attach(host, in, st, r.id(), as.get(slot), slot, slot == 0 ? r.mac() : null);
                }
            }
            st = publish(st, r);
            if (userMode != null && st.endpoints().stream().anyMatch(x -> !internal(x))) {
                userMode.start(ns, st.ports(), containerDir.apply(r.id())); // the way out, the published ports
            }
            writeHosts(r.id(), st);
            HostFiles.write(containerDir.apply(r.id()).resolve(HostFiles.RESOLV),
                    HostFiles.resolvConf(r.dns(), r.dnsSearch(), r.dnsOptions(), false));
            refreshPeers(st, r.id());
            ok = true;
            return st;
        } catch (LinuxException e) {
            throw new IOException("wiring container " + r.name() + ": " + e.getMessage(), e);
        } finally {
            if (!ok) {
                tearDown(r.id());
            }
        }
    }

    private NetworkState attach(Netlink host, Netlink in, NetworkState st, String id, NetworkRequest.Attachment a,
            int slot, String mac) throws IOException, RuntimeError, LinuxException {
        NetworkInfo n = store.resolve(a.network());
        int ip;
        try (Closeable l = lockExisting(n)) {
            ensureBridge(host, n);
            ip = a.ip() != null ? leaseRequested(n, a.ip(), id) : leaseAny(n, id);
        }
        String veth = "hv" + id.substring(0, 11) + Integer.toHexString(slot);
        String ifname = "eth" + slot;
        byte[] hw;
        try {
            hw = mac != null ? Netlink.parseMac(mac) : derivedMac(ip);
        } catch (IllegalArgumentException e) {
            store.release(n, Subnet.format(ip), id);
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--mac-address " + e.getMessage());
        }
        List<String> aliases = new ArrayList<>(a.aliases());
        NetworkState.Endpoint e = new NetworkState.Endpoint(n.name(), n.id(), ifname, veth, Subnet.format(ip),
                n.parsedSubnet().prefix(), n.gateway(), Netlink.formatMac(hw), aliases, n.dns());
        List<NetworkState.Endpoint> eps = new ArrayList<>(st.endpoints());
        boolean routed = eps.stream().anyMatch(x -> !internal(x));
        eps.add(e);
        st = st.withEndpoints(eps);
        save(id, st);
        int fd = Syscalls.open(st.netns(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            host.createVeth(veth, ifname, fd);
        } finally {
            Syscalls.close(fd);
        }
        host.setMaster(veth, n.bridge());
        hairpin(veth);
        host.setUp(veth, true);
        in.setMac(ifname, hw);
        in.addAddress(ifname, Subnet.inet(ip), n.parsedSubnet().prefix());
        in.setUp(ifname, true);
        if (!routed && !n.internal() && userMode == null) { // rootless: the user-mode stack's tap0 is the way out
            in.addDefaultRoute(Subnet.inet(n.gatewayIp()));
        }
        return st;
    }

    private boolean internal(NetworkState.Endpoint e) {
        try {
            NetworkInfo n = store.read(e.network());
            return n == null || n.internal();
        } catch (IOException x) {
            return true;
        }
    }

    /** The network's lock, once it is sure the network was not removed (or made anew) meanwhile. */
    private Closeable lockExisting(NetworkInfo n) throws IOException, RuntimeError {
        Closeable l;
        try {
            l = store.lock(n.name());
        } catch (NoSuchFileException e) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "network " + n.name() + " was removed meanwhile");
        }
        NetworkInfo now = store.read(n.name());
        if (now == null || !now.id().equals(n.id())) {
            l.close();
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "network " + n.name() + " was removed meanwhile");
        }
        return l;
    }

    /** docker's MAC: 02:42 and the four bytes of the address (locally administered, unique per network). */
    static byte[] derivedMac(int ip) {
        return new byte[] {0x02, 0x42, (byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
    }

    /** A container reaching its own published port through a host address goes out and back the same port. */
    private static void hairpin(String veth) {
        try {
            Files.writeString(Path.of("/sys/class/net", veth, "brport", "hairpin_mode"), "1");
        } catch (IOException e) {
            // without it only self-connections through a published port fail
        }
    }

    /**
     * The network's bridge, made (with the gateway address and its NAT rules) if missing, e.g. on
     * first use or after a reboot. The caller holds the network's lock.
     */
    private void ensureBridge(Netlink host, NetworkInfo n) throws IOException, LinuxException {
        Path ready = store.dir(n.name()).resolve("bridge-ready");
        int index;
        try {
            Netlink.Link l = host.link(n.bridge());
            index = l.index();
            if (!l.up()) {
                host.setUp(n.bridge(), true);
            }
        } catch (LinuxException e) {
            if (e.errno() != Errno.ENODEV) {
                throw e;
            }
            try {
                host.createBridge(n.bridge());
            } catch (LinuxException x) {
                if (x.errno() != Errno.EEXIST) {
                    throw x;
                }
            }
            try {
                host.addAddress(n.bridge(), Subnet.inet(n.gatewayIp()), n.parsedSubnet().prefix());
            } catch (LinuxException x) {
                if (x.errno() != Errno.EEXIST) {
                    throw x;
                }
            }
            host.setUp(n.bridge(), true);
            index = host.index(n.bridge());
        }
        if (userMode != null) {
            return; // the user's bridges' namespace: a switch, no NAT of its own
        }
        // The rules go with this incarnation of the bridge (boot, namespace, index) and this layout of
        // them: a new bridge, a reboot or a Hull with other rules writes them again.
        String mark = incarnation(index);
        try {
            if (Files.readString(ready).equals(mark)) {
                return;
            }
        } catch (NoSuchFileException e) {
            // first time
        }
        nft.ensure();
        addNetworkRules(n);
        Files.writeString(ready, mark);
    }

    private static String incarnation(int index) {
        String boot;
        String netns;
        try {
            boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
            netns = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        } catch (IOException e) {
            boot = "?";
            netns = "?";
        }
        return boot + " " + netns + " " + index + " layout " + Nftables.LAYOUT;
    }

    private void addNetworkRules(NetworkInfo n) throws IOException {
        Nftables.NetworkRule rule = new Nftables.NetworkRule(n.bridge(), n.subnet(), n.internal());
        if (!nft.networks().contains(rule)) {
            nft.addNetwork(rule);
        }
    }

    /**
     * The table, every network's rules (for the networks whose bridges exist) and the published
     * ports of wired containers again: after a firewall reload flushed the host's rules (`nft
     * flush ruleset`), say. Returns how many networks.
     */
    public int restoreRules() throws IOException {
        if (userMode != null) {
            return 0; // rootless: no rules of Hull's anywhere
        }
        nft.ensure();
        int n = 0;
        try (Netlink host = Netlink.open()) {
            for (NetworkInfo net : store.list()) {
                int index;
                try {
                    index = host.index(net.bridge());
                } catch (LinuxException e) {
                    continue; // made again with its rules at its next use
                }
                try (Closeable l = store.lock(net.name())) {
                    addNetworkRules(net);
                    Files.writeString(store.dir(net.name()).resolve("bridge-ready"), incarnation(index));
                }
                n++;
            }
        } catch (LinuxException e) {
            throw new IOException("listing the networks' bridges: " + e.getMessage(), e);
        }
        // and the published ports of this home's wired containers
        Set<Nftables.PortMapping> present = new HashSet<>(nft.ports());
        for (String owner : new LinkedHashSet<>(store.portLeases().values())) {
            NetworkState st = state(owner);
            if (st != null) {
                List<Nftables.PortMapping> missing = st.ports().stream().filter(p -> !present.contains(p)).toList();
                if (!missing.isEmpty()) {
                    nft.addPorts(missing);
                }
            }
        }
        return n;
    }

    private int leaseRequested(NetworkInfo n, String ipText, String id) throws IOException, RuntimeError {
        int ip = requestedIp(n, ipText);
        for (int attempt = 0; attempt < 2; attempt++) {
            if (store.lease(n, ip, id)) {
                return ip;
            }
            String holder = store.leases(n).get(ipText);
            if (holder == null || holder.equals(id)) {
                continue;
            }
            if (!reclaimContainer(holder)) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "--ip " + ipText + ": network " + n.name()
                        + " gave that address to container " + holder.substring(0, Math.min(12, holder.length())));
            }
        }
        throw new RuntimeError(RuntimeError.Kind.FAILED, "--ip " + ipText + " is taken on network " + n.name());
    }

    private int leaseAny(NetworkInfo n, String id) throws IOException, RuntimeError {
        try {
            return store.leaseNext(n, id);
        } catch (RuntimeError full) {
            // a full network may hold addresses of containers that ended on their own: free those, once
            for (var e : store.leases(n).entrySet()) {
                reclaimContainer(e.getValue());
            }
            return store.leaseNext(n, id);
        }
    }

    private NetworkState publish(NetworkState st, NetworkRequest r) throws IOException, RuntimeError {
        if (r.ports().isEmpty()) {
            return st;
        }
        String target = st.endpoints().getFirst().ip();
        List<Nftables.PortMapping> maps = new ArrayList<>();
        for (PortSpec p : r.ports()) {
            int port = p.hostPort() == 0 ? ephemeral(p, r.id()) : reserve(p, r.id());
            maps.add(new Nftables.PortMapping(p.protocol(), p.hostIp(), port, target, p.containerPort()));
            st = st.withPorts(List.copyOf(maps));
            save(r.id(), st);
        }
        if (userMode != null) {
            return st; // forwarded by the container's user-mode stack (setUp)
        }
        try {
            nft.addPorts(maps);
        } catch (IOException e) {
            if (!nft.exists()) { // the table went (nft flush ruleset, say) while the bridges stayed: make it again
                restoreRules();
            } else { // the port leases are ours: a rule under one of their keys is stale
                List<Nftables.PortMapping> stale = staleMappings(maps);
                if (stale.isEmpty()) {
                    throw e;
                }
                nft.removePorts(stale);
            }
            nft.addPorts(maps);
        }
        return st;
    }

    /**
     * Rules under the keys of maps, whose host ports the caller has just leased (host-wide, so no
     * other container holds them): left by a wiring whose record was lost (a deleted home, say).
     */
    private List<Nftables.PortMapping> staleMappings(List<Nftables.PortMapping> maps) throws IOException {
        List<Nftables.PortMapping> stale = new ArrayList<>();
        for (Nftables.PortMapping have : nft.ports()) {
            if (maps.stream().anyMatch(m -> m.protocol().equals(have.protocol()) && m.hostPort() == have.hostPort()
                    && java.util.Objects.equals(m.hostIp(), have.hostIp()))) {
                stale.add(have);
            }
        }
        return stale;
    }

    private int reserve(PortSpec p, String id) throws IOException, RuntimeError {
        String where = (p.hostIp() == null ? "0.0.0.0" : p.hostIp()) + ":" + p.hostPort() + "/" + p.protocol();
        requireLocal(p, where);
        for (int attempt = 0; attempt < 2; attempt++) {
            String holder = store.leasePort(p.protocol(), p.hostPort(), id);
            if (holder == null || holder.equals(id)) {
                if (!bindable(p.protocol(), p.hostIp(), p.hostPort())) {
                    store.releasePort(p.protocol(), p.hostPort(), id);
                    throw new RuntimeError(RuntimeError.Kind.FAILED, "publishing " + where
                            + ": a process on the host listens on that port");
                }
                return p.hostPort();
            }
            if (!reclaimContainer(holder)) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "publishing " + where + ": the port is already"
                        + " published by " + (holder.matches("[0-9a-f]{64}") ? "container " + holder.substring(0, 12)
                                : holder));
            }
        }
        throw new RuntimeError(RuntimeError.Kind.FAILED, "publishing " + where + ": the port is taken");
    }

    /** A free port the kernel picks from its ephemeral range (docker's way), leased for the container. */
    /** A -p host address must be one of the host's own (else nothing would ever reach the rule). */
    private static void requireLocal(PortSpec p, String where) throws IOException, RuntimeError {
        if (p.hostIp() != null && java.net.NetworkInterface.getByInetAddress(InetAddress.getByName(p.hostIp())) == null) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "publishing " + where + ": " + p.hostIp()
                    + " is not an address of this host");
        }
    }

    private int ephemeral(PortSpec p, String id) throws IOException, RuntimeError {
        requireLocal(p, p.hostIp() + "::" + p.containerPort() + "/" + p.protocol());
        for (int attempt = 0; attempt < 64; attempt++) {
            int port = freePort(p.protocol(), p.hostIp());
            if (store.leasePort(p.protocol(), port, id) == null) {
                return port;
            }
        }
        throw new RuntimeError(RuntimeError.Kind.FAILED, "no free host port for " + p.containerPort() + "/"
                + p.protocol());
    }

    private static int freePort(String protocol, String hostIp) throws IOException {
        InetAddress a = hostIp == null ? null : InetAddress.getByName(hostIp);
        if (protocol.equals("udp")) {
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(a, 0))) {
                return s.getLocalPort();
            }
        }
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(a, 0));
            return s.getLocalPort();
        }
    }

    private static boolean bindable(String protocol, String hostIp, int port) {
        try {
            InetAddress a = hostIp == null ? null : InetAddress.getByName(hostIp);
            if (protocol.equals("udp")) {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(a, port))) {
                    return true;
                }
            }
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true); // sockets in TIME_WAIT do not hold the port
                s.bind(new InetSocketAddress(a, port));
                return true;
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** Removes everything the container's network.json names; safe to repeat, and with nothing there. */
    public void tearDown(String id) throws IOException {
        NetworkState st = state(id);
        if (st == null) {
            if (userMode != null) {
                userMode.stop(containerDir.apply(id));
            }
            NetworkNamespaces.remove(netnsFile(id));
            return;
        }
        if (userMode != null) {
            userMode.stop(containerDir.apply(id));
        } else if (!st.ports().isEmpty()) {
            nft.removePorts(st.ports());
        }
        if (!st.ports().isEmpty()) {
            for (Nftables.PortMapping p : st.ports()) {
                store.releasePort(p.protocol(), p.hostPort(), id);
            }
        }
        if (!st.endpoints().isEmpty()) {
            try (Netlink host = openHost()) {
                for (NetworkState.Endpoint e : st.endpoints()) {
                    deleteLink(host, e.hostVeth());
                }
            } catch (LinuxException e) {
                throw new IOException("removing the links of container " + st.name() + ": " + e.getMessage(), e);
            }
        }
        NetworkNamespaces.remove(st.netns() != null ? Path.of(st.netns()) : netnsFile(id));
        for (NetworkState.Endpoint e : st.endpoints()) {
            NetworkInfo n = store.read(e.network());
            if (n != null) {
                store.release(n, e.ip(), id);
            }
        }
        Files.deleteIfExists(stateFile(id));
        refreshPeers(st, id);
    }

    private static void deleteLink(Netlink host, String name) throws LinuxException {
        try {
            host.deleteLink(name);
        } catch (LinuxException e) {
            if (e.errno() != Errno.ENODEV) {
                throw e;
            }
        }
    }

    // ---------------------------------------------------------------- connect / disconnect

    /** {@code hull network connect} for a running container: one more interface, now. */
    public NetworkState connect(String id, NetworkRequest.Attachment a) throws IOException, RuntimeError {
        NetworkState st = state(id);
        if (st == null) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "the container has no network namespace of Hull's"
                    + " (--network none, host or container:)");
        }
        NetworkInfo n = store.resolve(a.network());
        if (st.endpoints().stream().anyMatch(e -> e.network().equals(n.name()))) {
            throw new RuntimeError(RuntimeError.Kind.EXISTS, "the container is already on network " + n.name());
        }
        Set<Integer> used = new HashSet<>();
        for (NetworkState.Endpoint e : st.endpoints()) {
            used.add(Integer.parseInt(e.ifname().substring(3)));
        }
        int slot = 0;
        while (used.contains(slot)) {
            slot++;
        }
        if (slot > 15) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "a container can be on 16 networks at most");
        }
        try (Netlink host = openHost(); Netlink in = Netlink.openIn(Path.of(st.netns()))) {
            st = attach(host, in, st, id, a, slot, null);
        } catch (LinuxException e) {
            throw new IOException("connecting to network " + n.name() + ": " + e.getMessage(), e);
        }
        writeHosts(id, st);
        refreshPeers(st, id);
        return st;
    }

    /** {@code hull network disconnect} for a running container. */
    public void disconnect(String id, String network) throws IOException, RuntimeError {
        NetworkState st = state(id);
        NetworkInfo n = store.resolve(network);
        NetworkState.Endpoint e = st == null ? null
                : st.endpoints().stream().filter(x -> x.network().equals(n.name())).findFirst().orElse(null);
        if (e == null) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "the container is not on network " + n.name());
        }
        if (!st.ports().isEmpty() && e == st.endpoints().getFirst()) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "its published ports go to its address on network "
                    + n.name() + " (" + e.ip() + "): stop the container first");
        }
        List<NetworkState.Endpoint> rest = new ArrayList<>(st.endpoints());
        rest.remove(e);
        NetworkState.Endpoint routed = st.endpoints().stream().filter(x -> !internal(x)).findFirst().orElse(null);
        try (Netlink host = openHost()) {
            deleteLink(host, e.hostVeth());
            // the default route went with that interface: the next network with a way out takes it
            NetworkState.Endpoint next = rest.stream().filter(x -> !internal(x)).findFirst().orElse(null);
            if (routed == e && next != null && userMode == null) {
                try (Netlink in = Netlink.openIn(Path.of(st.netns()))) {
                    in.addDefaultRoute(Subnet.inet(Subnet.parseIp(next.gateway())));
                }
            }
        } catch (LinuxException x) {
            throw new IOException("disconnecting from network " + n.name() + ": " + x.getMessage(), x);
        }
        store.release(n, e.ip(), id);
        NetworkState now = st.withEndpoints(rest);
        save(id, now);
        writeHosts(id, now);
        refreshPeers(st, id);
    }

    // ---------------------------------------------------------------- names

    /** After {@code hull rename}: the container's record of its wiring, and its peers' /etc/hosts, say the new name. */
    public void renamed(String id, String name) throws IOException {
        NetworkState st = state(id);
        if (st != null) {
            st = new NetworkState(name, st.hostname(), st.netns(), st.endpoints(), st.ports(), st.addHosts());
            save(id, st);
            refreshPeers(st, id);
        }
    }

    /**
     * Rewrites the /etc/hosts of the containers that share a DNS-enabled network with st (self
     * included, if it is still wired), under each network's lock: a container records its wiring
     * before it refreshes, so whoever refreshes last sees everyone, also when many start at once.
     */
    private void refreshPeers(NetworkState st, String self) throws IOException {
        for (NetworkState.Endpoint e : st.endpoints()) {
            if (!e.dns()) {
                continue;
            }
            NetworkInfo n = store.read(e.network());
            if (n == null) {
                continue;
            }
            Closeable l;
            try {
                l = store.lock(n.name());
            } catch (NoSuchFileException gone) {
                continue;
            }
            try (l) {
                Set<String> owners = new LinkedHashSet<>(store.leases(n).values());
                owners.add(self);
                for (String owner : owners) {
                    NetworkState os = state(owner);
                    if (os != null) {
                        try {
                            writeHosts(owner, os);
                        } catch (NoSuchFileException removed) {
                            // its directory went meanwhile
                        }
                    }
                }
            }
        }
    }

    /** The container's /etc/hosts: its own names, then its peers (every wired holder of an address there). */
    private void writeHosts(String id, NetworkState st) throws IOException {
        List<HostFiles.Peer> peers = new ArrayList<>();
        List<String> own = new ArrayList<>();
        String gateway = null;
        for (NetworkState.Endpoint e : st.endpoints()) {
            own.add(e.ip());
            gateway = gateway == null ? e.gateway() : gateway;
            if (!e.dns()) {
                continue;
            }
            NetworkInfo n = store.read(e.network());
            if (n == null) {
                continue;
            }
            for (Map.Entry<String, String> lease : store.leases(n).entrySet()) {
                String owner = lease.getValue();
                NetworkState os = owner.equals(id) ? null : state(owner);
                if (os == null) {
                    continue;
                }
                for (NetworkState.Endpoint pe : os.endpoints()) {
                    if (pe.network().equals(n.name()) && pe.ip().equals(lease.getKey())) {
                        List<String> names = new ArrayList<>();
                        names.add(os.name());
                        names.addAll(pe.aliases());
                        names.add(owner.substring(0, 12));
                        peers.add(new HostFiles.Peer(pe.ip(), names));
                    }
                }
            }
        }
        HostFiles.write(containerDir.apply(id).resolve(HostFiles.HOSTS),
                HostFiles.hosts(st.hostname(), own, addHosts(st.addHosts(), gateway), peers, false));
    }

    // ---------------------------------------------------------------- leftovers

    /**
     * Tears down the wiring of containers that no longer run (they ended on their own, or Hull was
     * killed mid-way): every lease, published port and namespace whose owner is idle or gone.
     */
    public int reclaim() throws IOException {
        Set<String> owners = new LinkedHashSet<>();
        for (NetworkInfo n : store.list()) {
            owners.addAll(store.leases(n).values());
        }
        owners.addAll(store.portLeases().values());
        if (Files.isDirectory(netnsDir)) {
            try (var files = Files.list(netnsDir)) {
                files.forEach(f -> owners.add(f.getFileName().toString()));
            }
        }
        int n = 0;
        for (String owner : owners) {
            if (reclaimContainer(owner)) {
                n++;
            }
        }
        return n;
    }

    /** If the container is idle or gone: its wiring and every lease in its name go; true if so. */
    private boolean reclaimContainer(String id) throws IOException {
        if (!id.matches("[0-9a-f]{64}")) {
            return false;
        }
        try (Closeable claim = claimIdle.apply(id)) {
            if (claim == null) {
                return false;
            }
            release(id);
            return true;
        }
    }

    /**
     * For a container that goes away (rm, or reclaimed): {@link #tearDown}, and every address and
     * host-port lease in its name, also one that a process killed between taking the lease and
     * recording it in network.json left behind (tearDown knows only what the record names).
     */
    public void release(String id) throws IOException {
        tearDown(id);
        for (NetworkInfo n : store.list()) {
            for (var e : store.leases(n).entrySet()) {
                if (e.getValue().equals(id)) {
                    store.release(n, e.getKey(), id);
                }
            }
        }
        for (var e : store.portLeases().entrySet()) {
            if (e.getValue().equals(id)) {
                String[] k = e.getKey().split("-", 2);
                store.releasePort(k[0], Integer.parseInt(k[1]), id);
            }
        }
    }

    /** The containers on network n now (ids), after leftovers of ended ones are reclaimed. */
    public List<String> users(NetworkInfo n) throws IOException {
        for (String owner : new ArrayList<>(store.leases(n).values())) {
            reclaimContainer(owner);
        }
        return List.copyOf(new LinkedHashSet<>(store.leases(n).values()));
    }

    /**
     * {@code hull network rm}: the network's bridge and NAT rules, then its record. The caller
     * checked it is unused (and not predefined).
     */
    public void removeNetwork(NetworkInfo n) throws IOException, RuntimeError {
        try (Closeable all = store.lockAll(); Closeable l = store.lock(n.name())) {
            List<String> users = users(n);
            if (!users.isEmpty()) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "network " + n.name() + " has "
                        + users.size() + " container(s) on it: " + String.join(", ",
                                users.stream().map(u -> u.substring(0, 12)).toList()));
            }
            try (Netlink host = openHost()) {
                deleteLink(host, n.bridge());
            } catch (LinuxException e) {
                throw new IOException("removing bridge " + n.bridge() + ": " + e.getMessage(), e);
            }
            if (userMode == null) {
                nft.removeNetwork(n.bridge());
            }
            store.delete(n);
        }
    }
}
