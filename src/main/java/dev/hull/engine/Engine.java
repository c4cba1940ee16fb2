package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.unpack.LayerFlattener;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.ContainerRuntime;
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
import java.util.function.IntConsumer;
import dev.hull.engine.network.NetworkRequest;
import dev.hull.engine.network.NetworkStore;
import dev.hull.engine.network.Networking;
import dev.hull.engine.network.PortSpec;
import dev.hull.linux.SecureDirs;
import dev.hull.linux.net.Nftables;

/**
 * Hull's engine: containers made from images, each with a tiny monitor (the executor binary,
 * staying on as the container's parent) instead of a resident daemon. The rootfs is an overlay
 * (image layers below, a per-container upper layer) mounted inside the container's own mount
 * namespace. Everything a container is lives under HULL_HOME ({@link ContainerStore}); what runs
 * is told by its monitor's status file and the liveness of the processes it names.
 */
public final class Engine {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** docker's default for stop: seconds between the stop signal and SIGKILL. */
    public static final int DEFAULT_STOP_TIMEOUT = 10;

    private final Path home;
    private final Path stateRoot;
    private final ContainerRuntime runtime;
    private final ImageService images;
    private final ContainerStore containers;
    private final VolumeStore volumes;
    private final Networking networking;
    private final EventLog events;
    private ImageSource imageSource;
    /** The config file's defaults, read at first use (once per command: each command has its own Engine). */
    private EngineConfig config;
    /** The nftables table Hull's NAT and published ports live in. */
    public static final String NFT_TABLE = "hull";

    /** Fetches an image the store lacks (a registry pull); the CLI installs one. */
    @FunctionalInterface
    public interface ImageSource {
        ImageRecord fetch(String image) throws IOException, RuntimeError;
    }

    /** home: where images and containers live (/var/lib/hull); stateRoot: runtime state (/run/hull). */
    public Engine(Path home, Path stateRoot) {
        home = dev.hull.runtime.Caller.absolute(home); // monitors run in /, and outlive this process's directory
        stateRoot = dev.hull.runtime.Caller.absolute(stateRoot);
        this.home = home;
        this.stateRoot = stateRoot;
        this.runtime = new ContainerRuntime(stateRoot);
        this.images = new ImageService(home);
        this.containers = new ContainerStore(home);
        this.volumes = new VolumeStore(home);
        this.events = new EventLog(home);
        this.networking = new Networking(new NetworkStore(home), stateRoot, containers::dir, new Nftables(NFT_TABLE),
                this::claimIdle);
        secureRoots();
    }

    /**
     * The store's roots are root's alone (issue 12, the CVE-2021-41091 class): a host user who could
     * walk into a container's upper or rootfs directory, an image's snapshot or a volume could run a
     * setuid-root binary the container wrote or the image shipped. HULL_HOME is made 0700 before
     * anything is put there; containers/, snapshots/ and volumes/ are 0700 too (made so where they are
     * made), so a HULL_HOME an administrator opens up still hides them. A store an older Hull made
     * 0755 is fixed here, by whatever command comes next: a stat per root, no tree walk (nothing below
     * is reachable without passing them). Nothing needs a path below HULL_HOME as another user: the
     * engine's containers get no user namespace, and their overlay, volumes and files are mounted by
     * root before the container's own user takes over. The state root (HULL_STATE) is a runtime
     * state root: see {@link dev.hull.runtime.StateStore#secureRoot}.
     */
    private void secureRoots() {
        try {
            SecureDirs.ensure(home, SecureDirs.PRIVATE);
            SecureDirs.tighten(containers.root(), SecureDirs.PRIVATE);
            SecureDirs.tighten(images.store().snapshotsDir(), SecureDirs.PRIVATE);
            SecureDirs.tighten(volumes.root(), SecureDirs.PRIVATE);
            runtime.store().tightenRoot();
            NetworkStore.tightenShared();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot make Hull's store private to root: " + e.getMessage(), e);
        }
    }

    public Networking networking() {
        return networking;
    }

    /** What happened, from every front door (docker's events). */
    public EventLog events() {
        return events;
    }

    public static Engine defaults() {
        String h = dev.hull.runtime.Caller.getenv("HULL_HOME"); // the client's, on the warm path
        String s = dev.hull.runtime.Caller.getenv("HULL_STATE");
        boolean rootless = Rootless.active(); // the user's own dirs, never /var/lib or /run
        return new Engine(h != null ? Path.of(h) : rootless ? Rootless.home() : Path.of("/var/lib/hull"),
                s != null ? Path.of(s) : rootless ? Rootless.state() : Path.of("/run/hull"));
    }

    public Path home() {
        return home;
    }

    /** Where runtime state lives (/run/hull, HULL_STATE). */
    public Path stateRoot() {
        return stateRoot;
    }

    public ImageService images() {
        return images;
    }

    public ContainerStore containers() {
        return containers;
    }

    public VolumeStore volumes() {
        return volumes;
    }

    public ContainerRuntime runtime() {
        return runtime;
    }

    /**
     * The defaults new containers get ({@link EngineConfig}): the caller's HULL_CONFIG file, else
     * /etc/hull/hull.json, read once; a bad file fails here, naming the file and the key.
     */
    public EngineConfig config() throws RuntimeError {
        if (config == null) {
            config = EngineConfig.load();
        }
        return config;
    }

    public void imageSource(ImageSource source) {
        this.imageSource = source;
    }

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

    // ---------------------------------------------------------------- create

