package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.network.NetworkRequest;
import dev.hull.engine.network.NetworkStore;
import dev.hull.engine.network.Networking;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.unpack.LayerFlattener;
import dev.hull.runtime.Monitor;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.Signals;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hull create} for the {@link Engine}: the container's bundle (rootfs overlay or copy, a
 * sized disk, config.json from the image and the options), its network files and record.
 */
final class ContainerCreator {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Engine engine;
    private final ContainerStore containers;
    private final ImageService images;
    private final VolumeStore volumes;
    private final Networking networking;
    private final EventLog events;

    ContainerCreator(Engine engine) {
        this.engine = engine;
        this.containers = engine.containers();
        this.images = engine.images();
        this.volumes = engine.volumes();
        this.networking = engine.networking();
        this.events = engine.events();
    }

    // ---------------------------------------------------------------- create

    /** {@code hull create}: the container's bundle and record; nothing runs yet. */
    ContainerInfo create(CreateOptions o) throws IOException, RuntimeError {
        Monitor.RestartPolicy policy;
        try {
            policy = Monitor.RestartPolicy.parse(o.restart);
        } catch (IllegalArgumentException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
        if (o.autoRemove && policy.mode() != 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--rm and --restart " + o.restart
                    + " conflict: a container that restarts is never done to be removed");
        }
        boolean rootless = Rootless.active();
        if (rootless) {
            Rootless.limit(o, networking.userMode() != null); // what needs the host's root (cgroups, the bridge) refused or left out, before the config's defaults
        }
        engine.config().applyTo(o); // the config file's defaults for what the flags left open, kept in container.json
        LogDrivers.limits(o); // bad --log-opt fails before anything is made
        if (o.cidFile == null) {
            return create(o, policy, rootless, null);
        }
        // --cidfile: made first (docker's order), empty, with the caller's rights (CallerFiles); the id
        // is written through its descriptor once the container exists, and it is removed if none does.
        dev.hull.runtime.CallerFiles.Opened cid = createCidFile(o.cidFile);
        boolean written = false;
        try {
            ContainerInfo info = create(o, policy, rootless, cid);
            written = true;
            return info;
        } finally {
            cid.close();
            if (!written) {
                dev.hull.runtime.CallerFiles.asCaller(() -> Files.deleteIfExists(Path.of(o.cidFile)));
            }
        }
    }

