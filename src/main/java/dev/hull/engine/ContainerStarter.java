package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.network.NetworkRequest;
import dev.hull.engine.network.NetworkStore;
import dev.hull.engine.network.Networking;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.Monitor;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * How containers start, for the {@link Engine}: the network it asks for set up (or another
 * container's joined), its disks mounted, and a monitor launched with its restart policy, log
 * limits and end commands; attached or not. Also {@code hull attach} to a running one, and the
 * clean-up a monitor asks for when its container ended by itself.
 */
final class ContainerStarter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Engine engine;
    private final ContainerStore containers;
    private final ContainerRuntime runtime;
    private final VolumeStore volumes;
    private final Networking networking;
    private final EventLog events;
    private final Path stateRoot;

    ContainerStarter(Engine engine) {
        this.engine = engine;
        this.containers = engine.containers();
        this.runtime = engine.runtime();
        this.volumes = engine.volumes();
        this.networking = engine.networking();
        this.events = engine.events();
        this.stateRoot = engine.stateRoot();
    }

    private Engine.State state(ContainerInfo info) throws IOException {
        return engine.state(info);
    }

    private ContainerRecord runtimeRecord(ContainerInfo info) throws IOException {
        return engine.runtimeRecord(info);
    }

    // ---------------------------------------------------------------- stop / kill / rm / wait

    /**
     * {@code hull start}: a new init (and monitor) for the container. With attach, returns the
     * exit code once the container first ends; otherwise 0 once it runs. Starting a running
     * container does nothing.
     */
    int start(String ref, Engine.Attach attach) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        ContainerStore.Locked locked = containers.lock(info);
        try {
            info = locked.info();
            Engine.State s = state(info);
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
            NetworkRequest net = engine.networkRequest(info);
            if (net.wired()) {
                networking.setUp(net); // (tears down what a previous run left first)
                if (SubIds.of(containers.dir(info.id())) != null) { // --userns=auto (a machine): ports < 1024, ping
                    UsernsNetwork.grant(networking.netnsFile(info.id()));
                }
            } else {
                networking.tearDown(info.id());
                if (net.mode().startsWith("container:")) {
                    joinContainerNetwork(info, net.mode().substring("container:".length()));
                }
            }
            NamespaceFlags.joinAtStart(engine, containers, info, o); // --pid/--ipc container:NAME
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

    /**
     * A container with --lxcfs (a machine) gets lxcfs's /proc files bound at this start, the host's lxcfs
     * started if none runs; where none can run it starts without them, with a warning saying why.
     */
    private static void lxcfs(Path config, ContainerInfo info) throws IOException {
        Path at;
        try {
            at = Lxcfs.ensure();
            if (at == null) {
                System.err.println("hull: warning: " + info.name() + " sees the host's /proc/meminfo, cpuinfo and"
                        + " uptime: lxcfs is " + Lxcfs.unavailable());
            }
        } catch (IOException e) {
            at = null;
            System.err.println("hull: warning: " + info.name() + " sees the host's /proc/meminfo, cpuinfo and"
                    + " uptime: " + e.getMessage());
        }
        ObjectNode spec = (ObjectNode) JSON.readTree(Files.readAllBytes(config));
        if (Lxcfs.bind(spec, at)) {
            rewriteConfig(config, spec);
        }
    }

    /** A container's config.json replaced atomically (temp file + rename) by spec. */
    static void rewriteConfig(Path config, ObjectNode spec) throws IOException {
        Path tmp = config.resolveSibling("config.json.tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(spec));
        Files.move(tmp, config, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** {@code --network container:NAME}: the config's network namespace becomes NAME's (which must run). */
    private void joinContainerNetwork(ContainerInfo info, String ref) throws IOException, RuntimeError {
        engine.joinContainerNetwork(info, ref);
    }

    private int launch(ContainerInfo info, CreateOptions o, NetworkRequest net, Engine.Attach attach,
            ContainerStore.Locked locked)
            throws IOException, RuntimeError {
        upgradeInit(containers.dir(info.id()).resolve("config.json"));
        if (o.lxcfs) {
            lxcfs(containers.dir(info.id()).resolve("config.json"), info);
        }
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
    int attach(String ref, Engine.Attach attach, boolean stdin) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        Engine.State s = state(info);
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
            Engine.State now = state(info);
            code = now.running() ? 0 : now.exitCode();
        }
        return code;
    }

    private Monitor monitorFor(ContainerInfo info, CreateOptions o, NetworkRequest net, boolean attached,
            String detachKeys) throws RuntimeError {
        long[] limits = LogDrivers.limits(o);
        List<String> onExit = List.of();
        List<String> onEnd = List.of();
        // The monitor runs these only when no starting client saw the end (run -d; or run -it and the
        // detach keys, or a killed client): an attached caller removes or cleans up itself.
        if (o.autoRemove) {
            // The monitor of a detached --rm container removes it when it ends: one short JVM, then.
            onExit = hullCommand(o, "rm", "--force", "--volumes", info.id()); // docker's --rm: its anonymous volumes too
        } else if (holdsShared(net)) {
            // Published ports and names on a user network matter to others: a detached container that
            // ends by itself gives them back at once (stop and rm do it themselves).
            onEnd = hullCommand(o, "container", "cleanup", info.id());
        }
        return new Monitor(containers.statusFile(info.id()), o.keepsLog() ? containers.logFile(info.id()) : null,
                limits[0],
                (int) limits[1], Monitor.RestartPolicy.parse(o.restart), containers.stopMarker(info.id()),
                attached && o.interactive, detachKeys, onExit, onEnd, o.interactive && !o.tty,
                ContainerHealth.monitorHealth(o, hullCommand(o, "healthcheck", "run", info.id())));
    }

    /** Wiring others notice while it stays: published host ports, or a user-defined network (peers' names). */
    private static boolean holdsShared(NetworkRequest r) {
        return r.wired() && (!r.ports().isEmpty() || r.attachments().stream()
                .anyMatch(a -> !a.network().equals(NetworkStore.DEFAULT)));
    }

    /**
     * argv of a hull command with this engine's HULL_HOME and HULL_STATE, for the container's monitor
     * (root, for as long as the container lives) to exec: the service the caller used (or none), the
     * config file recorded at create (not the starter's environment), and HULL_CLASSPATH (code the
     * monitor runs) only from a caller that is root itself.
     */
    private List<String> hullCommand(CreateOptions o, String... args) {
        List<String> argv = new ArrayList<>(List.of("/usr/bin/env", "HULL_HOME=" + engine.home(), "HULL_STATE=" + stateRoot));
        for (String k : List.of("HULL_RUNTIME_SOCKET", "HULL_NO_SERVICE", "HULL_CLASSPATH", "HULL_ROOTLESS")) {
            String v = dev.hull.runtime.Caller.getenv(k);
            if (v != null && !v.isEmpty() && (!k.equals("HULL_CLASSPATH") || callerIsRoot())) {
                argv.add(k + "=" + v);
            }
        }
        if (o.configFile != null) {
            argv.add("HULL_CONFIG=" + o.configFile);
        }
        argv.addAll(Engine.launcher());
        argv.addAll(List.of(args));
        return argv;
    }

    /** The caller is uid 0: a client the service knows to be root, or (no client) this process, if root. */
    static boolean callerIsRoot() {
        dev.hull.runtime.Caller c = dev.hull.runtime.Caller.current();
        return c == null ? dev.hull.linux.AtFiles.geteuid() == 0 : c.uid() == 0;
    }

    /**
     * {@code hull container cleanup} (what a monitor runs when its container ended by itself):
     * the container's network wiring goes, unless it runs again meanwhile.
     */
    void cleanup(String ref) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            if (!state(locked.info()).running()) {
                networking.tearDown(info.id());
            }
        }
    }
}
