package dev.hull.machine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerInspector;
import dev.hull.engine.ContainerResources;
import dev.hull.engine.ContainerStore;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.engine.IdShift;
import dev.hull.engine.network.NetworkState;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hull machine}: system containers — a whole distribution with systemd as PID 1 — on the
 * engine's containers, monitor, cgroups and networks. A machine is a container labelled
 * {@link #LABEL}, made with the engine's systemd mode ({@code CreateOptions.systemd = "always"}),
 * a terminal (its /dev/console, held by the monitor and logged) and systemd's stop signal.
 */
public final class Machines {
    public static final String LABEL = "dev.hull.machine";
    public static final String LABEL_DISTRO = "dev.hull.machine.distro";
    public static final String LABEL_AUTOSTART = "dev.hull.machine.autostart";
    /** Where it boots among the autostart machines: lower first, then by name. */
    public static final String LABEL_AUTOSTART_ORDER = "dev.hull.machine.autostart-order";
    /** systemd's "power off" for a container's PID 1. */
    public static final String STOP_SIGNAL = "SIGRTMIN+3";
    /** Seconds a stop waits for systemd to power off before SIGKILL. */
    public static final int STOP_TIMEOUT = 30;

    private final Engine engine;
    private final TemplateStore templates;

    public Machines(Engine engine) {
        this.engine = engine;
        this.templates = new TemplateStore(engine.images(), engine.home());
    }

    public Engine engine() {
        return engine;
    }

    /** What {@code hull machine create} asks for. */
    public record Request(String name, String distro, String image, long memory, double cpus, Long pids,
            String hostname, String network, String ip, boolean autostart, java.nio.file.Path sshKey,
            java.nio.file.Path rootPasswordFile, String disk, boolean encrypt, java.nio.file.Path keyFile,
            boolean privileged, List<String> volumes, List<String> publish, int autostartOrder) {

        /** A request without published ports, autostart order 0. */
        public Request(String name, String distro, String image, long memory, double cpus, Long pids,
                String hostname, String network, String ip, boolean autostart, java.nio.file.Path sshKey,
                java.nio.file.Path rootPasswordFile, String disk, boolean encrypt, java.nio.file.Path keyFile,
                boolean privileged, List<String> volumes) {
            this(name, distro, image, memory, cpus, pids, hostname, network, ip, autostart, sshKey,
                    rootPasswordFile, disk, encrypt, keyFile, privileged, volumes, List.of(), 0);
        }
    }

    /** A machine for ls: its state and what it was given. */
    public record Machine(String name, String id, String state, String ipv4, double cpus, long memory,
            long disk, long diskSize, boolean autostart, String distro, String userns, int autostartOrder) {}

    public ContainerInfo create(Request r, PrintStream progress) throws IOException, RuntimeError {
        if (r.name() == null || r.name().isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "a machine needs a NAME");
        }
        if (r.image() != null && r.distro() != null) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "give --distro or --image, not both");
        }
        List<String> storageOpts = MachineDisk.storageOpts(r.disk(), r.encrypt(), r.keyFile());
        String image = r.image();
        String distro = r.image();
        if (image == null) {
            Distro d = Distro.parse(r.distro() == null ? "debian:12" : r.distro());
            templates.ensure(d, progress);
            image = d.image();
            distro = d.toString();
        }
        CreateOptions o = new CreateOptions();
        o.name = r.name();
        o.image = image;
        o.command = new ArrayList<>(List.of("/sbin/init"));
        o.tty = true; // the console: the runtime binds the monitor's pty on /dev/console
        o.systemd = "always";
        o.lxcfs = true; // free, top, uptime inside: the machine's limits and uptime
        o.hostname = r.hostname() != null ? r.hostname() : r.name();
        o.network = r.network() != null ? r.network() : "bridge";
        if (r.ip() != null) {
            ipFree(o.network, r.ip());
            o.ip = r.ip();
        }
        o.memory = r.memory();
        o.cpus = r.cpus();
        o.pidsLimit = r.pids();
        o.stopSignal = STOP_SIGNAL;
        o.stopTimeout = STOP_TIMEOUT;
        // reboot inside restarts it: systemd's reboot(2) needs CAP_SYS_BOOT, which in a pid namespace of
        // its own only ends that namespace's init (SIGHUP; SIGINT for a power-off), and the monitor starts
        // it again on that signal alone (a power-off, a crash or hull machine stop leave it stopped)
        o.capAdd.add("CAP_SYS_BOOT");
        o.restart = "on-reboot";
        o.storageOpts = storageOpts; // --disk: its writable layer on a sized disk of its own
        // unprivileged by default: its root is a range of host ids of its own (leased until machine rm), its
        // template seen through idmapped layers; --privileged: the host's ids, as a machine before user namespaces
        o.userns = r.privileged() ? null : "auto";
        if (r.volumes() != null) {
            o.volumes.addAll(r.volumes()); // -v as hull run's (a host path bound in is left as it is: see README)
        }
        if (r.publish() != null) {
            o.publish.addAll(r.publish()); // -p as hull run's: the engine checks, binds and forwards them
        }
        o.labels.put(LABEL, "true");
        o.labels.put(LABEL_DISTRO, distro);
        o.labels.put(LABEL_AUTOSTART, Boolean.toString(r.autostart()));
        if (r.autostartOrder() != 0) {
            o.labels.put(LABEL_AUTOSTART_ORDER, Integer.toString(r.autostartOrder()));
        }
        ContainerInfo c = engine.create(o);
        boolean done = false;
        try {
            MachineSetup setup = new MachineSetup(engine, c.id());
            if (r.sshKey() != null) {
                setup.sshKey(r.sshKey());
            }
            if (r.rootPasswordFile() != null) {
                setup.rootPassword(r.rootPasswordFile());
            }
            if (r.sshKey() != null || r.rootPasswordFile() != null) { // written with the ids as seen inside
                java.nio.file.Path dir = engine.containers().dir(c.id());
                IdShift.shift(dev.hull.engine.ContainerDisks.upper(dir), IdShift.HOST, IdShift.of(dir));
            }
            done = true;
            return c;
        } finally {
            if (!done) {
                engine.remove(c.id(), true);
            }
        }
    }

    /**
     * --ip A: no other machine or container was given A on the same network (the engine checks that A
     * is in the network's subnet, and leases it at start).
     */
    private void ipFree(String network, String ip) throws IOException, RuntimeError {
        String net = engine.networking().store().resolve(network).name();
        for (ContainerInfo c : engine.containers().list()) {
            CreateOptions o = c.options();
            if (o == null) {
                continue;
            }
            boolean same = ip.equals(o.ip) && o.network != null && net.equals(networkName(o.network));
            for (CreateOptions.Connection x : o.connections) {
                same |= ip.equals(x.ip) && net.equals(networkName(x.network));
            }
            if (same) {
                throw new RuntimeError(RuntimeError.Kind.EXISTS, "--ip " + ip + " is " + (isMachine(c) ? "machine "
                        : "container ") + c.name() + "'s address on network " + net + ": choose another");
            }
        }
    }

    private String networkName(String ref) {
        try {
            return engine.networking().store().resolve(ref).name();
        } catch (IOException | RuntimeError e) {
            return ref; // none, host, or a network removed since
        }
    }

    /** The machine NAME (a container with the machine label). */
    public ContainerInfo resolve(String ref) throws IOException, RuntimeError {
        ContainerInfo c = engine.containers().resolve(ref);
        if (!isMachine(c)) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, ref + " is a container, not a machine (see hull ps)");
        }
        return c;
    }

    /** The distribution whose template the machine was made of (debian:12), or null (made with --image). */
    static String distroOf(ContainerInfo c) {
        String label = c.options().labels.get(LABEL_DISTRO);
        try {
            return label != null && Distro.parse(label).image().equals(c.image()) ? label : null;
        } catch (RuntimeError e) {
            return null; // an image's name
        }
    }

    static boolean isMachine(ContainerInfo c) {
        return c.options() != null && "true".equals(c.options().labels.get(LABEL));
    }

    public void start(String ref) throws IOException, RuntimeError {
        ContainerInfo c = resolve(ref);
        if (MachineArchives.importing(engine.containers().dir(c.id()))) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "machine " + c.name() + " is incomplete: its import"
                    + " was interrupted (hull machine import --resume FILE " + c.name() + " finishes it)");
        }
        MachineDisk.ready(engine, c);
        engine.start(c.id(), null);
    }

    /** systemd powers off (SIGRTMIN+3 to PID 1); after timeout seconds, SIGKILL. */
    public void stop(String ref, Integer timeout) throws IOException, RuntimeError {
        engine.stop(resolve(ref).id(), timeout);
    }

    public void restart(String ref, Integer timeout) throws IOException, RuntimeError {
        engine.restart(resolve(ref).id(), timeout);
    }

    public ContainerInfo remove(String ref, boolean force) throws IOException, RuntimeError {
        return engine.remove(resolve(ref).id(), force);
    }

    /**
     * Attaches the caller's terminal (stdio; null: this process's) to the running machine's console
     * until ctrl-a q, its power-off or the end of the caller's input; connected runs once attached.
     */
    public dev.hull.runtime.ConsoleAttach.End console(String ref, int[] stdio, Runnable connected)
            throws IOException, RuntimeError {
        ContainerInfo c = resolve(ref);
        if (!engine.state(c).running()) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "machine " + c.name() + " is not running (hull"
                    + " machine start " + c.name() + ")");
        }
        try {
            return dev.hull.runtime.ConsoleAttach.attach(engine.containers().dir(c.id()), stdio, connected);
        } catch (RuntimeError e) {
            throw new RuntimeError(e.kind(), "machine " + c.name() + ": " + e.getMessage());
        } catch (dev.hull.linux.LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "machine " + c.name() + "'s console: " + e.getMessage());
        }
    }

    /**
     * {@code machine set}: memory and CPUs written into a running machine's cgroups at once and kept for
     * its next start ({@code hull update}'s way); autostart kept in its label; its disk grown to the size disk
     * names (10g); keyFile: an encrypted disk's key added back, alone or after an unmounted grow. Null: unchanged.
     */
    public ContainerInfo set(String ref, Long memory, Double cpus, Boolean autostart, String disk,
            java.nio.file.Path keyFile) throws IOException, RuntimeError {
        ContainerInfo c = resolve(ref);
        if (memory == null && cpus == null && autostart == null && disk == null && keyFile == null) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "set: nothing to change (give --memory, --cpus,"
                    + " --autostart, --disk or --key-file)");
        }
        if (disk != null || keyFile != null) {
            MachineDisk.set(engine, c, disk, keyFile);
            c = engine.containers().resolve(c.id());
        }
        if (memory != null || cpus != null) {
            c = ContainerResources.update(engine, c.id(), new ContainerResources.Update(memory, null, cpus, null,
                    null, null, null));
        }
        if (autostart != null) {
            try (ContainerStore.Locked locked = engine.containers().lock(c)) {
                c = locked.info();
                c.options().labels.put(LABEL_AUTOSTART, autostart.toString());
                engine.containers().write(c);
            }
        }
        return c;
    }

    /**
     * Starts every machine marked autostart that is not running, in --autostart-order (lower first; equal
     * orders by name), one after the other; one that fails to start is reported and the rest still start.
     * Returns how many failed.
     */
    public int startAutostart(PrintStream out, PrintStream err) throws IOException {
        int failed = 0;
        List<Machine> all = new ArrayList<>(list());
        all.sort(java.util.Comparator.comparingInt(Machine::autostartOrder)); // stable: by name within an order
        for (Machine m : all) {
            if (!m.autostart() || m.state().equals("running")) {
                continue;
            }
            try {
                start(m.id());
                out.println(m.name());
            } catch (RuntimeError | IOException e) {
                err.println("hull: machine " + m.name() + ": " + e.getMessage());
                failed++;
            }
        }
        return failed;
    }

    public List<Machine> list() throws IOException {
        List<Machine> out = new ArrayList<>();
        for (ContainerInfo c : engine.containers().list()) {
            if (isMachine(c)) {
                out.add(describe(c));
            }
        }
        out.sort(java.util.Comparator.comparing(Machine::name));
        return out;
    }

    public Machine describe(ContainerInfo c) throws IOException {
        Engine.State s = engine.state(c);
        String ip = "";
        if (s.running()) {
            NetworkState st = engine.networking().state(c.id());
            if (st != null && !st.endpoints().isEmpty()) {
                ip = st.endpoints().getFirst().ip();
            }
        }
        CreateOptions o = c.options();
        MachineDisk.Usage d = MachineDisk.usage(engine, c);
        return new Machine(c.name(), c.id(), s.status(), ip, o.cpus, o.memory, d.used(), d.size(),
                "true".equals(o.labels.get(LABEL_AUTOSTART)), o.labels.getOrDefault(LABEL_DISTRO, c.image()),
                userns(c), autostartOrder(o));
    }

    private static int autostartOrder(CreateOptions o) {
        try {
            return Integer.parseInt(o.labels.getOrDefault(LABEL_AUTOSTART_ORDER, "0"));
        } catch (NumberFormatException e) {
            return 0; // a label edited by hand: as if unset
        }
    }

    /** "privileged" (the host's ids), or the range its root is: "uid:START:SIZE". */
    private String userns(ContainerInfo c) throws IOException {
        IdShift.Ids ids = IdShift.of(engine.containers().dir(c.id()));
        return ids.equals(IdShift.HOST) ? "privileged" : "uid:" + ids.uid() + ":" + ids.size();
    }

    /** Whether the machine runs in a user namespace of its own (not --privileged). */
    static boolean unprivileged(Engine engine, ContainerInfo c) throws IOException {
        return IdShift.mapped(engine.containers().dir(c.id()));
    }

    /** Snapshots of machines: make, list, restore, remove. */
    public MachineSnapshots snapshots() {
        return new MachineSnapshots(this);
    }

    /**
     * {@code machine clone SRC NAME}: SRC's copy (or its snapshot snap's) as a new machine with an identity of
     * its own; ip and hostname as create's (null: a leased address, NAME); keyFile for an encrypted disk.
     */
    public ContainerInfo clone(String src, String name, String snap, String ip, String hostname,
            java.nio.file.Path keyFile) throws IOException, RuntimeError {
        return new MachineClones(this, snapshots()).clone(src, name, snap, ip, hostname, keyFile);
    }

    /** {@code machine export NAME}: the machine (frozen meanwhile if running) as a tar stream to out; the bytes of file content. */
    public long export(String ref, java.io.OutputStream out) throws IOException, RuntimeError {
        return new MachineArchives(this).export(ref, out);
    }

    /**
     * {@code machine import}: a machine (name, or the archive's) from an export; keyFile encrypts its disk;
     * resume: goes on with an interrupted import of the same archive.
     */
    public ContainerInfo importFrom(java.io.InputStream in, String name, java.nio.file.Path keyFile, boolean resume,
            PrintStream progress) throws IOException, RuntimeError {
        return new MachineArchives(this).importFrom(in, name, keyFile, resume, progress);
    }

    /**
     * {@code machine lock NAME}: a stopped machine's encrypted disk loses its key (its files' names and contents
     * unreadable on the host too). Returns whether some files were still open (readable until closed).
     */
    public boolean lock(String ref) throws IOException, RuntimeError {
        ContainerInfo c = resolve(ref);
        try (ContainerStore.Locked locked = engine.containers().lock(c)) {
            if (engine.state(c).running()) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "machine " + c.name() + " is running: stop it"
                        + " first (hull machine stop " + c.name() + "); a running machine keeps its files open");
            }
            return dev.hull.disk.Disk.lock(engine.containers().dir(c.id()), "machine " + c.name());
        }
    }

    /** {@code machine unlock NAME --key-file F}: its encrypted disk's key added back (a wrong key file is refused). */
    public void unlock(String ref, java.nio.file.Path keyFile) throws IOException, RuntimeError {
        ContainerInfo c = resolve(ref);
        java.nio.file.Path key = dev.hull.disk.KeySources.absolute(keyFile);
        dev.hull.disk.Disk.unlock(engine.containers().dir(c.id()), key, "machine " + c.name());
    }

    /**
     * Whether the machine's /proc shows its own limits: running, whether its start bound lxcfs's files; else
     * whether its next start will, or why not.
     */
    private String lxcfs(ContainerInfo c, boolean running) throws IOException {
        if (running) {
            byte[] config = java.nio.file.Files.readAllBytes(engine.containers().dir(c.id()).resolve("config.json"));
            return dev.hull.engine.Lxcfs.bound(new com.fasterxml.jackson.databind.ObjectMapper().readTree(config))
                    ? "used" : "not used (its /proc is the host's: see hull info's Lxcfs line)";
        }
        if (!c.options().lxcfs) {
            return "not used (a machine made by a Hull before lxcfs: its /proc is the host's)";
        }
        String why = dev.hull.engine.Lxcfs.unavailable();
        return why == null ? "used at start" : "unavailable: " + why;
    }

    /** The container's inspect, with a Machine object on top. */
    public ObjectNode inspect(String ref) throws IOException, RuntimeError {
        ContainerInfo c = resolve(ref);
        ObjectNode n = ContainerInspector.inspect(engine, c);
        Machine m = describe(c);
        MachineDisk.Usage d = MachineDisk.usage(engine, c);
        ObjectNode x = n.putObject("Machine");
        x.put("Name", m.name());
        x.put("State", m.state());
        x.put("IPv4", m.ipv4());
        x.put("Distro", m.distro());
        x.put("Cpus", m.cpus());
        x.put("Memory", m.memory());
        x.put("Disk", m.disk());
        x.put("DiskSize", m.diskSize());
        if (d.size() > 0) {
            x.put("DiskEncrypted", d.encrypted());
            x.put("DiskLocked", d.locked());
            x.put("DiskAllocated", d.allocated());
            x.put("DiskImage", d.image());
        }
        x.put("Autostart", m.autostart());
        x.put("AutostartOrder", m.autostartOrder());
        x.put("Lxcfs", lxcfs(c, engine.state(c).running()));
        IdShift.Ids ids = IdShift.of(engine.containers().dir(c.id()));
        x.put("Privileged", ids.equals(IdShift.HOST));
        if (!ids.equals(IdShift.HOST)) {
            ObjectNode u = x.putObject("UserNamespace");
            u.put("uid", ids.uid());
            u.put("gid", ids.gid());
            u.put("size", ids.size());
        }
        return n;
    }
}