    private static dev.hull.runtime.CallerFiles.Opened createCidFile(String file) throws IOException, RuntimeError {
        dev.hull.runtime.Caller c = dev.hull.runtime.Caller.current();
        int mode = c != null && c.umask() >= 0 ? 0666 & ~c.umask() : 0666;
        try {
            int fd = dev.hull.runtime.CallerFiles.asCaller(() -> dev.hull.linux.Syscalls.open(file,
                    dev.hull.linux.Syscalls.O_WRONLY | dev.hull.linux.Syscalls.O_CREAT | dev.hull.linux.Syscalls.O_EXCL
                    | dev.hull.linux.Syscalls.O_CLOEXEC, mode));
            return new dev.hull.runtime.CallerFiles.Opened(fd, Path.of("/proc/self/fd/" + fd));
        } catch (dev.hull.linux.LinuxException e) {
            if (e.errno() == dev.hull.linux.Errno.EEXIST) { // docker's words
                throw new RuntimeError(RuntimeError.Kind.EXISTS, "container ID file found, make sure the other"
                        + " container isn't running or delete " + file);
            }
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cidfile " + dev.hull.runtime.CallerFiles.refused(
                    null, Path.of(file), e.errno()).getMessage());
        }
    }

    private ContainerInfo create(CreateOptions o, Monitor.RestartPolicy policy, boolean rootless,
            dev.hull.runtime.CallerFiles.Opened cid) throws IOException, RuntimeError {
        // A lease until the container is recorded: no prune or rmi can take its layers meanwhile.
        try (Closeable lease = images.lease()) {
            ImageRecord image = engine.image(o.image);
            ImageConfig imageConfig = images.config(image);
            ContainerHealth.atCreate(o, images.configTree(image));
            List<Path> layers = images.unpack(image);
            ContainerStore.Locked reservation = containers.reserve(o.name);
            ContainerInfo reserved = reservation.info();
            String id = reserved.id();
            Path dir = containers.dir(id);
            boolean done = false;
            Closeable volumeLease = null;
            List<String> anonymous = new ArrayList<>();
            try {
                String snapshotter = snapshotter();
                Files.createDirectory(dir.resolve("rootfs"));
                String overlay = null;
                Path writable;
                dev.hull.disk.DiskSpec disk = ContainerDisks.spec(o);
                if (snapshotter.equals("overlay") || disk != null) {
                    Path parent = disk == null ? dir : ContainerDisks.create(dir, disk, snapshotter);
                    Files.createDirectory(parent.resolve("upper"));
                    Files.createDirectory(parent.resolve("work"));
                    overlay = overlayOptions(layers, dir, parent);
                    writable = parent.resolve("upper");
                } else {
                    LayerFlattener.flatten(layers, dir.resolve("rootfs"));
                    writable = dir.resolve("rootfs");
                }
                // When -v names volumes, their lock until the container is recorded: no volume rm/prune between.
                NamespaceFlags.atCreate(o, containers, id); // --volumes-from copied as -v; --pid/--ipc container: checked
                ImageConfig.Config ic = imageConfig.config() != null ? imageConfig.config()
                        : new ImageConfig.Config(null, null, null, null, null, null, null, null, null);
                volumeLease = AnonymousVolumes.expand(o, ic, volumes, anonymous); // -v /path, the image's VOLUMEs
                List<String> args = ContainerSpecBuilder.args(o, ic);
                ImageUser user = ImageUser.resolve(o.user != null ? o.user : ic.user(),
                        ImageService.readImageFile(layers, "etc/passwd"), ImageService.readImageFile(layers, "etc/group"));
                ObjectNode spec = ContainerSpecBuilder.build(o, ic, user, id, args, overlay, dir, volumes);
                SpecExtras.apply(spec, o, () -> ImageService.readImageFile(layers, "etc/group"));
                CdiDevices.apply(spec, o, engine.config().cdiSpecDirs()); // --device vendor.com/class=name, --gpus
                if (rootless) {
                    Rootless.adapt(spec, o);
                }
                SubIds.Range range = null;
                if (UsernsMaps.given(o)) { // --uidmap/--gidmap: exactly the mappings given
                    UsernsMaps.check(o, rootless, overlay);
                    range = UsernsMaps.apply(o, spec, writable);
                } else if (SubIds.autoSize(o.userns) != null) {
                    UsernsAuto.check(o, rootless, overlay);
                    range = UsernsAuto.apply(o, spec, dir, writable);
                } else {
                    UsernsAuto.refuseIdmapWithoutUserns(spec);
                }
                if (range != null && overlay == null) { // the copy snapshotter: no idmapped layers to present it;
                    // its copy is chowned into the range once, podman's fallback (hull cp/commit see the shifted ids)
                    ((ObjectNode) spec.get("annotations")).remove(dev.hull.runtime.Annotations.ROOTFS_IDMAP);
                    UsernsAuto.shift(writable, range);
                }
                String mode = o.network == null ? "bridge" : o.network;
                if (NetworkRequest.wired(mode) && !mode.equals(NetworkStore.DEFAULT)) {
                    o.network = networking.store().resolve(mode).name(); // kept by name, also when given by id
                }
                NetworkRequest net = ContainerNetworkOps.networkRequest(id, reserved.name(), o,
                        ic.exposedPorts() == null ? List.of() : List.copyOf(ic.exposedPorts().keySet()));
                networking.check(net);
                if (net.mode().startsWith("container:")) { // its hosts and resolv.conf; the path is known at start
                    ContainerInfo other = containers.resolve(net.mode().substring("container:".length()));
                    ContainerSpecBuilder.hostFiles(spec, containers.dir(other.id()), false);
                } else {
                    if (net.wired()) {
                        ContainerSpecBuilder.joinNetwork(spec, networking.netnsFile(id).toString());
                    }
                    ContainerSpecBuilder.hostFiles(spec, dir, true);
                    networking.writeFiles(net, dir);
                }
                List<Path> fresh = range == null ? List.of() : UsernsAuto.emptyVolumes(spec, volumes);
                copyUp(spec, layers, ContainerSpecBuilder.noCopy(o));
                for (Path v : fresh) {
                    UsernsAuto.shift(v, range);
                }
                if (o.tty) { // the pty's size without a caller's terminal (an attached run gives it the caller's, PtyFollower)
                    ObjectNode size = ((ObjectNode) spec.get("process")).putObject("consoleSize");
                    size.put("height", 24);
                    size.put("width", 80);
                }
                Files.write(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(spec));
                String stopSignal = o.stopSignal != null ? o.stopSignal
                        : ic.stopSignal() != null && !ic.stopSignal().isEmpty() ? ic.stopSignal() : "SIGTERM";
                Signals.parse(stopSignal); // a bad --stop-signal fails here, not at stop
                ContainerInfo info = new ContainerInfo(id, reserved.name(), o.image, image.id(),
                        Instant.now().toString(),
                        ic.exposedPorts() == null ? List.of() : List.copyOf(ic.exposedPorts().keySet()),
                        ic.volumes() == null ? List.of() : List.copyOf(ic.volumes().keySet()), snapshotter,
                        args, o, stopSignal);
                containers.write(info); // from here on it exists (and names its image: in use)
                done = true;
                if (cid != null) { // --cidfile: the id, into the caller's file made before
                    dev.hull.linux.Syscalls.writeFully(cid.fd(), id.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    if (!dev.hull.runtime.CallerFiles.restricted()) {
                        dev.hull.runtime.Caller.madeFor(Path.of(o.cidFile)); // a cold or root caller's ownership
                    }
                }
                events.container("create", info, java.util.Map.of());
                for (String w : o.warnings) { // what was discarded (dockerd's create Warnings, as its CLI prints them)
                    System.err.println("WARNING: " + w);
                }
                return info;
            } finally {
                try {
                    if (volumeLease != null) {
                        volumeLease.close();
                    }
                    if (!done) {
                        AnonymousVolumes.discard(volumes, anonymous);
                        SubIds.release(dir);
                        containers.releaseName(reserved.name(), id);
                        dev.hull.disk.Disk.release(dir);
                        dev.hull.image.SnapshotStore.deleteTree(dir);
                    }
                } finally {
                    reservation.close();
                }
            }
        }
    }

    /**
     * docker's copy-up: a named volume that is still empty gets the image's files at the path it is
     * mounted on (with that directory's owner and mode). The caller holds the volumes' lock. If the
     * copy fails, the volume is emptied again.
     */
    private void copyUp(ObjectNode spec, List<Path> layers, java.util.Set<String> noCopy) throws IOException {
        String prefix = volumes.root() + "/";
        for (com.fasterxml.jackson.databind.JsonNode m : spec.path("mounts")) {
            String src = m.path("source").asText();
            if (!m.path("type").asText().equals("bind") || !src.startsWith(prefix)
                    || noCopy.contains(m.path("destination").asText())
                    || !src.endsWith("/_data") && !src.endsWith("/disk/data")) {
                continue;
            }
            String dest = m.path("destination").asText();
            String label = "volume " + src.substring(prefix.length()).split("/")[0] + ":";
            // by descriptor only: a container that already mounts this volume can change it meanwhile
            int fd = dev.hull.linux.AtFiles.openat2(dev.hull.linux.AtFiles.AT_FDCWD, src, dev.hull.linux.AtFiles.O_RDONLY
                    | dev.hull.linux.AtFiles.O_DIRECTORY | dev.hull.linux.AtFiles.O_NOFOLLOW, 0, 0);
            try {
                if (!dev.hull.linux.AtFiles.list(fd).isEmpty()) {
                    continue;
                }
                LayerTreeCopy.copy(layers, dest, fd, label);
            } catch (IOException | RuntimeException e) {
                try {
                    LayerTreeCopy.empty(fd);
                } catch (IOException x) {
                    e.addSuppressed(x);
                }
                throw new IOException("copying the image's " + dest + " into " + label.substring(0, label.length() - 1)
                        + ": " + e.getMessage(), e);
            } finally {
                dev.hull.linux.Syscalls.close(fd);
            }
        }
    }

    /** overlay (shared image layers, an upper dir per container) where the kernel has it, else copy; HULL_SNAPSHOTTER overrides. */
    static String snapshotter() throws RuntimeError {
        String env = dev.hull.runtime.Caller.getenv("HULL_SNAPSHOTTER");
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

    private static String overlayOptions(List<Path> layers, Path dir, Path writable) throws IOException, RuntimeError {
        List<String> lower = new ArrayList<>();
        for (int i = layers.size() - 1; i >= 0; i--) {
            lower.add(layers.get(i).toString());
        }
        if (lower.isEmpty()) {
            lower.add(Files.createDirectories(dir.resolve("empty")).toString());
        }
        String opts = "lowerdir=" + String.join(":", lower) + ",upperdir=" + writable.resolve("upper") + ",workdir="
                + writable.resolve("work");
        if (opts.length() > 4000) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "the image has " + layers.size() + " layers: too many"
                    + " for one overlay mount here (options " + opts.length() + " bytes, the kernel takes 4096);"
                    + " run with HULL_SNAPSHOTTER=copy");
        }
        return opts;
    }
}
