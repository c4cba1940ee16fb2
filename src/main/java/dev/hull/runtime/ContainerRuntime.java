package dev.hull.runtime;

import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupManager;
import dev.hull.linux.cgroup.CgroupManagers;
import dev.hull.linux.cgroup.CgroupResources;
import dev.hull.runtime.executor.ExecutorException;
import dev.hull.runtime.executor.ExecutorSession;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.IdMapping;
import dev.hull.runtime.spec.Linux;
import dev.hull.runtime.spec.ResourcesSpec;
import dev.hull.runtime.spec.Spec;
import dev.hull.runtime.spec.SpecParser;
import dev.hull.runtime.spec.State;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The OCI runtime operations: create, start, state, kill, delete, run, list.
 * State lives under the root directory and outlives the process that made it.
 */
public final class ContainerRuntime {
    public static final String OCI_VERSION = dev.hull.runtime.spec.SpecParser.SPEC_VERSION;
    private static final int SIGKILL = 9;

    private final StateStore store;
    private CgroupLayout layout;
    private int[] stdio;
    private Path consoleSocket;
    private int preserveFds;
    private Monitor monitor;
    private boolean rootless;

    public ContainerRuntime(Path root) {
        this.store = new StateStore(root);
    }

    public StateStore store() {
        return store;
    }

    /**
     * The descriptors the container gets as stdin, stdout, stderr (a warm
     * server passes its client's); null, the default, means this process's own.
     */
    public ContainerRuntime withStdio(int[] fds) {
        this.stdio = fds == null ? null : fds.clone();
        return this;
    }

    /** Where create/run/exec send the pty master of a process with a terminal (runc's --console-socket). */
    public ContainerRuntime withConsoleSocket(Path socket) {
        this.consoleSocket = socket;
        return this;
    }

    /** --preserve-fds: this process's fds 3..3+n-1 become the container process's 3..3+n-1. */
    public ContainerRuntime withPreserveFds(int n) throws RuntimeError {
        if (n < 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--preserve-fds must be 0 or more, not " + n);
        }
        this.preserveFds = n;
        return this;
    }

    /** hull-runtime --rootless: containers get no cgroup, and limits are refused ({@link RootlessRuntime}). */
    public ContainerRuntime withRootless(boolean on) {
        this.rootless = on;
        return this;
    }

    /** The containers this runtime creates keep a monitor (the engine's containers): see {@link Monitor}. */
    public ContainerRuntime withMonitor(Monitor m) {
        this.monitor = m;
        return this;
    }

    int preserveFds() {
        return preserveFds;
    }

    int[] stdio() {
        return stdio;
    }

    Path consoleSocket() {
        return consoleSocket;
    }

    private CgroupLayout layout() throws IOException {
        if (layout == null) {
            layout = CgroupLayout.detect();
        }
        return layout;
    }

    /** A created container whose executor is still attached (foreground run). */
    private record Created(ContainerRecord record, ExecutorSession session, int ptyMaster, boolean terminal) {}

    /** {@code create}: sets the container up and leaves its init waiting for {@link #start}. */
    public ContainerRecord create(String id, Path bundle, Path pidFile) throws RuntimeError, IOException {
        Created c = create(id, bundle, pidFile, true);
        c.session().close();
        ProcessControl.closeQuietly(c.ptyMaster());
        return c.record();
    }