    /** {@code hull create}: the container's bundle and record; nothing runs yet. */
    public ContainerInfo create(CreateOptions o) throws IOException, RuntimeError {
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
            Rootless.limit(o); // what needs the host's root (cgroups, the bridge) refused or left out, before the config's defaults
        }
        config().applyTo(o); // the config file's defaults for what the flags left open, kept in container.json
        logLimits(o); // bad --log-opt fails before anything is made
        if (o.cidFile != null && Files.exists(Path.of(o.cidFile))) { // docker's words
            throw new RuntimeError(RuntimeError.Kind.EXISTS, "container ID file found, make sure the other container"
                    + " isn't running or delete " + o.cidFile);
        }
        // A lease until the container is recorded: no prune or rmi can take its layers meanwhile.
        try (Closeable lease = images.lease()) {
            ImageRecord image = image(o.image);
            ImageConfig imageConfig = images.config(image);
            List<Path> layers = images.unpack(image);
            ContainerStore.Locked reservation = containers.reserve(o.name);
            ContainerInfo reserved = reservation.info();
            String id = reserved.id();
            Path dir = containers.dir(id);
            boolean done = false;
            Closeable volumeLease = null;
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
                volumeLease = volumes.lease(o.volumes);
                ImageConfig.Config ic = imageConfig.config() != null ? imageConfig.config()
                        : new ImageConfig.Config(null, null, null, null, null, null, null, null, null);
                List<String> args = ContainerSpecBuilder.args(o, ic);
                ImageUser user = ImageUser.resolve(o.user != null ? o.user : ic.user(),
                        ImageService.readImageFile(layers, "etc/passwd"), ImageService.readImageFile(layers, "etc/group"));
                ObjectNode spec = ContainerSpecBuilder.build(o, ic, user, id, args, overlay, dir, volumes);
                SpecExtras.apply(spec, o, () -> ImageService.readImageFile(layers, "etc/group"));
                if (rootless) {
                    Rootless.adapt(spec);
                }
                String mode = o.network == null ? "bridge" : o.network;
                if (NetworkRequest.wired(mode) && !mode.equals(NetworkStore.DEFAULT)) {
                    o.network = networking.store().resolve(mode).name(); // kept by name, also when given by id
                }
                NetworkRequest net = networkRequest(id, reserved.name(), o,
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
                copyUp(spec, layers);
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
                if (o.cidFile != null) { // --cidfile: the id, as the caller's own file
                    Files.writeString(Path.of(o.cidFile), id, java.nio.file.StandardOpenOption.CREATE_NEW,
                            java.nio.file.StandardOpenOption.WRITE);
                    dev.hull.runtime.Caller.madeFor(Path.of(o.cidFile));
                }
                events.container("create", info, java.util.Map.of());
                return info;
            } finally {
                try {
                    if (volumeLease != null) {
                        volumeLease.close();
                    }
                    if (!done) {
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
    private void copyUp(ObjectNode spec, List<Path> layers) throws IOException {
        String prefix = volumes.root() + "/";
        for (com.fasterxml.jackson.databind.JsonNode m : spec.path("mounts")) {
            String src = m.path("source").asText();
            if (!m.path("type").asText().equals("bind") || !src.startsWith(prefix)
                    || !src.endsWith("/_data") && !src.endsWith("/disk/data")) {
                continue;
            }
            Path data = Path.of(src);
            if (!VolumeStore.isEmpty(data)) {
                continue;
            }
            try {
                LayerFlattener.flattenSubtree(layers, m.path("destination").asText(), data);
            } catch (IOException | RuntimeException e) {
                try (var children = Files.list(data)) {
                    for (Path c : (Iterable<Path>) children::iterator) {
                        dev.hull.image.SnapshotStore.deleteTree(c);
                    }
                }
                throw new IOException("copying the image's " + m.path("destination").asText() + " into volume "
                        + src.substring(prefix.length()).split("/")[0] + ": " + e.getMessage(), e);
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

    // ---------------------------------------------------------------- state

    /** What a container is doing now: docker's status words, and the monitor's record. */
    public record State(String status, MonitorStatus monitor) {
        public boolean running() {
            return status.equals("running") || status.equals("paused") || status.equals("restarting");
        }

        public int exitCode() {
            return monitor == null ? 0 : monitor.exitCode();
        }
    }

    /**
     * created (never started), running, paused, restarting or exited. A monitor that is gone
     * while its file says running (killed, or the host rebooted) means exited, unless the init it
     * named still runs.
     */
    public State state(ContainerInfo info) throws IOException {
        MonitorStatus m = MonitorStatus.read(containers.statusFile(info.id()));
        if (m == null) {
            return new State("created", null);
        }
        switch (m.status()) {
            case "running" -> {
                if (!m.initAlive()) { // (the monitor is looked at only then: one /proc read a running container)
                    if (m.monitorAlive()) { // between the init's end and the monitor's record of it
                        return new State("running", m);
                    }
                    MonitorStatus again = MonitorStatus.read(containers.statusFile(info.id()));
                    if (again != null && !again.status().equals("running")) {
                        return state(info); // it recorded the end and left between the read and the check
                    }
                    return new State("exited", lost(m, "the container's monitor ended without recording its exit"
                            + " (killed, or the host restarted)"));
                }
                return new State(frozen(info) ? "paused" : "running", m);
            }
            case "restarting" -> {
                return m.monitorAlive() ? new State("restarting", m) : new State("exited", m);
            }
            default -> {
                return new State("exited", m);
            }
        }
    }

    private static MonitorStatus lost(MonitorStatus m, String why) {
        return new MonitorStatus("exited", 0, 0, m.monitorPid(), m.monitorStartTime(), m.startedAt(), "",
                255, m.restartCount(), why);
    }

    /** The runtime's records as frozen() last parsed them (state.json is replaced whole). */
    private static final dev.hull.linux.FileMemo<ContainerRecord> RECORDS =
            new dev.hull.linux.FileMemo<>(b -> ContainerRecord.fromJson(JSON.readTree(b)));
    /** The host's cgroup mounts, read once: they do not move while a service runs. */
    private static volatile dev.hull.linux.cgroup.CgroupLayout layout;

    private boolean frozen(ContainerInfo info) {
        try {
            ContainerRecord rec = RECORDS.read(runtime.store().dir(info.id()).resolve(
                    dev.hull.runtime.StateStore.STATE_FILE));
            if (rec == null) {
                return false;
            }
            if (layout == null) {
                layout = dev.hull.linux.cgroup.CgroupLayout.detect();
            }
            return new dev.hull.linux.cgroup.CgroupResources(layout, rec.cgroupPath()).isFrozen();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The runtime's record of the container, with the pid of the init the monitor runs now (a
     * restart makes a new one); null if the runtime has no record (never started, or removed).
     */
    public ContainerRecord runtimeRecord(ContainerInfo info) throws IOException {
        ContainerRecord rec;
        try {
            rec = runtime.store().load(info.id());
        } catch (RuntimeError e) {
            return null;
        }
        MonitorStatus m = MonitorStatus.read(containers.statusFile(info.id()));
        if (m != null && m.status().equals("running") && m.pid() > 0 && m.pid() != rec.pid()) {
            rec = new ContainerRecord(rec.id(), m.pid(), m.pidStartTime(), rec.bundle(), rec.rootfs(), rec.created(),
                    rec.ociVersion(), rec.cgroupPath(), rec.cgroupDirs(), rec.annotations());
            runtime.store().save(rec);
        }
        return rec;
    }

    /** The kernel's OOM killer ended a process of the container (its cgroup's count, kept until the next start). */
    public boolean oomKilled(ContainerInfo info) {
        try {
            ContainerRecord rec = runtime.store().load(info.id());
            return new dev.hull.linux.cgroup.CgroupResources(dev.hull.linux.cgroup.CgroupLayout.detect(),
                    rec.cgroupPath()).oomKills() > 0;
        } catch (IOException | RuntimeError | RuntimeException e) {
            return false;
        }
    }

    /** The running container's runtime id, its record synced with the monitor; fails if it is not running. */
    public ContainerRecord requireRunning(ContainerInfo info) throws IOException, RuntimeError {
        State s = state(info);
        if (!s.status().equals("running") && !s.status().equals("paused")) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " is not running"
                    + " (" + s.status() + ")");
        }
        ContainerRecord rec = runtimeRecord(info);
        if (rec == null) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " is not running");
        }
        return rec;
    }

    // ---------------------------------------------------------------- start / run

    /** How a start is attached: the descriptors the container's stdio come from, a hook for its pid. */
    public record Attach(int[] stdio, IntConsumer onStarted, String detachKeys) {
        /** Without detach keys. */
        public Attach(int[] stdio, IntConsumer onStarted) {
            this(stdio, onStarted, null);
        }
    }

    /** What an attached start or run returns when the caller typed the detach keys: the container runs on. */
    public static final int DETACHED = dev.hull.runtime.executor.ExecutorSession.DETACHED;

    /**
     * {@code hull start}: a new init (and monitor) for the container. With attach, returns the
     * exit code once the container first ends; otherwise 0 once it runs. Starting a running
     * container does nothing.
     */
    public int start(String ref, Attach attach) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        ContainerStore.Locked locked = containers.lock(info);
        try {
            info = locked.info();
            State s = state(info);
            if (s.running()) {
                if (s.status().equals("paused")) {
                    throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name()
                            + " is paused: unpause it");
                }
                return 0;
            }
            CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
            // What a previous run left (its runtime state and cgroup; the processes are gone).
            runtime.delete(info.id(), true);
            Files.deleteIfExists(containers.stopMarker(info.id()));
            NetworkRequest net = networkRequest(info);
            if (net.wired()) {
                networking.setUp(net); // (tears down what a previous run left first)
            } else {
                networking.tearDown(info.id());
                if (net.mode().startsWith("container:")) {
                    joinContainerNetwork(info, net.mode().substring("container:".length()));
                }
            }
            try {
                return launch(info, o, net, attach, locked);
            } catch (IOException | RuntimeError | RuntimeException e) {
                if (!state(info).running()) {
                    networking.tearDown(info.id());
                }
                throw e;
            }
        } finally {
            locked.close(); // (a second close does nothing)
        }
    }

    /**
     * A --init container made by an older Hull bound the host's executor file at /dev/hull-init (a
     * privileged container could remount that bind read-write): its config is rewritten to today's
     * form, the init exec'd from the executor's sealed executable, before it starts again.
     */
    private static void upgradeInit(Path config) throws IOException {
        String text = Files.readString(config);
        if (!text.contains(ContainerSpecBuilder.INIT_PATH)) {
            return;
        }
        ObjectNode spec = (ObjectNode) JSON.readTree(text);
        if (!ContainerSpecBuilder.upgradeInit(spec)) {
            return;
        }
        rewriteConfig(config, spec);
    }

    /** A container's config.json replaced atomically (temp file + rename) by spec. */
    private static void rewriteConfig(Path config, ObjectNode spec) throws IOException {
        Path tmp = config.resolveSibling("config.json.tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(spec));
        Files.move(tmp, config, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** {@code --network container:NAME}: the config's network namespace becomes NAME's (which must run). */
    private void joinContainerNetwork(ContainerInfo info, String ref) throws IOException, RuntimeError {
        ContainerInfo other = containers.resolve(ref);
        if (other.id().equals(info.id())) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--network container:" + ref + " is this container");
        }
        ContainerRecord rec = requireRunning(other);
        var st = networking.state(other.id());
        String path = st != null ? st.netns() : "/proc/" + rec.pid() + "/ns/net";
        Path config = containers.dir(info.id()).resolve("config.json");
        ObjectNode spec = (ObjectNode) JSON.readTree(config.toFile());
        ContainerSpecBuilder.joinNetwork(spec, path);
        rewriteConfig(config, spec);
    }

    private int launch(ContainerInfo info, CreateOptions o, NetworkRequest net, Attach attach,
            ContainerStore.Locked locked)
            throws IOException, RuntimeError {
        upgradeInit(containers.dir(info.id()).resolve("config.json"));
        ContainerDisks.mountAll(containers.dir(info.id()), info.name(),
                JSON.readTree(Files.readAllBytes(containers.dir(info.id()).resolve("config.json"))), volumes.root());
        Monitor monitor = monitorFor(info, o, net, attach != null,
                attach != null && attach.detachKeys() != null && o.tty && o.interactive ? attach.detachKeys() : "");
        ContainerRuntime rt = new ContainerRuntime(stateRoot).withMonitor(monitor);
        if (attach != null && attach.stdio() != null) {
            rt.withStdio(attach.stdio());
        }
        if (attach == null) {
            rt.runMonitored(info.id(), containers.dir(info.id()), false, null);
            events.container("start", info, java.util.Map.of());
            return 0;
        }
        // Attached: the lock is let go once the container is made, before waiting for its end.
        IntConsumer onStarted = pid -> {
            try {
                locked.close();
            } catch (IOException ignored) {
                // released with the process anyway
            }
            events.container("start", info, java.util.Map.of());
            if (attach.onStarted() != null) {
                attach.onStarted().accept(pid);
            }
        };
        int code = rt.runMonitored(info.id(), containers.dir(info.id()), true, onStarted);
        // It ended (for good: a restart policy keeps an attached run going): its wiring goes now.
        try (ContainerStore.Locked again = containers.lock(info)) {
            if (!state(again.info()).running()) {
                networking.tearDown(info.id());
            }
        } catch (RuntimeError removed) {
            // removed meanwhile (rm -f), which tore it down
        }
        return code;
    }

    /**
     * {@code hull attach}: the caller's stdio (attach.stdio()) joins the running container through its
     * monitor: its output from now on, its pty (stdin too when it was made with -i and stdin is asked
     * for) with the caller's window size. Returns the exit code once it ends, or {@link #DETACHED}.
     */
    public int attach(String ref, Attach attach, boolean stdin) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        State s = state(info);
        if (s.status().equals("paused")) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "You cannot attach to a paused container, unpause it first");
        }
        ContainerRecord rec = s.running() ? runtimeRecord(info) : null;
        if (rec == null) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "You cannot attach to a stopped container, start it first");
        }
        CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
        if (!o.tty && attach.onStarted() != null) {
            attach.onStarted().accept(rec.pid()); // --sig-proxy: docker proxies signals without a terminal only
        }
        int code = dev.hull.runtime.ContainerAttach.attach(containers.dir(info.id()), rec.pid(), attach.stdio(),
                o.tty, stdin && o.interactive, attach.detachKeys());
        if (code == dev.hull.runtime.ContainerAttach.ENDED) {
            State now = state(info);
            code = now.running() ? 0 : now.exitCode();
        }
        return code;
    }

    /** What the container asks of the network, from its options. */
    NetworkRequest networkRequest(ContainerInfo info) throws RuntimeError {
        return networkRequest(info.id(), info.name(), info.options() != null ? info.options() : new CreateOptions(),
                info.exposedPorts() == null ? List.of() : info.exposedPorts());
    }

    private static NetworkRequest networkRequest(String id, String name, CreateOptions o, List<String> exposed)
            throws RuntimeError {
        String mode = o.network == null ? "bridge" : o.network;
        List<NetworkRequest.Attachment> attachments = new ArrayList<>();
        List<PortSpec> ports = new ArrayList<>();
        try {
            if (NetworkRequest.wired(mode) || o.ip != null) {
                attachments.add(new NetworkRequest.Attachment(mode, o.ip, o.networkAliases));
            }
            for (CreateOptions.Connection c : o.connections) {
                attachments.add(new NetworkRequest.Attachment(c.network, c.ip, c.aliases));
            }
            for (String p : o.publish) {
                ports.addAll(PortSpec.parse(p));
            }
            for (String e : o.expose) {
                PortSpec.exposed(e); // checked also without -P
            }
            if (o.publishAll) {
                java.util.Set<String> keys = new java.util.LinkedHashSet<>(exposed);
                keys.addAll(o.expose);
                for (String k : keys) {
                    for (PortSpec e : PortSpec.exposed(k)) {
                        if (ports.stream().noneMatch(p -> p.containerPort() == e.containerPort()
                                && p.protocol().equals(e.protocol()))) {
                            ports.add(e);
                        }
                    }
                }
            }
            // what goes into /etc/hosts and resolv.conf (the container's and its peers'): one word each
            for (String h : o.addHosts) {
                dev.hull.engine.network.HostFiles.checkAddHost(h);
            }
            for (String a : o.networkAliases) {
                dev.hull.engine.network.HostFiles.checkName(a, "--network-alias");
            }
            for (CreateOptions.Connection c : o.connections) {
                for (String a : c.aliases) {
                    dev.hull.engine.network.HostFiles.checkName(a, "--alias");
                }
            }
            if (o.hostname != null) {
                dev.hull.engine.network.HostFiles.checkName(o.hostname, "--hostname");
            }
            for (String d : o.dnsSearch) {
                dev.hull.engine.network.HostFiles.checkName(d, "--dns-search");
            }
            for (String d : o.dns) {
                dev.hull.engine.network.HostFiles.checkAddress(d, "--dns");
            }
            for (String d : o.dnsOptions) {
                if (!d.matches("[A-Za-z0-9:._-]{1,64}")) {
                    throw new IllegalArgumentException("--dns-option " + d + ": an option like ndots:2 or rotate");
                }
            }
            if (o.macAddress != null) {
                dev.hull.linux.net.Netlink.parseMac(o.macAddress);
            }
        } catch (IllegalArgumentException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
        String hostname = o.hostname != null ? o.hostname : id.substring(0, 12);
        return new NetworkRequest(id, name, hostname, mode, attachments, ports, o.macAddress, o.dns, o.dnsSearch,
                o.dnsOptions, o.addHosts);
    }

    /**
     * The container's lock if nothing runs in it and nobody changes it (or a no-op if it is gone);
     * null if it is busy. For reclaiming what ended containers left.
     */
    private Closeable claimIdle(String id) {
        Path dir = containers.dir(id);
        if (!Files.isDirectory(dir)) {
            return () -> { };
        }
        try {
            Closeable l = dev.hull.image.FileLocks.tryExclusive(dir.resolve("lock"));
            if (l == null) {
                return null;
            }
            ContainerInfo info = containers.read(id);
            if (info != null) {
                State s = state(info);
                if (s.running() || s.monitor() != null && s.monitor().monitorAlive()) {
                    l.close();
                    return null;
                }
            }
            return l;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** network name → names of the containers (running or not) configured to be on it. */
    public java.util.Map<String, List<String>> networksInUse() throws IOException {
        java.util.Map<String, List<String>> out = new java.util.TreeMap<>();
        for (ContainerInfo c : containers.list()) {
            CreateOptions o = c.options();
            if (o == null) {
                continue;
            }
            List<String> nets = new ArrayList<>();
            nets.add(o.network == null ? "bridge" : o.network);
            o.connections.forEach(x -> nets.add(x.network));
            for (String n : nets) {
                var info = NetworkRequest.wired(n) ? networking.store().read(n) : null;
                if (info != null || n.equals("bridge")) {
                    out.computeIfAbsent(n, k -> new ArrayList<>()).add(c.name());
                }
            }
        }
        return out;
    }

    /** {@code hull network rm}: refused while a container (running or not) is configured to be on it. */
    public void removeNetwork(String ref) throws IOException, RuntimeError {
        var n = networking.store().resolve(ref);
        if (NetworkStore.predefined(n.name())) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "network " + n.name()
                    + " is predefined: it cannot be removed");
        }
        List<String> users = networksInUse().get(n.name());
        if (users != null) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "network " + n.name() + " is used by container(s) "
                    + String.join(", ", users) + ": remove them or `hull network disconnect` them first");
        }
        networking.removeNetwork(n);
        networking.store().event("destroy", n, java.util.Map.of());
    }

    /** {@code hull network connect}: on the network now if it runs, and at every start. */
    public void connect(String network, String ref, String ip, List<String> aliases) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            info = locked.info();
            CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
            var n = networking.store().resolve(network);
            NetworkRequest before = networkRequest(info);
            if (!before.wired()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "container " + info.name() + " runs with --network "
                        + before.mode() + ": it cannot join other networks");
            }
            for (NetworkRequest.Attachment a : before.attachments()) {
                if (networking.store().resolve(a.network()).name().equals(n.name())) {
                    throw new RuntimeError(RuntimeError.Kind.EXISTS, "container " + info.name()
                            + " is already on network " + n.name());
                }
            }
            o.connections.add(new CreateOptions.Connection(n.name(), ip, aliases));
            networking.check(networkRequest(info.id(), info.name(), o, List.of()));
            if (state(info).running()) {
                networking.connect(info.id(), new NetworkRequest.Attachment(n.name(), ip, aliases));
            }
            containers.write(info);
            networking.store().event("connect", n, java.util.Map.of("container", info.id()));
        }
    }

    /** {@code hull network disconnect}. */
    public void disconnect(String network, String ref) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            info = locked.info();
            CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
            var n = networking.store().resolve(network);
            boolean primary = networkRequest(info).wired()
                    && networking.store().resolve(o.network).name().equals(n.name());
            boolean connected = o.connections.removeIf(c -> c.network.equals(n.name()));
            if (!primary && !connected) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "container " + info.name() + " is not on network "
                        + n.name());
            }
            if (state(info).running()) {
                networking.disconnect(info.id(), n.name());
            }
            if (primary) { // the next network takes its place; with none left, only loopback
                if (o.connections.isEmpty()) {
                    o.network = "none";
                    o.ip = null;
                    o.networkAliases = new ArrayList<>();
                } else {
                    CreateOptions.Connection next = o.connections.removeFirst();
                    o.network = next.network;
                    o.ip = next.ip;
                    o.networkAliases = next.aliases;
                }
            }
            containers.write(info);
            networking.store().event("disconnect", n, java.util.Map.of("container", info.id()));
        }
    }

    private Monitor monitorFor(ContainerInfo info, CreateOptions o, NetworkRequest net, boolean attached,
            String detachKeys) throws RuntimeError {
        long[] limits = logLimits(o);
        List<String> onExit = List.of();
        List<String> onEnd = List.of();
        // The monitor runs these only when no starting client saw the end (run -d; or run -it and the
        // detach keys, or a killed client): an attached caller removes or cleans up itself.
        if (o.autoRemove) {
            // The monitor of a detached --rm container removes it when it ends: one short JVM, then.
            onExit = hullCommand("rm", "--force", info.id());
        } else if (holdsShared(net)) {
            // Published ports and names on a user network matter to others: a detached container that
            // ends by itself gives them back at once (stop and rm do it themselves).
            onEnd = hullCommand("container", "cleanup", info.id());
        }
        return new Monitor(containers.statusFile(info.id()), containers.logFile(info.id()), limits[0],
                (int) limits[1], Monitor.RestartPolicy.parse(o.restart), containers.stopMarker(info.id()),
                attached && o.interactive, detachKeys, onExit, onEnd, o.interactive && !o.tty && !attached);
    }

    /** Wiring others notice while it stays: published host ports, or a user-defined network (peers' names). */
    private static boolean holdsShared(NetworkRequest r) {
        return r.wired() && (!r.ports().isEmpty() || r.attachments().stream()
                .anyMatch(a -> !a.network().equals(NetworkStore.DEFAULT)));
    }

    /**
     * The size of the caller's terminal (stdio[0]; null: this process's fd 0), so that an exec'd
     * process's pty has it from its first instruction (the relay's resize comes after it started);
     * fallback when the caller has no sized terminal.
     */
    static dev.hull.runtime.spec.ConsoleSize callerWindow(int[] stdio, dev.hull.runtime.spec.ConsoleSize fallback) {
        try {
            int[] size = dev.hull.linux.FdPassing.windowSize(stdio == null ? 0 : stdio[0]);
            if (size[0] > 0 && size[1] > 0) {
                return new dev.hull.runtime.spec.ConsoleSize(size[0], size[1]);
            }
        } catch (dev.hull.linux.LinuxException e) {
            // not a terminal
        }
        return fallback;
    }

    /** argv of a hull command with this engine's HULL_HOME and HULL_STATE, for a monitor to exec. */
    private List<String> hullCommand(String... args) {
        List<String> argv = new ArrayList<>(List.of("/usr/bin/env", "HULL_HOME=" + home, "HULL_STATE=" + stateRoot));
        // The service the caller used (or none): a monitor's end command must not start one elsewhere.
        for (String k : List.of("HULL_RUNTIME_SOCKET", "HULL_NO_SERVICE", "HULL_CLASSPATH", "HULL_ROOTLESS")) {
            String v = dev.hull.runtime.Caller.getenv(k);
            if (v != null && !v.isEmpty()) {
                argv.add(k + "=" + v);
            }
        }
        argv.addAll(launcher());
        argv.addAll(List.of(args));
        return argv;
    }

    /**
     * {@code hull container cleanup} (what a monitor runs when its container ended by itself):
     * the container's network wiring goes, unless it runs again meanwhile.
     */
    public void cleanup(String ref) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            if (!state(locked.info()).running()) {
                networking.tearDown(info.id());
            }
        }
    }

    /** How to run hull: the launcher (bin/hull) this JVM came from, else this JVM's java and classpath. */
    static List<String> launcher() {
        String p = System.getProperty("hull.launcher");
        if (p != null) {
            return List.of(p);
        }
        String java = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-Dhull.program=hull", "-Dhull.executor=" + dev.hull.runtime.executor.ExecutorSession.binary(),
                "-cp", System.getProperty("java.class.path"), "dev.hull.cli.Main");
    }

    /** The most json-file logs a container keeps (the monitor renames each one at every rotation). */
    static final int MAX_LOG_FILES = 1000;

    /** --log-opt max-size=SIZE (k, m, g; -1: no rotation), max-file=N: {max bytes (0 none), files}. */
    static long[] logLimits(CreateOptions o) throws RuntimeError {
        long size = 0;
        long files = 1;
        for (var e : o.logOpts.entrySet()) {
            switch (e.getKey()) {
                case "max-size" -> {
                    if (!e.getValue().trim().equals("-1")) { // docker's "unlimited": size stays 0
                        size = parseSize(e.getValue(), "--log-opt max-size");
                        if (size <= 0) {
                            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt max-size must be above 0"
                                    + " (-1: no rotation)");
                        }
                    }
                }
                case "max-file" -> {
                    try {
                        files = Long.parseLong(e.getValue());
                    } catch (NumberFormatException x) {
                        files = 0;
                    }
                    if (files < 1 || files > MAX_LOG_FILES) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt max-file=" + e.getValue()
                                + ": a number from 1 to " + MAX_LOG_FILES);
                    }
                }
                default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt " + e.getKey()
                        + ": the json-file log takes max-size and max-file");
            }
        }
        if (files > 1 && size == 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt max-file needs max-size");
        }
        return new long[] {size, files};
    }

    /** 512, 10k, 64m, 1g (also kb, mb, gb, b); docker's units are 1024-based. */
    public static long parseSize(String s, String what) throws RuntimeError {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        long mult = 1;
        String num = t;
        String[][] units = {{"kb", "1024"}, {"mb", "1048576"}, {"gb", "1073741824"}, {"k", "1024"}, {"m", "1048576"},
            {"g", "1073741824"}, {"b", "1"}};
        for (String[] u : units) {
            if (t.endsWith(u[0])) {
                mult = Long.parseLong(u[1]);
                num = t.substring(0, t.length() - u[0].length());
                break;
            }
        }
        try {
            double v = Double.parseDouble(num);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, what + " " + s + ": use a size like 512k, 64m or 1g");
        }
    }

    /**
     * {@code hull run}: create, then start. Attached (no -d), returns the container's exit code,
     * removing it afterwards with --rm; detached, returns 0 once it runs and prints nothing.
     */
    public Run run(CreateOptions o, boolean detach, Attach attach) throws IOException, RuntimeError {
        ContainerInfo info = create(o);
        if (detach) {
            try {
                start(info.id(), null);
            } catch (IOException | RuntimeError | RuntimeException e) {
                if (o.autoRemove) {
                    remove(info.id(), true);
                }
                throw e;
            }
            return new Run(info, 0);
        }
        int code;
        try {
            code = start(info.id(), attach != null ? attach : new Attach(null, null));
        } catch (IOException | RuntimeError | RuntimeException e) {
            if (o.autoRemove) {
                remove(info.id(), true);
            }
            throw e;
        }
        if (o.autoRemove && code != DETACHED) {
            remove(info.id(), true);
        }
        return new Run(info, code);
    }

    public record Run(ContainerInfo container, int exitCode) {}

    // ---------------------------------------------------------------- stop / kill / rm / wait

    /**
     * {@code hull stop}: the stop signal, then SIGKILL after timeout seconds; no restart follows.
     * Returns once the container has ended. A stopped container is left as it is.
     */
    public void stop(String ref, Integer timeoutSeconds) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            boolean wasRunning = state(locked.info()).running();
            stopLocked(locked.info(), timeoutSeconds);
            if (!state(locked.info()).running()) {
                networking.tearDown(info.id());
            }
            if (wasRunning) {
                events.container("stop", locked.info(), java.util.Map.of());
            }
        }
    }

    private void stopLocked(ContainerInfo info, Integer timeoutSeconds) throws IOException, RuntimeError {
        State s = state(info);
        if (!s.running()) {
            return;
        }
        Files.writeString(containers.stopMarker(info.id()), Instant.now().toString());
        CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
        int timeout = timeoutSeconds != null ? timeoutSeconds : o.stopTimeout != null ? o.stopTimeout
                : DEFAULT_STOP_TIMEOUT;
        ContainerRecord rec = runtimeRecord(info);
        if (s.status().equals("running") && rec != null) {
            int sig = Signals.parse(info.stopSignal() != null ? info.stopSignal() : "SIGTERM");
            signal(info, rec, sig, false);
            if (!awaitInitGone(rec, timeout * 1000L)) {
                signal(info, rec, 9, true);
            }
        } else if (s.status().equals("paused") && rec != null) {
            signal(info, rec, 9, true);
        }
        // A restart the monitor began before it saw the stop request: its new init is in the same
        // cgroup, so killing the cgroup's processes ends it too.
        for (int round = 0; round < 3 && !awaitMonitor(info, 5_000); round++) {
            ContainerRecord now = runtimeRecord(info);
            if (now != null) {
                signal(info, now, 9, true);
            }
        }
    }

    private void signal(ContainerInfo info, ContainerRecord rec, int sig, boolean all) throws IOException {
        try {
            runtime.kill(info.id(), sig, all);
            if (all && sig == 9) {
                try { // a frozen process cannot die
                    new dev.hull.linux.cgroup.CgroupResources(dev.hull.linux.cgroup.CgroupLayout.detect(),
                            rec.cgroupPath()).thaw();
                } catch (IOException | RuntimeException ignored) {
                    // not frozen, or no freezer
                }
            }
        } catch (RuntimeError e) {
            // ended meanwhile
        }
    }

    private static boolean awaitInitGone(ContainerRecord rec, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (MonitorStatus.alive(rec.pid(), rec.startTime())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(5);
        }
        return true;
    }

    /** Waits until the monitor is gone (it recorded the end), or the time is up. */
    private boolean awaitMonitor(ContainerInfo info, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        for (;;) {
            MonitorStatus m = MonitorStatus.read(containers.statusFile(info.id()));
            // exited is its last word (an --rm container's monitor then becomes `hull rm`, same pid)
            if (m == null || !m.monitorAlive() || m.status().equals("exited")) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(5);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** {@code hull kill}: a signal to the container's main process (the restart policy still applies). */
    public void kill(String ref, String signal) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        int sig = Signals.parse(signal);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            ContainerRecord rec = requireRunning(locked.info());
            runtime.kill(locked.info().id(), sig, false);
            events.container("kill", locked.info(), java.util.Map.of("signal", Integer.toString(sig)));
            if (rec != null && sig == 9) {
                awaitInitGone(rec, 5000);
            }
        }
    }

    /** {@code hull rm}: removes a container that is not running (with force, kills it first). */
    public ContainerInfo remove(String ref, boolean force) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            info = locked.info();
            State s = state(info);
            if (s.running()) {
                if (!force) {
                    throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " is "
                            + s.status() + ": stop it first, or use rm --force");
                }
                Files.writeString(containers.stopMarker(info.id()), Instant.now().toString());
                ContainerRecord rec = runtimeRecord(info);
                if (rec != null) {
                    signal(info, rec, 9, true);
                }
                if (!awaitMonitor(info, 15_000)) {
                    throw new RuntimeError(RuntimeError.Kind.FAILED, "container " + info.name()
                            + ": its monitor did not end within 15 s");
                }
            }
            runtime.delete(info.id(), true);
            networking.release(info.id());
            events.endBeforeRemoval(this, info);
            containers.remove(info);
            events.container("destroy", info, java.util.Map.of());
            return info;
        }
    }

    /** {@code hull wait}: blocks until the container ends for good (no restart pending); its exit code. */
    public int await(String ref) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        for (;;) {
            if (containers.read(info.id()) == null) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "container " + info.name() + " was removed");
            }
            State s = state(info);
            if (!s.running() && !s.status().equals("created")) {
                return s.exitCode();
            }
            sleep(s.status().equals("created") ? 50 : 10);
        }
    }

    /** {@code hull restart}: stop (if running), then start. */
    public void restart(String ref, Integer timeoutSeconds) throws IOException, RuntimeError {
        stop(ref, timeoutSeconds);
        start(ref, null);
    }

    /** {@code hull rename}. */
    public ContainerInfo rename(String ref, String newName) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            ContainerInfo renamed = containers.rename(locked.info(), newName);
            networking.renamed(info.id(), renamed.name()); // its peers find it by the new name
            events.container("rename", renamed, java.util.Map.of("oldName", "/" + locked.info().name()));
            return renamed;
        }
    }

    /** What {@code hull exec} asks for. user: NAME or UID[:GID] (null: the container's). */
    /** --env-file's lines (KEY=VALUE or KEY, # comments), files in order. */
    public static List<String> envFileLines(List<String> files) throws RuntimeError {
        List<String> out = new ArrayList<>();
        for (String f : files) {
            out.addAll(ContainerSpecBuilder.readEnvFile(Path.of(f)));
        }
        return out;
    }

    public record ExecRequest(List<String> args, List<String> env, String user, String workdir, boolean tty,
            boolean interactive, boolean detach, boolean privileged, int[] stdio, IntConsumer onStarted) {}

    /** {@code hull exec}: a new process in the running container; its exit code (0 once running with detach). */
    public int exec(String ref, ExecRequest r) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        ContainerRecord rec;
        try (ContainerStore.Locked locked = containers.lock(info)) {
            rec = requireRunning(locked.info());
        }
        if (r.args().isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "exec needs a command");
        }
        ContainerRuntime rt = new ContainerRuntime(stateRoot);
        int devNull = -1;
        try {
            int[] stdio = r.stdio();
            if (!r.interactive() && !r.tty()) {
                devNull = dev.hull.linux.Syscalls.open("/dev/null", dev.hull.linux.Syscalls.O_RDONLY
                        | dev.hull.linux.Syscalls.O_CLOEXEC, 0);
                stdio = new int[] {devNull, stdio == null ? 1 : stdio[1], stdio == null ? 2 : stdio[2]};
            }
            if (stdio != null) {
                rt.withStdio(stdio);
            }
            dev.hull.runtime.spec.Process base = dev.hull.runtime.ContainerExec.spec(rt, rec.id()).process();
            List<String> environment = new ArrayList<>(base.env());
            for (String e : r.env()) {
                String kv = e.contains("=") ? e : dev.hull.runtime.Caller.getenv(e) != null ? e + "=" + dev.hull.runtime.Caller.getenv(e) : null;
                if (kv == null) {
                    continue;
                }
                String key = kv.substring(0, kv.indexOf('=') + 1);
                environment.removeIf(x -> x.startsWith(key));
                environment.add(kv);
            }
            dev.hull.runtime.spec.User u = base.user();
            if (r.user() != null) {
                List<Path> layers = images.unpack(images.getOrBuildBuiltin(info.imageId()));
                ImageUser iu = ImageUser.resolve(r.user(), ImageService.readImageFile(layers, "etc/passwd"),
                        ImageService.readImageFile(layers, "etc/group"));
                u = new dev.hull.runtime.spec.User(iu.uid(), iu.gid(), u == null ? null : u.umask(),
                        iu.additionalGids(), null);
            }
            dev.hull.runtime.spec.Capabilities caps = base.capabilities();
            if (r.privileged()) {
                List<String> all = dev.hull.runtime.spec.CapabilityNames.NAMES;
                caps = new dev.hull.runtime.spec.Capabilities(all, all, List.of(), all, List.of());
            }
            dev.hull.runtime.spec.Process proc = new dev.hull.runtime.spec.Process(r.tty(),
                    r.tty() ? callerWindow(r.stdio(), base.consoleSize()) : null, u, r.args(), null, environment,
                    r.workdir() != null ? r.workdir() : base.cwd(), base.noNewPrivileges(), caps, base.rlimits(),
                    base.apparmorProfile(), base.oomScoreAdj(), base.selinuxLabel(), base.raw());
            return dev.hull.runtime.ContainerExec.exec(rt, rec.id(), proc, r.detach(), null,
                    r.detach() ? null : r.onStarted());
        } finally {
            if (devNull >= 0) {
                dev.hull.linux.Syscalls.close(devNull);
            }
        }
    }

    /**
     * Container ids per volume name, for volume rm and prune: the named volumes in each container's
     * mounts (config.json, bind mounts of HULL_HOME/volumes/NAME/_data) and -v options.
     */
    public java.util.Map<String, List<String>> volumesInUse() throws IOException {
        java.util.Map<String, List<String>> out = new java.util.HashMap<>();
        String prefix = volumes.root() + "/";
        for (ContainerInfo info : containers.list()) {
            java.util.Set<String> names = new java.util.LinkedHashSet<>();
            if (info.options() != null) {
                for (String v : info.options().volumes) {
                    int colon = v.indexOf(':');
                    if (colon > 0 && !v.startsWith("/") && !v.startsWith(".")) {
                        names.add(v.substring(0, colon));
                    }
                }
            }
            try {
                var spec = JSON.readTree(Files.readAllBytes(containers.dir(info.id()).resolve("config.json")));
                for (var m : spec.path("mounts")) {
                    String src = m.path("source").asText();
                    if (m.path("type").asText().equals("bind") && src.startsWith(prefix)) {
                        String rest = src.substring(prefix.length());
                        int slash = rest.indexOf('/');
                        names.add(slash < 0 ? rest : rest.substring(0, slash));
                    }
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // being removed
            }
            for (String n : names) {
                out.computeIfAbsent(n, k -> new ArrayList<>()).add(info.id());
            }
        }
        return out;
    }

    /** Containers (their names) per image id, for rmi and prune. */
    public java.util.Map<String, List<String>> imagesInUse() throws IOException {
        java.util.Map<String, List<String>> out = new java.util.HashMap<>();
        for (ContainerInfo info : containers.list()) {
            out.computeIfAbsent(info.imageId(), k -> new ArrayList<>()).add(info.name());
        }
        return out;
    }
}
