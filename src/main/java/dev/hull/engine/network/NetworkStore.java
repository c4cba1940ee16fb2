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
 *   NAME/leases/A.B.C.D      one file per address in use, holding the container's id
 *   .ports/PROTO-PORT        one file per published host port, holding the container's id
 *   .lock                    create/rm of networks; NAME/lock: that network's addresses and bridge
 * </pre>
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

    private final Path root;

    public NetworkStore(Path home) {
        this.root = home.resolve("networks");
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
        return root.resolve(".ports");
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
            return write(name, null, subnet, gateway, internal, true, labels);
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

    /** Takes ip for the container; false if someone has it. */
    public boolean lease(NetworkInfo n, int ip, String containerId) throws IOException {
        Path f = leases(n.name()).resolve(Subnet.format(ip));
        try {
            Files.writeString(f, containerId, StandardCharsets.US_ASCII, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE);
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

    /** Lets ip go if the container holds it. */
    public void release(NetworkInfo n, String ip, String containerId) throws IOException {
        releaseFile(leases(n.name()).resolve(ip), containerId);
    }

    private static void releaseFile(Path f, String containerId) throws IOException {
        try {
            if (Files.readString(f).trim().equals(containerId)) {
                Files.deleteIfExists(f);
            }
        } catch (NoSuchFileException e) {
            // already gone
        }
    }

    /** address → container id, for every address of n in use. */
    public Map<String, String> leases(NetworkInfo n) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        Path dir = leases(n.name());
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                try {
                    out.put(f.getFileName().toString(), Files.readString(f).trim());
                } catch (NoSuchFileException e) {
                    // released meanwhile
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- host port leases

    /** Takes protocol/port for the container; the id of the holder if someone has it, else null. */
    public String leasePort(String protocol, int port, String containerId) throws IOException {
        Files.createDirectories(ports());
        Path f = ports().resolve(protocol + "-" + port);
        try {
            Files.writeString(f, containerId, StandardCharsets.US_ASCII, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE);
            return null;
        } catch (FileAlreadyExistsException e) {
            try {
                return Files.readString(f).trim();
            } catch (NoSuchFileException gone) {
                return leasePort(protocol, port, containerId);
            }
        }
    }

    public void releasePort(String protocol, int port, String containerId) throws IOException {
        releaseFile(ports().resolve(protocol + "-" + port), containerId);
    }

    /** "tcp-8080" → container id, for every published host port. */
    public Map<String, String> portLeases() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        if (!Files.isDirectory(ports())) {
            return out;
        }
        try (var files = Files.list(ports())) {
            for (Path f : files.sorted().toList()) {
                try {
                    out.put(f.getFileName().toString(), Files.readString(f).trim());
                } catch (NoSuchFileException e) {
                    // released meanwhile
                }
            }
        }
        return out;
    }
}
