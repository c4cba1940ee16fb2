package dev.hull.engine.network;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.FileLocks;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Networks and their leases under {@code HULL_HOME/networks}:
 * <pre>
 *   NAME/network.json        the record (NetworkInfo)
 *   NAME/leases/A.B.C.D      one file per address in use: the container's id and Hull home
 *   .lock                    create/rm of networks; NAME/lock: that network's addresses and bridge
 * </pre>
 * and host-wide, in /run/hull-net (shared by every Hull home on the host, like the bridge hull0 and
 * the host's ports): {@code bridge-hull0/A.B.C.D} for the default network's addresses and
 * {@code ports/PROTO-PORT} for published host ports.
 * A lease is made with O_EXCL, so two processes never get the same address or host port; the
 * network's lock only orders the search (and the bridge's creation).
 */
public final class NetworkStore {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");
    /** The default network (docker's "bridge"): its kernel bridge and subnet unless the home records others. */
    public static final String DEFAULT = "bridge";
    public static final String DEFAULT_BRIDGE = "hull0";
    public static final String DEFAULT_SUBNET = "10.89.0.0/16";
    /** User-defined networks without --subnet get a /24 from here. */
    static final Subnet AUTO_POOL = Subnet.parse("10.90.0.0/16");

    /** Leases every Hull home on the host shares (tmpfs: a reboot ends every container, and them). */
    static final Path SHARED = Path.of("/run/hull-net");

    private final Path root;
    private final String home;
    private final dev.hull.engine.EventLog events;
    /** Where the leases shared by every home are: {@link #SHARED}, or a rootless user's own ({@link #shareIn}). */
    private Path shared = SHARED;

    public NetworkStore(Path home) {
        this.root = home.resolve("networks");
        this.home = home.toAbsolutePath().toString();
        this.events = new dev.hull.engine.EventLog(home);
    }

    public Path root() {
        return root;
    }

    Path dir(String name) {
        return root.resolve(name);
    }

    Path leases(String name) {
        return dir(name).resolve("leases");
    }

    Path ports() {
        return shared.resolve("ports");
    }

    /**
     * Rootless: the user's bridges and ports are the user's alone, so are their leases (dir, in the
     * user's state), never /run/hull-net.
     */
    public void shareIn(Path dir) {
        this.shared = dir;
    }

    /** /run/hull-net holds who has which address and port: root's alone (0700), made so on first use. */
    private void secureShared() throws IOException {
        dev.hull.linux.SecureDirs.ensure(shared, dev.hull.linux.SecureDirs.PRIVATE);
    }

    /** Tightens /run/hull-net if an older Hull made it 0755 (one stat). */
    public static void tightenShared() throws IOException {
        dev.hull.linux.SecureDirs.tighten(SHARED, dev.hull.linux.SecureDirs.PRIVATE);
    }

    public Closeable lockAll() throws IOException {
        Files.createDirectories(root);
        return FileLocks.exclusive(root.resolve(".lock"));
    }

    public Closeable lock(String name) throws IOException {
        return FileLocks.exclusive(dir(name).resolve("lock"));
    }

    public static boolean predefined(String name) {
        return name.equals(DEFAULT) || name.equals("host") || name.equals("none");
    }

    /** The default network, recorded on first use. */
    public NetworkInfo defaultNetwork() throws IOException, RuntimeError {
        NetworkInfo n = read(DEFAULT);
        if (n != null) {
            return n;
        }
        try (Closeable l = lockAll()) {
            n = read(DEFAULT);
            if (n != null) {
                return n;
            }
            return write(DEFAULT, DEFAULT_BRIDGE, DEFAULT_SUBNET, null, false, false, Map.of());
        }
    }

    /**
     * Records the default network with another bridge and subnet (before its first use): for a
     * second Hull home on one host, and for tests.
     */
    public NetworkInfo defineDefault(String bridge, String subnet) throws IOException, RuntimeError {
        try (Closeable l = lockAll()) {
            NetworkInfo n = read(DEFAULT);
            if (n != null) {
                return n;
            }
            return write(DEFAULT, bridge, subnet, null, false, false, Map.of());
        }
    }