    private Created create(String id, Path bundle, Path pidFile, boolean detach) throws RuntimeError, IOException {
        Trace trace = Trace.start();
        StateStore.validateId(id);
        Path bundleDir = bundle.toAbsolutePath().normalize();
        Spec spec;
        try {
            spec = SpecParser.parse(bundleDir.resolve("config.json"));
        } catch (NoSuchFileException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, bundleDir.resolve("config.json") + ": no such file"
                    + " (is --bundle the directory holding config.json?)");
        } catch (ConfigException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
        trace.mark("create.parse");
        if (spec.root() == null) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "config.json: root: required on Linux");
        }
        Path rootfs = bundleDir.resolve(spec.root().path()).normalize();
        if (!Files.isDirectory(rootfs)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                    "config.json: root.path: " + rootfs + " is not a directory");
        }
        Linux linux = spec.linux();
        CgroupManager cgroup;
        try {
            cgroup = rootless || "true".equals(spec.annotations().get(Annotations.NO_CGROUP)) ? CgroupManagers.none()
                    : CgroupManagers.forContainer(layout(), linux == null ? null : linux.cgroupsPath(), id);
        } catch (IllegalArgumentException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "config.json: " + e.getMessage());
        }
        if (Files.exists(store.dir(id))) { // the executor's reserve op is the atomic check; this one names it first
            throw new RuntimeError(RuntimeError.Kind.EXISTS, "container \"" + id + "\" already exists");
        }
        // A cgroup that holds processes belongs to someone else (another container): refuse it up
        // front, before anything (the executor's abort included) could touch it.
        List<Integer> inCgroup = cgroup.exists() ? cgroup.pids() : List.of();
        if (!inCgroup.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "config.json: linux.cgroupsPath: cgroup "
                    + cgroup.cgroupPath() + " already holds processes " + inCgroup + " (another container's?)");
        }
        if (monitor == null) { // a monitor holds the terminal itself
            ProcessControl.checkTerminal(spec.process(), consoleSocket, detach);
        }
        Path stateDir = store.dir(id);
        Path fifo = stateDir.resolve(StateStore.EXEC_FIFO);
        Plan plan;
        dev.hull.linux.cgroup.Resources resources;
        try {
            resources = ResourcesSpec.forContainer(spec);
            if (rootless) {
                RootlessRuntime.refuseLimits(resources);
            }
            plan = PlanBuilder.build(spec, new PlanBuilder.Context(id, bundleDir, rootfs, stateDir, fifo,
                    cgroup.paths(), layout(), detach, preserveFds, monitor));
        } catch (ConfigException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage().startsWith("linux.resources")
                    ? "config.json: " + e.getMessage() : e.getMessage());
        }

        trace.mark("create.plan");
        // The executor makes the state directory: once it has, it undoes the creation if we die.
        store.secureRoot();
        ExecutorSession session;
        ProcessControl.Channels channels = ProcessControl.Channels.open(monitor != null
                ? ProcessControl.withoutTerminal(spec.process()) : spec.process(), ProcessControl.hooksInInit(spec),
                preserveFds);
        SeccompNotify notify = SeccompNotify.open(spec);
        try {
            session = ExecutorSession.start(plan, stdio, notify.executorFds(channels.executorFds()));
        } catch (IOException | RuntimeException e) {
            channels.close();
            notify.close();
            if (e instanceof ExecutorException) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "container \"" + id + "\": " + e.getMessage(), e);
            }
            throw e;
        }
        channels.spawned();
        notify.spawned();
        trace.mark("create.spawn");
        boolean reserved = false;
        try {
            reserved = session.awaitReserved();
        } catch (ExecutorException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "container \"" + id + "\": " + e.getMessage(), e);
        } finally {
            if (!reserved) {
                session.close();
                channels.close();
                notify.close();
            }
        }
        if (!reserved) {
            throw new RuntimeError(RuntimeError.Kind.EXISTS, "container \"" + id + "\" already exists");
        }
        boolean committed = false;
        boolean cgroupMade = false; // never destroy a cgroup this call did not make: it may hold another container
        try {
            // 0600: the state root is traversable (StateStore.ROOT_MODE), and a write here starts the container
            try {
                Syscalls.mkfifo(fifo.toString(), 0600);
            } catch (LinuxException e) {
                session.awaitPid(); // an executor that failed before its clone (idmapped mounts) has removed the dir: its reason
                throw e;
            }
            if (linux != null && linux.namespace("user").map(n -> n.path() == null).orElse(false)) {
                // The init opens the fifo as root of its new user namespace (like runc: chown to that root).
                long uid = hostId(linux.uidMappings()), gid = hostId(linux.gidMappings());
                if (uid >= 0 && gid >= 0) {
                    Files.setAttribute(fifo, "unix:uid", (int) uid);
                    Files.setAttribute(fifo, "unix:gid", (int) gid);
                }
            }
            ProcessControl.makeStartReport(spec, fifo);
            trace.mark("create.reserved");
            try {
                try {
                    cgroup.create();
                } catch (IOException e) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "config.json: linux.cgroupsPath: " + e.getMessage(),
                            e);
                }
                cgroupMade = true;
                if (!cgroup.cgroupPath().equals(CgroupManagers.NONE)) {
                    new CgroupResources(layout(), cgroup.cgroupPath()).apply(resources, false);
                    String writable = spec.annotations().get(Annotations.CGROUP_WRITABLE);
                    if (writable != null && linux != null
                            && linux.namespace("user").map(n -> n.path() == null).orElse(false)) {
                        CgroupDelegation.handOver(layout(), cgroup.paths(), writable, hostId(linux.uidMappings()),
                                hostId(linux.gidMappings()));
                    }
                }
            } catch (IOException | RuntimeError | RuntimeException e) {
                // An executor that failed meanwhile (before its clone: idmapped mounts) aborted and took the
                // cgroup with it: its reason, not the missing cgroup file, is the error.
                session.awaitPid();
                throw e;
            }
            trace.mark("create.cgroups");
            int pid = session.awaitPid();
            trace.mark("create.pid");
            if (linux != null && linux.namespace("user").map(n -> n.path() == null).orElse(false)) {
                RootlessRuntime.writeIdMaps(pid, linux.uidMappings(), linux.gidMappings());
            }
            cgroup.addProcess(pid);
            trace.mark("create.addProcess");
            Privileges.applyOomScoreAdj(spec, pid);
            State creating = new State(spec.ociVersion(), id, "creating", pid, bundleDir.toString(), spec.annotations());
            channels.sendState(creating,
                    new State(spec.ociVersion(), id, "created", pid, bundleDir.toString(), spec.annotations()));
            notify.start(pid, creating);
            session.go();
            trace.mark("create.placed");
            while (session.awaitHooksOrReady()) {
                ProcessControl.runCreateHooks(spec, creating);
                session.hooksDone();
            }
            trace.mark("create.ready");
            notify.finish(); // the seccomp listener fd is at linux.seccomp.listenerPath
            int master = channels.receiveMaster();
            ContainerRecord rec = new ContainerRecord(id, pid, startTime(pid), bundleDir.toString(), rootfs.toString(),
                    Instant.now().toString(), spec.ociVersion(), cgroup.cgroupPath(),
                    cgroup.paths().stream().map(Path::toString).toList(), spec.annotations());
            store.save(rec);
            if (pidFile != null) {
                writePidFile(pidFile, pid);
            }
            // The pty master goes out before the commit: if that fails, the creation is undone.
            int ptyMaster = ProcessControl.deliverMaster(master, consoleSocket);
            session.commit();
            trace.mark("create.commit");
            committed = true;
            return new Created(rec, session, ptyMaster, spec.process() != null && spec.process().terminal());
        } catch (ExecutorException e) {
            notify.rethrowInstead(e);
            throw new RuntimeError(RuntimeError.Kind.FAILED, "container \"" + id + "\": " + e.getMessage(), e);
        } finally {
            channels.close();
            notify.close();
            if (!committed) { // an exception is on its way out: a failing cleanup must not replace it
                try {
                    session.close(); // the executor kills the init and undoes its part
                } catch (IOException | RuntimeException e) {
                    cleanupFailed(id, "ending the executor", e);
                }
                try {
                    if (cgroupMade) {
                        cgroup.destroy();
                    }
                } catch (IOException | RuntimeException e) {
                    cleanupFailed(id, "removing its cgroup " + cgroup.cgroupPath(), e);
                }
                try {
                    store.remove(id);
                } catch (IOException | RuntimeException e) {
                    cleanupFailed(id, "removing its state", e);
                }
            }
        }
    }

    private static void cleanupFailed(String id, String what, Exception e) {
        System.err.println("hull: container \"" + id + "\" was not created, and " + what + " failed too: "
                + e.getMessage());
    }

    /** The host id that container id 0 maps to, or -1 if it is not mapped. */
    private static long hostId(List<IdMapping> maps) {
        for (IdMapping m : maps) {
            if (m.containerID() == 0 && m.size() > 0) {
                return m.hostID();
            }
        }
        return -1;
    }

    private static void writePidFile(Path pidFile, int pid) throws IOException {
        Path abs = pidFile.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        Files.writeString(tmp, Integer.toString(pid));
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** {@code start}: lets a created container's init exec the user process. */
    public void start(String id) throws RuntimeError, IOException {
        ContainerRecord rec = store.load(id);
        // One start at a time per container: a second one waits here, then finds it running. The
        // file lock orders processes; the in-JVM lock orders the warm server's threads (a JVM may
        // not hold two locks on one file).
        Path stateFile = store.dir(id).resolve(StateStore.STATE_FILE);
        // An interned key: one monitor per state file in this JVM, collected once unused.
        synchronized (("hull-start:" + stateFile).intern()) {
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(stateFile,
                    java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
                    java.nio.channels.FileLock held = ch.lock()) {
                startLocked(id, rec);
            } catch (NoSuchFileException e) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "container \"" + id + "\" does not exist");
            }
        }
        ProcessControl.afterStart(this, rec);
    }

    private void startLocked(String id, ContainerRecord rec) throws RuntimeError, IOException {
        String status = status(rec);
        if (!status.equals("created")) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE,
                    "cannot start container \"" + id + "\": it is " + status + ", not created");
        }
        Path fifo = store.dir(id).resolve(StateStore.EXEC_FIFO);
        int fd;
        try {
            fd = Syscalls.open(fifo.toString(), Syscalls.O_WRONLY | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC, 0);
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENXIO) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE,
                        "cannot start container \"" + id + "\": its init is no longer waiting");
            }
            throw e;
        }
        int report = -1;
        try {
            report = ProcessControl.openStartReport(store.dir(id));
            Syscalls.writeFully(fd, new byte[] {'0'});
        } catch (IOException | RuntimeException e) {
            ProcessControl.closeQuietly(report);
            throw e;
        } finally {
            Syscalls.close(fd);
        }
        Files.deleteIfExists(fifo);
        if (report >= 0) {
            try {
                ProcessControl.awaitStartReport(report, rec);
            } finally {
                Files.deleteIfExists(store.dir(id).resolve(ProcessControl.START_REPORT));
            }
        }
    }

    /** {@code state}: the OCI state of a container. */
    public State state(String id) throws RuntimeError, IOException {
        ContainerRecord rec = store.load(id);
        String status = status(rec);
        return new State(rec.ociVersion(), rec.id(), status, status.equals("stopped") ? 0 : rec.pid(), rec.bundle(),
                rec.annotations());
    }

    public List<State> list() throws IOException {
        List<State> out = new ArrayList<>();
        for (String id : store.ids()) {
            try {
                out.add(state(id));
            } catch (RuntimeError e) {
                // removed meanwhile
            }
        }
        return out;
    }

    /** created, running, paused or stopped, from the init's liveness, the freezer and the exec fifo. */
    String status(ContainerRecord rec) throws IOException {
        if (rec.pid() <= 0 || !alive(rec.pid(), rec.startTime())) {
            return "stopped";
        }
        if (!rec.cgroupPath().equals(CgroupManagers.NONE) && new CgroupResources(layout(), rec.cgroupPath()).isFrozen()) {
            return "paused";
        }
        if (Files.exists(store.dir(rec.id()).resolve(StateStore.EXEC_FIFO))) {
            return "created";
        }
        return "running";
    }

    /** The process exists, is not a zombie, and is the same process (start time) as recorded. */
    static boolean alive(int pid, long startTime) {
        String[] f = stat(pid);
        if (f == null) {
            return false;
        }
        char state = f[0].charAt(0);
        return state != 'Z' && state != 'X' && Long.parseLong(f[19]) == startTime;
    }

    /** /proc/PID/stat fields after the command name (field 3 onwards), or null if the process is gone. */
    private static String[] stat(int pid) {
        try {
            String s = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            return s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
        } catch (IOException e) {
            return null;
        }
    }

    static long startTime(int pid) throws IOException {
        String[] f = stat(pid);
        if (f == null) {
            throw new ExecutorException("container init (pid " + pid + ") exited during creation");
        }
        return Long.parseLong(f[19]);
    }

    /**
     * {@code kill}: signals the init, or with all every process of the container — as runc: with
     * all a stopped container is no error (containerd's CRI sends kill --all after every exit, and
     * retries a failure for ever), and what is left in its cgroup gets the signal; without it, a
     * stopped container's error says "container not running" (engines match the text). Signal 0
     * only checks.
     */
    public void kill(String id, int signal, boolean all) throws RuntimeError, IOException {
        ContainerRecord rec = store.load(id);
        String status = status(rec);
        if (status.equals("stopped") && !all) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container \"" + id + "\": container not running");
        }
        if (all && rec.cgroupPath().equals(CgroupManagers.NONE)) {
            // No cgroup to list them: the init, whose death ends every process of its pid namespace.
            if (!status.equals("stopped")) {
                signalInit(rec, signal);
            }
            return;
        }
        if (all) {
            CgroupManager cg = cgroupOf(rec);
            List<Integer> pids;
            try {
                pids = cg.pids();
            } catch (IOException e) {
                if (status.equals("stopped")) {
                    return; // its cgroup is gone with it
                }
                throw e;
            }
            for (int pid : pids) {
                try {
                    Syscalls.kill(pid, signal);
                } catch (LinuxException e) {
                    if (e.errno() != Errno.ESRCH) {
                        throw e;
                    }
                }
            }
            return;
        }
        signalInit(rec, signal);
    }

    private static void signalInit(ContainerRecord rec, int signal) throws IOException {
        int pidfd;
        try {
            pidfd = Syscalls.pidfdOpen(rec.pid());
        } catch (LinuxException e) {
            if (e.errno() == Errno.ESRCH) {
                return; // gone already
            }
            throw e;
        }
        try {
            // The pidfd pins the process: check it is still our init before signalling.
            if (alive(rec.pid(), rec.startTime())) {
                Syscalls.pidfdSendSignal(pidfd, signal);
            }
        } finally {
            Syscalls.close(pidfd);
        }
    }

    CgroupManager cgroupOf(ContainerRecord rec) throws IOException {
        return CgroupManagers.forRecord(layout(), rec.cgroupPath(), rec.id());
    }

    /** {@code delete}: removes a stopped (or, with force, any) container and everything it held. */
    public void delete(String id, boolean force) throws RuntimeError, IOException {
        ContainerRecord rec;
        try {
            rec = store.load(id);
        } catch (RuntimeError e) {
            if (force && e.kind() == RuntimeError.Kind.NOT_FOUND) {
                return;
            }
            throw e;
        }
        String status = status(rec);
        if ((status.equals("running") || status.equals("paused")) && !force) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE,
                    "cannot delete container \"" + id + "\": it is " + status + " (stop it first, or use --force)");
        }
        if (!status.equals("stopped")) {
            signalInit(rec, SIGKILL);
            if (status.equals("paused")) {
                new CgroupResources(layout(), rec.cgroupPath()).thaw(); // a frozen process cannot die
            }
            waitGone(rec);
        }
        Trace trace = Trace.start();
        cgroupOf(rec).destroy();
        trace.mark("delete.cgroups");
        store.remove(id);
        ProcessControl.afterDelete(rec);
        trace.mark("delete.state+hooks");
    }

    private static void waitGone(ContainerRecord rec) throws RuntimeError {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (alive(rec.pid(), rec.startTime())) {
            if (System.nanoTime() > deadline) {
                throw new RuntimeError(RuntimeError.Kind.FAILED,
                        "container \"" + rec.id() + "\": init (pid " + rec.pid() + ") did not die within 10 s");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * {@code run}: create and start. Detached, returns 0 once the container
     * runs. In the foreground, calls {@code onStarted} with the init's pid
     * (to forward signals) before starting it, so no signal sent once the
     * process runs is lost; then waits for the container to exit, deletes it, and
     * returns its exit code (128+signal when killed).
     */
    public int run(String id, Path bundle, Path pidFile, boolean detach, IntConsumer onStarted)
            throws RuntimeError, IOException {
        if (detach) {
            create(id, bundle, pidFile);
            start(id);
            return 0;
        }
        Created c = create(id, bundle, pidFile, false);
        try (ExecutorSession session = c.session();
                ConsoleRelay relay = ConsoleRelay.attach(c.ptyMaster(), stdio)) {
            if (onStarted != null) {
                onStarted.accept(c.record().pid());
            }
            relay.watchResize();
            Trace trace = Trace.start();
            start(id);
            trace.mark("run.start");
            int code = session.awaitExit();
            trace.mark("run.exit");
            relay.drain();
            return code;
        } finally {
            Trace trace = Trace.start();
            delete(id, true);
            trace.mark("run.delete");
        }
    }

    /**
     * Creates and starts a container that keeps a monitor ({@link #withMonitor}); the monitor, not
     * this call, ends it. Attached, the monitor copies the output to this call's stdout/stderr and
     * this returns the exit code when the init first ends (the container is not deleted); detached,
     * returns 0 once it runs.
     */
    public int runMonitored(String id, Path bundle, boolean attach, IntConsumer onStarted)
            throws RuntimeError, IOException {
        if (monitor == null) {
            throw new IllegalStateException("runMonitored needs withMonitor");
        }
        if (!attach) {
            create(id, bundle, null);
            start(id);
            return 0;
        }
        Created c = create(id, bundle, null, false);
        try (ExecutorSession session = c.session();
                AutoCloseable raw = c.terminal() ? ConsoleRelay.rawTerminal(stdio) : () -> { }) {
            if (onStarted != null) {
                onStarted.accept(c.record().pid());
            }
            // the pty takes the caller's size before the process starts, and follows its resizes
            try (PtyFollower window = c.terminal()
                    ? PtyFollower.follow(stdio == null ? 0 : stdio[0], stdio == null, c.record().pid()) : null) {
                Trace trace = Trace.start();
                start(id);
                trace.mark("monitored.start");
                int code = session.awaitExit();
                trace.mark("monitored.exit");
                return code;
            }
        } catch (IOException | RuntimeError | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    public static Map<String, Integer> signalNumbers() {
        return Signals.NUMBERS;
    }
}
