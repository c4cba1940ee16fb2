package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.unpack.LayerFlattener;
import dev.hull.linux.seccomp.DefaultSeccomp;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Hull's engine: turns "run this image with this command" into an OCI bundle
 * and drives the runtime. The rootfs is an overlay (image below, a per-container
 * upper layer above) mounted inside the container's own mount namespace.
 */
public final class Engine {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path home;
    private final ContainerRuntime runtime;
    private final ImageService images;
    private ImageSource imageSource;

    /** Fetches an image the store lacks (a registry pull); the CLI installs one. */
    @FunctionalInterface
    public interface ImageSource {
        ImageRecord fetch(String image) throws IOException, RuntimeError;
    }

    /** home: where images and containers live (/var/lib/hull); stateRoot: runtime state (/run/hull). */
    public Engine(Path home, Path stateRoot) {
        this.home = home;
        this.runtime = new ContainerRuntime(stateRoot);
        this.images = new ImageService(home);
    }

    public ImageService images() {
        return images;
    }

    public void imageSource(ImageSource source) {
        this.imageSource = source;
    }

    public static Engine defaults() {
        String h = System.getenv("HULL_HOME");
        String s = System.getenv("HULL_STATE");
        return new Engine(Path.of(h != null ? h : "/var/lib/hull"), Path.of(s != null ? s : "/run/hull"));
    }

    public ContainerRuntime runtime() {
        return runtime;
    }

    /** What {@code hull run} asks for. entrypoint null: the image's; "": none. */
    public record RunRequest(String image, List<String> command, String name, boolean remove, boolean detach,
            List<String> env, String workdir, String user, String hostname, String network, List<String> volumes,
            boolean readOnly, String entrypoint) {}

    /** What a container was made from, kept beside its bundle (containers/ID/container.json). */
    public record ContainerInfo(String id, String name, String image, String imageId, String created,
            List<String> exposedPorts, List<String> volumes, String snapshotter) {}

