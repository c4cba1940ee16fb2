package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.Monitor;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import dev.hull.engine.network.NetworkRequest;
import dev.hull.engine.network.NetworkStore;
import dev.hull.engine.network.Networking;
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
    // the per-concern services this façade hands its work to
    private final ContainerStates states;
    private final ContainerCreator creator;
    private final ContainerNetworkOps networkOps;
    private final ContainerEnding ending;
    private final ContainerExecs execs;
    private final ContainerHealth health;
    private final ContainerUsage usage;
    private final ContainerStarter starter;
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
        if (Rootless.active()) {
            RootlessNetwork.Choice net = RootlessNetwork.choose();
            if (net.tool() != null) {
                networking.rootless(new dev.hull.engine.network.UserModeNetwork(net.tool(), stateRoot));
                networking.store().shareIn(stateRoot.resolve("net")); // the user's leases, not /run/hull-net
            }
        }
        this.states = new ContainerStates(this);
        this.creator = new ContainerCreator(this);
        this.networkOps = new ContainerNetworkOps(this);
        this.ending = new ContainerEnding(this);
        this.execs = new ContainerExecs(this);
        this.health = new ContainerHealth(this);
        this.usage = new ContainerUsage(this);
        this.starter = new ContainerStarter(this);
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

    /** {@code hull create}: the container's bundle and record; nothing runs yet ({@link ContainerCreator}). */
    public ContainerInfo create(CreateOptions o) throws IOException, RuntimeError {
        return creator.create(o);
    }

    /** overlay (shared image layers, an upper dir per container) where the kernel has it, else copy; HULL_SNAPSHOTTER overrides. */
    static String snapshotter() throws RuntimeError {
        return ContainerCreator.snapshotter();
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
     * created (never started), running, paused, restarting or exited ({@link ContainerStates}). A
     * monitor that is gone while its file says running (killed, or the host rebooted) means exited,
     * unless the init it named still runs.
     */
    public State state(ContainerInfo info) throws IOException {
        return states.state(info);
    }

    /**
     * The runtime's record of the container, with the pid of the init the monitor runs now (a
     * restart makes a new one); null if the runtime has no record (never started, or removed).
     */
    public ContainerRecord runtimeRecord(ContainerInfo info) throws IOException {
        return states.runtimeRecord(info);
    }

    /** The kernel's OOM killer ended a process of the container (its cgroup's count, kept until the next start). */
    public boolean oomKilled(ContainerInfo info) {
        return states.oomKilled(info);
    }

    /** The running container's runtime id, its record synced with the monitor; fails if it is not running. */
    public ContainerRecord requireRunning(ContainerInfo info) throws IOException, RuntimeError {
        return states.requireRunning(info);
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
     * {@code hull start}: a new init (and monitor) for the container ({@link ContainerStarter}).
     * With attach, returns the exit code once the container first ends; otherwise 0 once it runs.
     * Starting a running container does nothing.
     */
    public int start(String ref, Attach attach) throws IOException, RuntimeError {
        return starter.start(ref, attach);
    }

    /**
     * {@code hull attach}: the caller's stdio (attach.stdio()) joins the running container through its
     * monitor: its output from now on, its pty (stdin too when it was made with -i and stdin is asked
     * for) with the caller's window size. Returns the exit code once it ends, or {@link #DETACHED}.
     */
    public int attach(String ref, Attach attach, boolean stdin) throws IOException, RuntimeError {
        return starter.attach(ref, attach, stdin);
    }

    /** What the container asks of the network, from its options. */
    NetworkRequest networkRequest(ContainerInfo info) throws RuntimeError {
        return networkOps.networkRequest(info);
    }

    /** {@code --network container:NAME}: the config's network namespace becomes NAME's (which must run). */
    void joinContainerNetwork(ContainerInfo info, String ref) throws IOException, RuntimeError {
        networkOps.joinContainerNetwork(info, ref);
    }

    /** The container's lock if it is idle (or a no-op if it is gone); null if busy: for reclaiming its wiring. */
    private Closeable claimIdle(String id) {
        return networkOps.claimIdle(id);
    }

    /** network name → names of the containers (running or not) configured to be on it. */
    public java.util.Map<String, List<String>> networksInUse() throws IOException {
        return networkOps.networksInUse();
    }

    /** {@code hull network rm}: refused while a container (running or not) is configured to be on it. */
    public void removeNetwork(String ref) throws IOException, RuntimeError {
        networkOps.removeNetwork(ref);
    }

    /** {@code hull network connect}: on the network now if it runs, and at every start. */
    public void connect(String network, String ref, String ip, List<String> aliases) throws IOException, RuntimeError {
        networkOps.connect(network, ref, ip, aliases);
    }

    /** {@code hull network disconnect}. */
    public void disconnect(String network, String ref) throws IOException, RuntimeError {
        networkOps.disconnect(network, ref);
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

    /**
     * {@code hull container cleanup} (what a monitor runs when its container ended by itself):
     * the container's network wiring goes, unless it runs again meanwhile.
     */
    public void cleanup(String ref) throws IOException, RuntimeError {
        starter.cleanup(ref);
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

    /** Refuses to read the log of a container whose log driver keeps none (docker's message). */
    public static void checkReadable(ContainerInfo c) throws RuntimeError {
        if (c.options() != null && !c.options().keepsLog()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "configured logging driver does not support reading");
        }
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
                    remove(info.id(), true, true);
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
                remove(info.id(), true, true);
            }
            throw e;
        }
        if (o.autoRemove && code != DETACHED) {
            remove(info.id(), true, true);
        }
        return new Run(info, code);
    }

    public record Run(ContainerInfo container, int exitCode) {}

    // ---------------------------------------------------------------- stop / kill / rm / wait ({@link ContainerEnding})

    /**
     * {@code hull stop}: the stop signal, then SIGKILL after timeout seconds; no restart follows.
     * Returns once the container has ended. A stopped container is left as it is.
     */
    public void stop(String ref, Integer timeoutSeconds) throws IOException, RuntimeError {
        ending.stop(ref, timeoutSeconds);
    }

    /** {@code hull stop -s SIGNAL}: that signal first instead of the container's stop signal. */
    public void stop(String ref, Integer timeoutSeconds, String signal) throws IOException, RuntimeError {
        ending.stop(ref, timeoutSeconds, signal);
    }

    /** {@code hull kill}: a signal to the container's main process (the restart policy still applies). */
    public void kill(String ref, String signal) throws IOException, RuntimeError {
        ending.kill(ref, signal);
    }

    /** {@code hull rm}: removes a container that is not running (with force, kills it first). */
    public ContainerInfo remove(String ref, boolean force) throws IOException, RuntimeError {
        return remove(ref, force, false);
    }

    /** {@code hull rm [-v]}: with volumes, the container's anonymous volumes go too (docker's rm -v). */
    public ContainerInfo remove(String ref, boolean force, boolean volumes) throws IOException, RuntimeError {
        ContainerInfo info = ending.remove(ref, force);
        if (volumes) {
            AnonymousVolumes.removeOf(info, volumes(), this::volumesInUse);
        }
        return info;
    }

    /** {@code hull wait}: blocks until the container ends for good (no restart pending); its exit code. */
    public int await(String ref) throws IOException, RuntimeError {
        return ending.await(ref);
    }

    /** {@code hull restart}: stop (if running), then start. */
    public void restart(String ref, Integer timeoutSeconds) throws IOException, RuntimeError {
        restart(ref, timeoutSeconds, null);
    }

    /** {@code hull restart -s SIGNAL}: stopped with that signal first. */
    public void restart(String ref, Integer timeoutSeconds, String signal) throws IOException, RuntimeError {
        stop(ref, timeoutSeconds, signal);
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

    /** detachKeys: their bytes ({@link dev.hull.runtime.DetachKeys#parse}), for -it; null: none. */
    public record ExecRequest(List<String> args, List<String> env, String user, String workdir, boolean tty,
            boolean interactive, boolean detach, boolean privileged, int[] stdio, IntConsumer onStarted,
            String detachKeys) {
        public ExecRequest(List<String> args, List<String> env, String user, String workdir, boolean tty,
                boolean interactive, boolean detach, boolean privileged, int[] stdio, IntConsumer onStarted) {
            this(args, env, user, workdir, tty, interactive, detach, privileged, stdio, onStarted, null);
        }
    }

    /**
     * {@code hull exec}: a new process in the running container; its exit code (0 once running with detach),
     * or {@link #DETACHED} when the caller of an -it exec typed the detach keys (the process runs on).
     */
    public int exec(String ref, ExecRequest r) throws IOException, RuntimeError {
        return execs.exec(ref, r);
    }

    /** docker's State.Health of the container; null without a healthcheck, or never started. */
    public HealthState health(ContainerInfo info, State s) throws IOException {
        return health.state(info, s);
    }

    /** docker's ps filter value: starting, healthy, unhealthy, or none (no healthcheck, never started). */
    public String healthStatus(ContainerInfo info, State s) throws IOException {
        HealthState h = health.state(info, s);
        return h == null ? "none" : h.status();
    }

    /** {@code hull healthcheck run}: the check once, recorded; the status after it. */
    public String healthcheckRun(String ref) throws IOException, RuntimeError {
        return health.run(ref);
    }

    /**
     * Container ids per volume name, for volume rm and prune: the named volumes in each container's
     * mounts (config.json, bind mounts of HULL_HOME/volumes/NAME/_data) and -v options.
     */
    public java.util.Map<String, List<String>> volumesInUse() throws IOException {
        return usage.volumesInUse();
    }

    /** Containers (their names) per image id, for rmi and prune. */
    public java.util.Map<String, List<String>> imagesInUse() throws IOException {
        return usage.imagesInUse();
    }
}