    /** {@code hull network create}. */
    public NetworkInfo create(String name, String subnet, String gateway, boolean internal,
            Map<String, String> labels) throws IOException, RuntimeError {
        if (!NAME.matcher(name).matches()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "network name " + name
                    + ": use letters, digits, '_', '.', '-' (up to 64), starting with a letter or digit");
        }
        if (predefined(name)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "network " + name + " is predefined");
        }
        try (Closeable l = lockAll()) {
            if (read(name) != null) {
                throw new RuntimeError(RuntimeError.Kind.EXISTS, "network " + name + " already exists");
            }
            NetworkInfo n = write(name, null, subnet, gateway, internal, true, labels);
            event("create", n, Map.of());
            return n;
        }
    }

    private NetworkInfo write(String name, String bridge, String subnet, String gateway, boolean internal, boolean dns,
            Map<String, String> labels) throws IOException, RuntimeError {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        String id = HexFormat.of().formatHex(raw);
        List<NetworkInfo> others = list();
        Subnet s;
        if (subnet == null) {
            s = autoSubnet(others);
        } else {
            try {
                s = Subnet.parse(subnet);
            } catch (IllegalArgumentException e) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--subnet " + e.getMessage());
            }
            for (NetworkInfo o : others) {
                if (o.parsedSubnet().overlaps(s)) {
                    throw new RuntimeError(RuntimeError.Kind.FAILED, "--subnet " + s + " overlaps network "
                            + o.name() + " (" + o.subnet() + ")");
                }
            }
            String host = bridge == null ? HostAddresses.overlapping(s) : null; // the default's bridge may exist
            if (host != null) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "--subnet " + s + " overlaps the host's address "
                        + host);
            }
        }
        int gw;
        if (gateway == null) {
            gw = s.base() + 1;
        } else {
            try {
                gw = Subnet.parseIp(gateway);
            } catch (IllegalArgumentException e) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--gateway " + e.getMessage());
            }
            if (!s.host(gw)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--gateway " + gateway + " is not a host address"
                        + " of " + s);
            }
        }
        NetworkInfo n = new NetworkInfo(id, name, "bridge", bridge != null ? bridge : "hb-" + id.substring(0, 12),
                s.toString(), Subnet.format(gw), internal, dns, new LinkedHashMap<>(labels), Instant.now().toString());
        Path dir = dir(name);
        Files.createDirectories(dir.resolve("leases"));
        Path tmp = dir.resolve("network.json.tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
        Files.move(tmp, dir.resolve("network.json"), StandardCopyOption.ATOMIC_MOVE);
        return n;
    }

    private static Subnet autoSubnet(List<NetworkInfo> others) throws RuntimeError {
        for (int i = 0; i < 256; i++) {
            Subnet s = new Subnet(AUTO_POOL.base() + (i << 8), 24);
            if (others.stream().noneMatch(o -> o.parsedSubnet().overlaps(s)) && HostAddresses.overlapping(s) == null) {
                return s;
            }
        }
        throw new RuntimeError(RuntimeError.Kind.FAILED, "every /24 of " + AUTO_POOL
                + " is taken by a network or a host address: give --subnet");
    }

    /** A network's event (docker's: its name and driver as attributes, and what else there is). */
    public void event(String action, NetworkInfo n, Map<String, String> extra) {
        Map<String, String> a = new LinkedHashMap<>(extra);
        a.put("name", n.name());
        a.put("type", n.driver());
        events.record("network", action, n.id(), a, dev.hull.engine.EventLog.now());
    }

    public NetworkInfo read(String name) throws IOException {
        if (!NAME.matcher(name).matches()) {
            return null;
        }
        try {
            return JSON.readValue(dir(name).resolve("network.json").toFile(), NetworkInfo.class);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            return null;
        }
    }

    public List<NetworkInfo> list() throws IOException {
        List<NetworkInfo> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (var dirs = Files.list(root)) {
            for (Path d : dirs.sorted().toList()) {
                String n = d.getFileName().toString();
                if (n.startsWith(".")) {
                    continue;
                }
                NetworkInfo info = read(n);
                if (info != null) {
                    out.add(info);
                }
            }
        }
        return out;
    }

    /** By name, full id or unique id prefix (docker's rule). */
    public NetworkInfo resolve(String ref) throws IOException, RuntimeError {
        NetworkInfo byName = ref.equals(DEFAULT) ? defaultNetwork() : read(ref);
        if (byName != null) {
            return byName;
        }
        List<NetworkInfo> matches = new ArrayList<>();
        if (ref.matches("[0-9a-f]{1,64}")) {
            for (NetworkInfo n : list()) {
                if (n.id().startsWith(ref)) {
                    matches.add(n);
                }
            }
        }
        if (matches.size() == 1) {
            return matches.getFirst();
        }
        if (matches.size() > 1) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "network id prefix " + ref + " is ambiguous");
        }
        throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such network: " + ref);
    }

    /** Deletes the record (the caller checked no container uses it and removed its bridge). */
    public void delete(NetworkInfo n) throws IOException {
        Path dir = dir(n.name());
        Path doomed = root.resolve(".removing-" + n.id());
        try {
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        }
        dev.hull.image.SnapshotStore.deleteTree(doomed);
    }

    // ---------------------------------------------------------------- address leases

    /**
     * Where n's address leases are: in the network's directory, but for the default network on a
     * host-wide path keyed by its bridge (every Hull home on the host shares hull0, so they must
     * share its addresses). A lease file holds the container's id and its Hull home.
     */
    Path leaseDir(NetworkInfo n) {
        return n.name().equals(DEFAULT) ? shared.resolve("bridge-" + n.bridge()) : leases(n.name());
    }

    /** Takes ip for the container; false if someone (of any Hull home) has it. */
    public boolean lease(NetworkInfo n, int ip, String containerId) throws IOException {
        Path dir = leaseDir(n);
        if (dir.startsWith(shared)) {
            secureShared();
        }
        Files.createDirectories(dir);
        return create(dir.resolve(Subnet.format(ip)), containerId);
    }

    private boolean create(Path f, String containerId) throws IOException {
        try {
            Files.writeString(f, containerId + " " + home + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /**
     * A free address of n for the container, searched from the one after the last handed out (so a
     * just-released address is not reused at once). The caller holds n's lock.
     */
    public int leaseNext(NetworkInfo n, String containerId) throws IOException, RuntimeError {
        Subnet s = n.parsedSubnet();
        Path hint = dir(n.name()).resolve("next");
        int start;
        try {
            start = Subnet.parseIp(Files.readString(hint).trim());
        } catch (IOException | IllegalArgumentException e) {
            start = s.base() + 2;
        }
        int size = s.size();
        int offset = Math.floorMod(start - s.base(), size);
        for (int i = 0; i < size; i++) {
            int ip = s.base() + (offset + i) % size;
            if (!s.host(ip) || ip == n.gatewayIp()) {
                continue;
            }
            if (lease(n, ip, containerId)) {
                Files.writeString(hint, Subnet.format(ip + 1));
                return ip;
            }
        }
        throw new RuntimeError(RuntimeError.Kind.FAILED, "network " + n.name() + " (" + n.subnet()
                + ") has no free address");
    }

    /** Lets ip go if the container (of this home) holds it. */
    public void release(NetworkInfo n, String ip, String containerId) throws IOException {
        releaseFile(leaseDir(n).resolve(ip), containerId);
    }

    private void releaseFile(Path f, String containerId) throws IOException {
        Holder h = holder(f);
        if (h != null && h.id().equals(containerId) && h.home().equals(home)) {
            Files.deleteIfExists(f);
        }
    }

    /** Who holds a lease: a container of some Hull home. */
    private record Holder(String id, String home) {}

    /** The lease's holder; null if there is none, or if it was a container of another home that is gone (then the lease goes too). */
    private Holder holder(Path f) throws IOException {
        String[] w;
        try {
            w = Files.readString(f).trim().split("\\s+", 2);
        } catch (NoSuchFileException e) {
            return null;
        }
        Holder h = new Holder(w[0], w.length > 1 ? w[1] : home);
        if (!h.home().equals(home) && !Files.isDirectory(Path.of(h.home(), "containers", h.id()))) {
            Files.deleteIfExists(f); // its home or container was deleted: nobody can use it any more
            return null;
        }
        return h;
    }

    /** address → container id, for every address of n held by a container of this home. */
    public Map<String, String> leases(NetworkInfo n) throws IOException {
        return held(leaseDir(n));
    }

    private Map<String, String> held(Path dir) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                Holder h = holder(f);
                if (h != null && h.home().equals(home)) {
                    out.put(f.getFileName().toString(), h.id());
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- host port leases

    /**
     * Takes protocol/port for the container (host-wide: every Hull home shares the host's ports
     * and the nftables table); null if it got it, else who has it: a container id of this home,
     * or "another Hull home (HOME)".
     */
    public String leasePort(String protocol, int port, String containerId) throws IOException {
        secureShared();
        Files.createDirectories(ports());
        Path f = ports().resolve(protocol + "-" + port);
        for (int attempt = 0; attempt < 3; attempt++) {
            if (create(f, containerId)) {
                return null;
            }
            Holder h = holder(f);
            if (h != null) {
                return h.home().equals(home) ? h.id() : "another Hull home (" + h.home() + ")";
            }
        }
        return "someone else";
    }

    public void releasePort(String protocol, int port, String containerId) throws IOException {
        releaseFile(ports().resolve(protocol + "-" + port), containerId);
    }

    /** "tcp-8080" → container id, for every host port published by a container of this home. */
    public Map<String, String> portLeases() throws IOException {
        return held(ports());
    }
}
