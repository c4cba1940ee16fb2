package dev.hull.cli;

import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** docker's create/run flags, shared by {@code hull create} and {@code hull run}. */
final class ContainerOptions {
    @Option(names = "--name", description = "Name the container (default: a made-up name like calm_turing).")
    String name;
    @Option(names = "--rm", description = "Remove the container when it exits.")
    boolean rm;
    @Option(names = {"-i", "--interactive"}, description = "Keep stdin open: the container reads yours.")
    boolean interactive;
    @Option(names = {"-t", "--tty"}, description = "Give the container a terminal.")
    boolean tty;
    @Option(names = {"-e", "--env"}, paramLabel = "KEY[=VALUE]", description = "Set an environment variable (KEY alone:"
            + " your value of it).")
    List<String> env = new ArrayList<>();
    @Option(names = "--env-file", paramLabel = "FILE", description = "Read KEY=VALUE lines (# comments) from a file.")
    List<String> envFiles = new ArrayList<>();
    @Option(names = {"-w", "--workdir"}, description = "Working directory inside the container (made if missing).")
    String workdir;
    @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]", description = "Run as this user: a name from the"
            + " image's /etc/passwd or a number (default: the image's User, else root).")
    String user;
    @Option(names = "--entrypoint", description = "Run this instead of the image's Entrypoint (\"\" for none);"
            + " the image's Cmd is then not used.")
    String entrypoint;
    @Option(names = {"-h", "--hostname"}, description = "Container hostname (default: the id's first 12 characters).")
    String hostname;
    @Option(names = {"--network", "--net"}, defaultValue = "bridge", paramLabel = "NETWORK", description = "bridge"
            + " (the default network: own address, NAT out), a network from `hull network create` (names of other"
            + " containers resolve), none (loopback only), host, or container:NAME (share its network).")
    String network;
    @Option(names = "--ip", paramLabel = "ADDRESS", description = "The container's IPv4 address on a user-defined"
            + " network.")
    String ip;
    @Option(names = "--mac-address", paramLabel = "MAC", description = "The container's MAC address (default: derived"
            + " from its IP).")
    String macAddress;
    @Option(names = {"--network-alias", "--net-alias"}, paramLabel = "NAME", description = "Another name peers on a"
            + " user-defined network reach the container by.")
    List<String> networkAliases = new ArrayList<>();
    @Option(names = {"-p", "--publish"}, paramLabel = "[IP:][HOST:]PORT[/PROTO]", description = "Publish a container"
            + " port on the host: 8080:80, 127.0.0.1:8080:80, 53:53/udp, 8000-8009:80-89, or 80 (a free host port)."
            + " Forwarded by the kernel (nftables), no proxy.")
    List<String> publish = new ArrayList<>();
    @Option(names = {"-P", "--publish-all"}, description = "Publish every exposed port (the image's and --expose) on a"
            + " free host port; `hull port` shows which.")
    boolean publishAll;
    @Option(names = "--expose", paramLabel = "PORT[/PROTO]", description = "Expose a port (for -P) without publishing"
            + " it.")
    List<String> expose = new ArrayList<>();
    @Option(names = "--dns", paramLabel = "ADDRESS", description = "A nameserver for /etc/resolv.conf (default: the"
            + " host's, without loopback ones).")
    List<String> dns = new ArrayList<>();
    @Option(names = "--dns-search", paramLabel = "DOMAIN", description = "A search domain for /etc/resolv.conf.")
    List<String> dnsSearch = new ArrayList<>();
    @Option(names = {"--dns-option", "--dns-opt"}, paramLabel = "OPTION", description = "An options line entry for"
            + " /etc/resolv.conf (e.g. ndots:2).")
    List<String> dnsOptions = new ArrayList<>();
    @Option(names = "--add-host", paramLabel = "NAME:IP", description = "Add a line to /etc/hosts (IP host-gateway:"
            + " the network's gateway, i.e. the host).")
    List<String> addHosts = new ArrayList<>();
    @Option(names = {"-v", "--volume"}, paramLabel = "SRC:DEST[:ro]", description = "Bind-mount a host path (SRC starts"
            + " with / or .) or a named volume (made on first use); -v /PATH alone: an anonymous volume.")
    List<String> volumes = new ArrayList<>();
    @Option(names = "--tmpfs", paramLabel = "PATH[:OPTS]", description = "Mount a tmpfs (noexec,nosuid,nodev"
            + " unless OPTS say otherwise, e.g. size=64m,exec).")
    List<String> tmpfs = new ArrayList<>();
    @Option(names = "--storage-opt", paramLabel = "size=SIZE", description = "A hard limit on what the container"
            + " writes to its root: its writable layer on a disk of its own (e.g. size=5g).")
    List<String> storageOpts = new ArrayList<>();
    @Option(names = "--read-only", description = "Mount the container's root filesystem read-only.")
    boolean readOnly;
    @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", description = "Memory limit (e.g. 512m, 2g).")
    String memory;
    @Option(names = "--memory-swap", paramLabel = "SIZE", description = "Memory + swap limit; -1: unlimited swap.")
    String memorySwap;
    @Option(names = "--cpus", description = "CPUs the container may use (e.g. 1.5).")
    double cpus;
    @Option(names = {"-c", "--cpu-shares"}, description = "Relative CPU weight (default 1024).")
    long cpuShares;
    @Option(names = "--cpuset-cpus", paramLabel = "LIST", description = "CPUs to run on (e.g. 0-1, 0,2).")
    String cpusetCpus;
    @Option(names = "--pids-limit", paramLabel = "N", description = "Most processes at once (-1 or 0: no limit;"
            + " default: pidsLimit of /etc/hull/hull.json, else 2048).")
    Long pidsLimit;
    @Option(names = "--ulimit", paramLabel = "NAME=SOFT[:HARD]", description = "A resource limit, e.g."
            + " nofile=1024:2048.")
    List<String> ulimits = new ArrayList<>();
    @Option(names = "--cap-add", paramLabel = "CAP", description = "Add a capability (or ALL).")
    List<String> capAdd = new ArrayList<>();
    @Option(names = "--cap-drop", paramLabel = "CAP", description = "Drop a capability (or ALL).")
    List<String> capDrop = new ArrayList<>();
    @Option(names = "--privileged", description = "All capabilities, no seccomp filter, no masked paths, the"
            + " host's devices, /sys and cgroups writable.")
    boolean privileged;
    @Option(names = "--security-opt", paramLabel = "OPT", description = "seccomp=PROFILE.json, seccomp=unconfined,"
            + " no-new-privileges, systempaths=unconfined (no masked or read-only /proc and /sys paths).")
    List<String> securityOpts = new ArrayList<>();
    @Option(names = "--restart", defaultValue = "no", paramLabel = "POLICY", description = "no (default),"
            + " on-failure[:N], always, unless-stopped: applied by the container's monitor.")
    String restart;
    @Option(names = "--init", description = "Run a tiny init as PID 1 that reaps zombies and forwards signals.")
    boolean init;
    @Option(names = "--lxcfs", description = "Bind lxcfs's /proc/meminfo, cpuinfo, stat, uptime, loadavg...: free,"
            + " top and uptime inside show the container's limits (as every machine's).")
    boolean lxcfs;
    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "Set a label.")
    List<String> labels = new ArrayList<>();
    @Option(names = "--stop-signal", paramLabel = "SIGNAL", description = "Signal that stops the container"
            + " (default: the image's StopSignal, else SIGTERM).")
    String stopSignal;
    @Option(names = "--stop-timeout", paramLabel = "SECONDS", description = "Seconds stop waits before SIGKILL"
            + " (default 10).")
    Integer stopTimeout;
    @Option(names = "--log-opt", paramLabel = "KEY=VALUE", description = "max-size=SIZE (e.g. 10m; -1: no"
            + " rotation), max-file=N: rotate the json-file log (default: logMaxSize and logMaxFiles of"
            + " /etc/hull/hull.json, else max-size=20m, max-file=5).")
    List<String> logOpts = new ArrayList<>();
    @Option(names = "--log-driver", paramLabel = "DRIVER", description = "json-file (default), local (the same"
            + " log under docker's local driver's name) or none (no log: hull logs has nothing to read).")
    String logDriver;

    @Option(names = "--label-file", paramLabel = "FILE", description = "Read KEY=VALUE labels from a file"
            + " (# comments).")
    List<String> labelFiles = new ArrayList<>();
    @Option(names = "--cidfile", paramLabel = "FILE", description = "Write the container's id to this file (it must"
            + " not exist).")
    String cidFile;
    @Option(names = "--domainname", description = "The container's NIS domain name.")
    String domainname;
    @Option(names = "--sysctl", paramLabel = "KEY=VALUE", description = "A sysctl of the container's own namespaces"
            + " (net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*).")
    List<String> sysctls = new ArrayList<>();
    @Option(names = "--oom-score-adj", paramLabel = "N", description = "The OOM killer's preference, -1000 to 1000.")
    Integer oomScoreAdj;
    @Option(names = "--shm-size", paramLabel = "SIZE", description = "Size of /dev/shm (default 64m).")
    String shmSize;
    @Option(names = "--group-add", paramLabel = "GROUP", description = "Another group to run with (a name from the"
            + " image's /etc/group or a number).")
    List<String> groupAdd = new ArrayList<>();

    @Option(names = "--oom-kill-disable", description = "Disable the OOM killer for the container (cgroup v1;"
            + " on cgroup v2 discarded with a warning, as docker does).")
    boolean oomKillDisable;
    @Option(names = "--memory-swappiness", paramLabel = "0-100", description = "The container's swappiness (cgroup"
            + " v1; -1: the kernel's; on cgroup v2 discarded with a warning, as docker does).")
    Long memorySwappiness;
    @Option(names = "--annotation", paramLabel = "KEY=VALUE", description = "An OCI annotation in the container's"
            + " config (repeatable; not run.hull.*).")
    List<String> annotations = new ArrayList<>();

    @Option(names = "--cpu-period", paramLabel = "MICROSECONDS", description = "The CPU CFS period (with"
            + " --cpu-quota; not with --cpus).")
    Long cpuPeriod;
    @Option(names = "--cpu-quota", paramLabel = "MICROSECONDS", description = "CPU time per period (-1: none).")
    Long cpuQuota;
    @Option(names = "--cpuset-mems", paramLabel = "LIST", description = "Memory nodes to use (e.g. 0, 0-1).")
    String cpusetMems;
    @Option(names = "--memory-reservation", paramLabel = "SIZE", description = "Soft memory limit (memory.low).")
    String memoryReservation;
    @Option(names = "--blkio-weight", paramLabel = "N", description = "Block I/O weight, 10 to 1000 (needs a"
            + " scheduler with weights: BFQ).")
    Integer blkioWeight;
    @Option(names = "--blkio-weight-device", paramLabel = "DEVICE:WEIGHT", description = "Block I/O weight for one"
            + " device (repeatable).")
    List<String> blkioWeightDevices = new ArrayList<>();
    @Option(names = "--device-read-bps", paramLabel = "DEVICE:RATE", description = "Limit reads from a block device"
            + " to RATE bytes per second (kb, mb, gb; repeatable).")
    List<String> deviceReadBps = new ArrayList<>();
    @Option(names = "--device-write-bps", paramLabel = "DEVICE:RATE", description = "Limit writes to a block device"
            + " (bytes per second; kb, mb, gb).")
    List<String> deviceWriteBps = new ArrayList<>();
    @Option(names = "--device-read-iops", paramLabel = "DEVICE:N", description = "Limit reads from a block device to"
            + " N operations per second.")
    List<String> deviceReadIops = new ArrayList<>();
    @Option(names = "--device-write-iops", paramLabel = "DEVICE:N", description = "Limit writes to a block device to"
            + " N operations per second.")
    List<String> deviceWriteIops = new ArrayList<>();

    @Option(names = "--mount", paramLabel = "type=bind|volume|tmpfs,...", description = "Attach a mount, docker's"
            + " CSV: type=bind,source=/srv,target=/data,readonly (a bind's source must exist; bind-propagation=),"
            + " type=volume,source=NAME,target=/x (volume-nocopy), type=tmpfs,target=/x (tmpfs-size=, tmpfs-mode=).")
    List<String> mounts = new ArrayList<>();
    @Option(names = "--device", paramLabel = "HOST[:CONTAINER][:PERMS]", description = "Add a host device (or a"
            + " directory of them); PERMS: r, w, m (default rwm) in its device cgroup. Or a CDI device"
            + " (vendor.com/class=name) from a spec in /etc/cdi or /var/run/cdi.")
    List<String> devices = new ArrayList<>();
    @Option(names = "--device-cgroup-rule", paramLabel = "'TYPE MAJOR:MINOR PERMS'", description = "Allow devices in"
            + " the container's device cgroup, e.g. 'c 42:* rmw' (the nodes made with mknod).")
    List<String> deviceCgroupRules = new ArrayList<>();
    @Option(names = "--pid", paramLabel = "host|container:NAME", description = "Share the host's or a running"
            + " container's PID namespace (default: its own).")
    String pid;
    @Option(names = "--ipc", paramLabel = "MODE", description = "private (the default, as dockerd's), shareable"
            + " (others may join it), none (no /dev/shm), host, or container:NAME (a shareable one's IPC and"
            + " /dev/shm).")
    String ipc;
    @Option(names = "--uts", paramLabel = "host", description = "Share the host's hostname and domain name.")
    String uts;
    @Option(names = "--cgroupns", paramLabel = "host|private", description = "private (the default: a cgroup"
            + " namespace of its own, /proc/self/cgroup shows /) or host (the host's: the container sees its cgroup's"
            + " full path).")
    String cgroupns;
    @Option(names = "--userns", paramLabel = "host|auto[:size=N]", description = "host (the default: the host's user"
            + " ids, as docker without userns-remap) or auto[:size=N] (podman's: a user namespace of its own, its ids"
            + " 0..N-1 a range of host ids leased for it, 65536 by default).")
    String userns;
    @Option(names = "--uidmap", paramLabel = "CONTAINER_ID:HOST_ID:AMOUNT", description = "podman's: a user"
            + " namespace of the container's own mapping these ids (repeatable; without --gidmap, the gids too).")
    List<String> uidMaps = new ArrayList<>();
    @Option(names = "--gidmap", paramLabel = "CONTAINER_ID:HOST_ID:AMOUNT", description = "As --uidmap, for group"
            + " ids (without --uidmap, the uids too).")
    List<String> gidMaps = new ArrayList<>();
    @Option(names = "--gpus", paramLabel = "GPUS", description = "GPUs by CDI (the nvidia.com/gpu devices of a spec in"
            + " /etc/cdi, as nvidia-ctk cdi generate writes it): all, a count (2), or device=0,1.")
    String gpus;
    @Option(names = "--cgroup-parent", paramLabel = "PATH", description = "The cgroup to put the container's"
            + " own under (PATH/ID, from the hierarchy's root; default /hull).")
    String cgroupParent;
    @Option(names = "--volumes-from", paramLabel = "CONTAINER[:ro|rw]", description = "Mount the binds and"
            + " volumes of another container.")
    List<String> volumesFrom = new ArrayList<>();

    @Option(names = "--health-cmd", paramLabel = "COMMAND", description = "Command to run to check health (through"
            + " /bin/sh -c, in the container as exec does).")
    String healthCmd;
    @Option(names = "--health-interval", paramLabel = "DURATION", description = "Time between running the check"
            + " (ms|s|m|h; default 30s).")
    String healthInterval;
    @Option(names = "--health-timeout", paramLabel = "DURATION", description = "Maximum time to allow one check to"
            + " run (ms|s|m|h; default 30s).")
    String healthTimeout;
    @Option(names = "--health-retries", paramLabel = "N", description = "Consecutive failures needed to report"
            + " unhealthy (default 3).")
    Integer healthRetries;
    @Option(names = "--health-start-period", paramLabel = "DURATION", description = "Start period for the container"
            + " to initialize before failures count (ms|s|m|h; default 0s).")
    String healthStartPeriod;
    @Option(names = "--health-start-interval", paramLabel = "DURATION", description = "Time between running the"
            + " check during the start period (ms|s|m|h; default 5s).")
    String healthStartInterval;
    @Option(names = "--no-healthcheck", description = "Disable any container-specified HEALTHCHECK.")
    boolean noHealthcheck;

    /** docker's --health-* and --no-healthcheck: null when none is given (the image's applies). */
    private dev.hull.engine.HealthConfig healthcheck() throws RuntimeError {
        boolean any = healthCmd != null || healthInterval != null || healthTimeout != null || healthRetries != null
                || healthStartPeriod != null || healthStartInterval != null;
        if (noHealthcheck) {
            if (any) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--no-healthcheck conflicts with --health-* options");
            }
            return dev.hull.engine.HealthConfig.none();
        }
        if (!any) {
            return null;
        }
        dev.hull.engine.HealthConfig h = new dev.hull.engine.HealthConfig();
        if (healthCmd != null && !healthCmd.isEmpty()) {
            h.test = new ArrayList<>(List.of("CMD-SHELL", healthCmd));
        }
        h.interval = dev.hull.engine.HealthConfig.duration("--health-interval", healthInterval);
        h.timeout = dev.hull.engine.HealthConfig.duration("--health-timeout", healthTimeout);
        h.startPeriod = dev.hull.engine.HealthConfig.duration("--health-start-period", healthStartPeriod);
        h.startInterval = dev.hull.engine.HealthConfig.duration("--health-start-interval", healthStartInterval);
        if (healthRetries != null && healthRetries < 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--health-retries cannot be negative");
        }
        h.retries = healthRetries == null ? 0 : healthRetries;
        return h;
    }

    CreateOptions toCreateOptions(String image, List<String> command) throws RuntimeError {
        CreateOptions o = new CreateOptions();
        o.image = image;
        o.command = new ArrayList<>(command);
        o.entrypoint = entrypoint;
        o.name = name;
        o.autoRemove = rm;
        o.interactive = interactive;
        o.tty = tty;
        o.env = env;
        for (String f : envFiles) {
            o.envFiles.add(dev.hull.runtime.Caller.absolute(java.nio.file.Path.of(f)).toString());
        }
        o.workdir = workdir;
        o.user = user;
        o.hostname = hostname;
        o.network = network;
        o.ip = ip;
        o.macAddress = macAddress;
        o.networkAliases = networkAliases;
        o.publish = publish;
        o.publishAll = publishAll;
        o.expose = expose;
        o.dns = dns;
        o.dnsSearch = dnsSearch;
        o.dnsOptions = dnsOptions;
        o.addHosts = addHosts;
        o.volumes = new ArrayList<>(volumes); // --mount adds to them: not to the (pooled) command line's lists
        o.tmpfs = new ArrayList<>(tmpfs);
        o.storageOpts = storageOpts;
        o.readOnly = readOnly;
        o.memory = memory == null ? 0 : Engine.parseSize(memory, "--memory");
        o.memorySwap = memorySwap == null ? 0 : memorySwap.equals("-1") ? -1 : Engine.parseSize(memorySwap,
                "--memory-swap");
        if (cpus < 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpus must be above 0");
        }
        o.cpus = cpus;
        o.cpuShares = cpuShares;
        o.cpusetCpus = cpusetCpus;
        if (pidsLimit != null) { // not given: the engine's default (EngineConfig)
            o.pidsLimit = Math.max(0, pidsLimit);
        }
        o.ulimits = ulimits;
        o.capAdd = capAdd;
        o.capDrop = capDrop;
        o.privileged = privileged;
        o.securityOpts = new ArrayList<>(securityOpts);
        if (o.securityOpts.remove("systempaths=unconfined")) { // as the docker CLI: no masked or read-only paths
            o.maskedPaths = new ArrayList<>();
            o.readonlyPaths = new ArrayList<>();
        }
        o.restart = restart;
        o.init = init;
        o.lxcfs = lxcfs;
        List<String> allLabels = new ArrayList<>();
        for (String f : labelFiles) {
            try {
                allLabels.addAll(Engine.envFileLines(List.of(dev.hull.runtime.Caller.absolute(java.nio.file.Path.of(f))
                        .toString())));
            } catch (RuntimeError e) {
                throw new RuntimeError(e.kind(), e.getMessage().replaceFirst("^--env-file", "--label-file"));
            }
        }
        allLabels.addAll(labels);
        for (String l : allLabels) {
            int eq = l.indexOf('=');
            o.labels.put(eq < 0 ? l : l.substring(0, eq), eq < 0 ? "" : l.substring(eq + 1));
        }
        o.cidFile = cidFile == null ? null : dev.hull.runtime.Caller.absolute(java.nio.file.Path.of(cidFile)).toString();
        o.domainname = domainname;
        keyValues("--sysctl", sysctls, o.sysctls);
        o.oomScoreAdj = oomScoreAdj;
        o.shmSize = shmSize == null ? null : Engine.parseSize(shmSize, "--shm-size");
        o.groupAdd = groupAdd;
        o.cpuPeriod = cpuPeriod;
        o.cpuQuota = cpuQuota;
        o.cpusetMems = cpusetMems;
        o.blkioWeight = blkioWeight;
        o.blkioWeightDevices = blkioWeightDevices;
        o.deviceReadBps = deviceReadBps;
        o.deviceWriteBps = deviceWriteBps;
        o.deviceReadIops = deviceReadIops;
        o.deviceWriteIops = deviceWriteIops;
        o.memoryReservation = memoryReservation == null ? null
                : Engine.parseSize(memoryReservation, "--memory-reservation");
        for (String m : mounts) {
            dev.hull.engine.MountFlag.parse(m).addTo(o);
        }
        o.devices = devices;
        o.deviceCgroupRules = deviceCgroupRules;
        o.pid = pid;
        o.ipc = ipc;
        o.uts = uts;
        o.cgroupns = cgroupns == null || cgroupns.equals("private") ? null : cgroupns;
        o.userns = userns == null || userns.isEmpty() || userns.equals("host") ? null : userns;
        o.gpus = gpus;
        o.volumesFrom = volumesFrom;
        o.uidMaps = new ArrayList<>(uidMaps);
        o.gidMaps = new ArrayList<>(gidMaps);
        o.oomKillDisable = oomKillDisable ? Boolean.TRUE : null;
        o.memorySwappiness = memorySwappiness;
        keyValues("--annotation", annotations, o.annotations);
        o.cgroupParent = cgroupParent;
        o.stopSignal = stopSignal;
        o.stopTimeout = stopTimeout;
        keyValues("--log-opt", logOpts, o.logOpts);
        o.logDriver = logDriver == null || logDriver.equals("json-file") ? null : logDriver;
        o.healthcheck = healthcheck();
        return o;
    }

    /** KEY=VALUE flags into a map; anything else is refused. */
    private static void keyValues(String flag, List<String> given, java.util.Map<String, String> into)
            throws RuntimeError {
        for (String l : given) {
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + " " + l + ": use KEY=VALUE");
            }
            into.put(l.substring(0, eq), l.substring(eq + 1));
        }
    }
}