    /** The image, from the store, built in (busybox), or fetched by the image source. */
    public ImageRecord image(String image) throws IOException, RuntimeError {
        try {
            return images.getOrBuildBuiltin(image);
        } catch (dev.hull.image.ImageNotFoundException e) {
            if (imageSource == null) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, e.getMessage());
            }
            return imageSource.fetch(image);
        }
    }

    public int run(RunRequest req, IntConsumer onStarted) throws IOException, RuntimeError {
        // A lease until the container is recorded: no prune or rmi can take its layers meanwhile.
        java.io.Closeable lease = images.lease();
        try {
            return run(req, onStarted, lease);
        } finally {
            lease.close();
        }
    }

    private int run(RunRequest req, IntConsumer onStarted, java.io.Closeable lease) throws IOException, RuntimeError {
        ImageRecord image = image(req.image());
        ImageConfig imageConfig = images.config(image);
        List<Path> layers = images.unpack(image);
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
            String snapshotter = snapshotter();
            Files.createDirectory(dir.resolve("rootfs"));
            String overlay = null;
            if (snapshotter.equals("overlay")) {
                Files.createDirectory(dir.resolve("upper"));
                Files.createDirectory(dir.resolve("work"));
                overlay = overlayOptions(layers, dir);
            } else {
                LayerFlattener.flatten(layers, dir.resolve("rootfs"));
            }
            ImageConfig.Config ic = imageConfig.config() != null ? imageConfig.config()
                    : new ImageConfig.Config(null, null, null, null, null, null, null, null, null);
            writeInfo(dir, new ContainerInfo(id, req.name(), req.image(), image.id(), java.time.Instant.now().toString(),
                    ic.exposedPorts() == null ? List.of() : List.copyOf(ic.exposedPorts().keySet()),
                    ic.volumes() == null ? List.of() : List.copyOf(ic.volumes().keySet()), snapshotter));
            ImageUser user = ImageUser.resolve(req.user() != null ? req.user() : ic.user(),
                    ImageService.readImageFile(layers, "etc/passwd"), ImageService.readImageFile(layers, "etc/group"));
            Files.write(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(config(req, ic, user, id, overlay, dir)));
            lease.close(); // container.json names the image now: it counts as in use
            int code = runtime.run(id, dir, null, req.detach(), onStarted);
            keep = req.detach() || !req.remove();
            return code;
        } finally {
            if (!keep) {
                dev.hull.image.SnapshotStore.deleteTree(dir);
            }
        }
    }

    /** overlay (shared image layers, an upper dir per container) where the kernel has it, else copy; HULL_SNAPSHOTTER overrides. */
    static String snapshotter() throws RuntimeError {
        String env = System.getenv("HULL_SNAPSHOTTER");
        if (env != null && !env.isEmpty()) {
            if (!env.equals("overlay") && !env.equals("copy")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "HULL_SNAPSHOTTER=" + env + ": use overlay or copy");
            }
            return env;
        }
        try {
            return Files.readString(Path.of("/proc/filesystems")).contains("\toverlay\n") ? "overlay" : "copy";
        } catch (IOException e) {
            return "copy";
        }
    }

    private static String overlayOptions(List<Path> layers, Path dir) throws IOException, RuntimeError {
        List<String> lower = new ArrayList<>();
        for (int i = layers.size() - 1; i >= 0; i--) {
            lower.add(layers.get(i).toString());
        }
        if (lower.isEmpty()) {
            lower.add(Files.createDirectories(dir.resolve("empty")).toString());
        }
        String opts = "lowerdir=" + String.join(":", lower) + ",upperdir=" + dir.resolve("upper") + ",workdir="
                + dir.resolve("work");
        if (opts.length() > 4000) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "the image has " + layers.size() + " layers: too many"
                    + " for one overlay mount here (options " + opts.length() + " bytes, the kernel takes 4096);"
                    + " run with HULL_SNAPSHOTTER=copy");
        }
        return opts;
    }

    private static void writeInfo(Path dir, ContainerInfo info) throws IOException {
        Files.write(dir.resolve("container.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(info));
    }

    /** Containers per image id, for rmi and prune. */
    public java.util.Map<String, List<String>> imagesInUse() throws IOException {
        java.util.Map<String, List<String>> out = new java.util.HashMap<>();
        Path containers = home.resolve("containers");
        if (!Files.isDirectory(containers)) {
            return out;
        }
        try (var s = Files.newDirectoryStream(containers)) {
            for (Path c : s) {
                Path f = c.resolve("container.json");
                if (Files.isRegularFile(f)) {
                    try {
                        ContainerInfo info = JSON.readValue(f.toFile(), ContainerInfo.class);
                        out.computeIfAbsent(info.imageId(), k -> new ArrayList<>()).add(info.id());
                    } catch (IOException e) {
                        // a half-written record: the container never started; not a user of any image
                    }
                }
            }
        }
        return out;
    }

    /** The capabilities docker gives a container by default. */
    static final List<String> DOCKER_CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    ObjectNode config(RunRequest req, ImageConfig.Config ic, ImageUser user, String id, String overlay, Path dir)
            throws RuntimeError {
        ObjectNode spec = DefaultSpec.create(false);
        ObjectNode process = (ObjectNode) spec.get("process");
        process.put("terminal", false);
        ArrayNode args = process.putArray("args");
        List<String> cmd = new ArrayList<>();
        if (req.entrypoint() != null) {
            if (!req.entrypoint().isEmpty()) {
                cmd.add(req.entrypoint());
            }
        } else if (ic.entrypoint() != null) {
            cmd.addAll(ic.entrypoint());
        }
        // docker: an --entrypoint given on the command line drops the image's Cmd
        if (!req.command().isEmpty()) {
            cmd.addAll(req.command());
        } else if (req.entrypoint() == null && ic.cmd() != null) {
            cmd.addAll(ic.cmd());
        }
        if (cmd.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "no command: the image " + req.image()
                    + " has no Entrypoint or Cmd; give one after the image name");
        }
        cmd.forEach(args::add);
        String hostname = req.hostname() != null ? req.hostname() : id.length() > 12 ? id.substring(0, 12) : id;
        java.util.LinkedHashMap<String, String> envs = new java.util.LinkedHashMap<>();
        envs.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        envs.put("HOSTNAME", hostname);
        if (ic.env() != null) {
            ic.env().forEach(e -> putEnv(envs, e)); // the image's win over Hull's defaults, as in docker
        }
        envs.putIfAbsent("HOME", user.home());
        for (String e : req.env()) {
            if (e.contains("=")) {
                putEnv(envs, e);
            } else if (System.getenv(e) != null) {
                putEnv(envs, e + "=" + System.getenv(e)); // -e NAME: the host's value; unset on the host: unset
            }
        }
        ArrayNode env = process.putArray("env");
        envs.forEach((k, v) -> env.add(k + "=" + v));
        String cwd = req.workdir() != null ? req.workdir() : ic.workingDir() != null && !ic.workingDir().isEmpty()
                ? ic.workingDir() : "/";
        if (!cwd.startsWith("/")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "working directory " + cwd + " is not absolute");
        }
        process.put("cwd", cwd);
        // Docker's default capability set (the runtime spec's default has only three).
        ObjectNode caps = process.putObject("capabilities");
        for (String set : new String[] {"bounding", "effective", "permitted"}) {
            ArrayNode a = caps.putArray(set);
            for (String c : DOCKER_CAPS) {
                a.add(c);
            }
        }
        ObjectNode u = process.putObject("user");
        u.put("uid", user.uid());
        u.put("gid", user.gid());
        if (!user.additionalGids().isEmpty()) {
            ArrayNode g = u.putArray("additionalGids");
            user.additionalGids().forEach(g::add);
        }
        ObjectNode root = (ObjectNode) spec.get("root");
        root.put("path", dir.resolve("rootfs").toString());
        root.put("readonly", req.readOnly());
        spec.put("hostname", hostname);
        ObjectNode ann = spec.putObject("annotations");
        if (overlay != null) {
            ann.put(Annotations.ROOTFS_OVERLAY, overlay);
        }
        ObjectNode linux = (ObjectNode) spec.get("linux");
        linux.set("seccomp", DefaultSeccomp.profile(boundingCapabilities(process)));
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

    private static void putEnv(java.util.Map<String, String> envs, String e) {
        int eq = e.indexOf('=');
        if (eq > 0) {
            envs.put(e.substring(0, eq), e.substring(eq + 1));
        }
    }

    /** The bounding set of the config's capabilities: what the default seccomp profile is tailored to. */
    static List<String> boundingCapabilities(ObjectNode process) {
        List<String> caps = new ArrayList<>();
        process.path("capabilities").path("bounding").forEach(c -> caps.add(c.asText()));
        return caps;
    }

    private static String randomId() {
        byte[] b = new byte[6];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
