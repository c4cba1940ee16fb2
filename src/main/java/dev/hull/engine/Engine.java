package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.BusyboxRootfs;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

/**
 * Hull's engine: turns "run this image with this command" into an OCI bundle
 * and drives the runtime. The rootfs is an overlay (image below, a per-container
 * upper layer above) mounted inside the container's own mount namespace.
 */
public final class Engine {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path home;
    private final ContainerRuntime runtime;

    /** home: where images and containers live (/var/lib/hull); stateRoot: runtime state (/run/hull). */
    public Engine(Path home, Path stateRoot) {
        this.home = home;
        this.runtime = new ContainerRuntime(stateRoot);
    }

    public static Engine defaults() {
        String h = System.getenv("HULL_HOME");
        String s = System.getenv("HULL_STATE");
        return new Engine(Path.of(h != null ? h : "/var/lib/hull"), Path.of(s != null ? s : "/run/hull"));
    }

    public ContainerRuntime runtime() {
        return runtime;
    }

    /** What {@code hull run} asks for. */
    public record RunRequest(String image, List<String> command, String name, boolean remove, boolean detach,
            List<String> env, String workdir, String user, String hostname, String network, List<String> volumes,
            boolean readOnly) {}

    /** The image's rootfs, prepared on first use. Only the built-in busybox image exists so far. */
    public Path imageRootfs(String image) throws IOException, RuntimeError {
        String name = image.endsWith(":latest") ? image.substring(0, image.length() - 7) : image;
        if (!name.equals("busybox")) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "image \"" + image
                    + "\" not found: this Hull has only the built-in image busybox (registry pulls come later)");
        }
        Path rootfs = home.resolve("images/busybox/rootfs");
        if (!BusyboxRootfs.isReady(rootfs)) {
            System.err.println("hull: preparing the built-in busybox image from " + BusyboxRootfs.HOST_BUSYBOX);
            BusyboxRootfs.ensure(rootfs);
        }
        return rootfs;
    }

    public int run(RunRequest req, IntConsumer onStarted) throws IOException, RuntimeError {
        Path lower = imageRootfs(req.image());
        String id = req.name() != null ? req.name() : randomId();
        Path dir = home.resolve("containers").resolve(id);
        Files.createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new RuntimeError(RuntimeError.Kind.EXISTS, "a container named \"" + id + "\" already exists");
        }
        boolean keep = false;
        try {
            for (String d : List.of("rootfs", "upper", "work")) {
                Files.createDirectory(dir.resolve(d));
            }
            Files.write(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(config(req, id, lower, dir)));
            int code = runtime.run(id, dir, null, req.detach(), onStarted);
            keep = req.detach() || !req.remove();
            return code;
        } finally {
            if (!keep) {
                deleteTree(dir);
            }
        }
    }

    /** The capabilities docker gives a container by default. */
    static final List<String> DOCKER_CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    ObjectNode config(RunRequest req, String id, Path lower, Path dir) throws RuntimeError {
        ObjectNode spec = DefaultSpec.create(false);
        ObjectNode process = (ObjectNode) spec.get("process");
        process.put("terminal", false);
        ArrayNode args = process.putArray("args");
        List<String> cmd = req.command().isEmpty() ? List.of("sh") : req.command();
        cmd.forEach(args::add);
        ArrayNode env = process.putArray("env");
        env.add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        String hostname = req.hostname() != null ? req.hostname() : id.length() > 12 ? id.substring(0, 12) : id;
        env.add("HOSTNAME=" + hostname);
        env.add("HOME=/root");
        for (String e : req.env()) {
            env.add(e.contains("=") ? e : e + "=" + System.getenv().getOrDefault(e, ""));
        }
        if (req.workdir() != null) {
            process.put("cwd", req.workdir());
        }
        // Docker's default capability set (the runtime spec's default has only three).
        ObjectNode caps = process.putObject("capabilities");
        for (String set : new String[] {"bounding", "effective", "permitted"}) {
            ArrayNode a = caps.putArray(set);
            for (String c : DOCKER_CAPS) {
                a.add(c);
            }
        }
        if (req.user() != null) {
            ObjectNode user = process.putObject("user");
            String[] ug = req.user().split(":", 2);
            try {
                user.put("uid", Long.parseLong(ug[0]));
                user.put("gid", ug.length > 1 ? Long.parseLong(ug[1]) : Long.parseLong(ug[0]));
            } catch (NumberFormatException e) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                        "--user " + req.user() + ": give numeric UID[:GID] (user names come with image configs)");
            }
        }
        ObjectNode root = (ObjectNode) spec.get("root");
        root.put("path", dir.resolve("rootfs").toString());
        root.put("readonly", req.readOnly());
        spec.put("hostname", hostname);
        ObjectNode ann = spec.putObject("annotations");
        ann.put(Annotations.ROOTFS_OVERLAY, "lowerdir=" + lower + ",upperdir=" + dir.resolve("upper") + ",workdir="
                + dir.resolve("work"));
        ObjectNode linux = (ObjectNode) spec.get("linux");
        ArrayNode namespaces = (ArrayNode) linux.get("namespaces");
        String network = req.network() == null ? "none" : req.network();
        switch (network) {
            case "none" -> { }
            case "host" -> {
                for (int i = namespaces.size() - 1; i >= 0; i--) {
                    if (namespaces.get(i).path("type").asText().equals("network")) {
                        namespaces.remove(i);
                    }
                }
            }
            default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                    "--network " + network + ": use none (own loopback only) or host");
        }
        ArrayNode mounts = (ArrayNode) spec.get("mounts");
        for (String v : req.volumes()) {
            String[] parts = v.split(":");
            if (parts.length < 2 || parts.length > 3 || !parts[1].startsWith("/")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                        "-v " + v + ": use HOST_PATH:CONTAINER_PATH[:ro]");
            }
            Path host = Path.of(parts[0]).toAbsolutePath();
            if (!Files.exists(host)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "-v " + v + ": " + host + " does not exist");
            }
            ObjectNode m = mounts.addObject();
            m.put("destination", parts[1]);
            m.put("type", "bind");
            m.put("source", host.toString());
            ArrayNode opts = m.putArray("options");
            opts.add("rbind");
            if (parts.length == 3) {
                opts.add(parts[2]);
            }
        }
        return spec;
    }

    private static String randomId() {
        byte[] b = new byte[6];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.forEach(all::add);
        }
        all.sort(Comparator.reverseOrder());
        for (Path p : all) {
            Files.deleteIfExists(p);
        }
    }
}
