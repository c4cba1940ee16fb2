package dev.hull.engine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code hull create}/{@code hull run} ask for: docker's flags, as given. Kept in the
 * container's container.json, so {@code inspect} shows them and a restart reuses them.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class CreateOptions {
    public String image;
    /** The command after the image (empty: the image's Cmd). */
    public List<String> command = new ArrayList<>();
    /** null: the image's Entrypoint; "": none. */
    public String entrypoint;
    public String name;
    public boolean autoRemove;
    public boolean interactive;
    public boolean tty;
    public List<String> env = new ArrayList<>();
    public List<String> envFiles = new ArrayList<>();
    public String workdir;
    public String user;
    public String hostname;
    /** bridge (the default network), a user-defined network's name, none, host or container:NAME. */
    public String network = "bridge";
    /** --ip, --mac-address, --network-alias: for the network of --network. */
    public String ip;
    public String macAddress;
    public List<String> networkAliases = new ArrayList<>();
    /** More networks, joined with {@code hull network connect} while the container was stopped. */
    public List<Connection> connections = new ArrayList<>();
    /** -p [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]; -P publishes every exposed port (image and --expose). */
    public List<String> publish = new ArrayList<>();
    public boolean publishAll;
    public List<String> expose = new ArrayList<>();
    public List<String> dns = new ArrayList<>();
    public List<String> dnsSearch = new ArrayList<>();
    public List<String> dnsOptions = new ArrayList<>();
    /** --add-host NAME:IP (IP may be host-gateway). */
    public List<String> addHosts = new ArrayList<>();

    /** A network joined after create: its name, the address asked for (or null), aliases there. */
    public static final class Connection {
        public String network;
        public String ip;
        public List<String> aliases = new ArrayList<>();

        public Connection() {}

        public Connection(String network, String ip, List<String> aliases) {
            this.network = network;
            this.ip = ip;
            this.aliases = new ArrayList<>(aliases);
        }
    }
    /** -v HOST:CTR[:ro] or NAME:CTR[:ro] (a named volume). */
    public List<String> volumes = new ArrayList<>();
    /**
     * No anonymous volumes for the image's VOLUMEs (a build step's container: what a RUN writes there
     * goes into the layer). Only at create, so not kept.
     */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean noImageVolumes;
    /** --storage-opt size=SIZE: the writable layer on a disk of its own (dev.hull.disk). */
    public List<String> storageOpts = new ArrayList<>();
    /** --tmpfs PATH[:OPTIONS]. */
    public List<String> tmpfs = new ArrayList<>();
    public boolean readOnly;
    /** Bytes (0: no limit). */
    public long memory;
    /** Memory + swap in bytes (0: unset, -1: unlimited swap). */
    public long memorySwap;
    /** CPUs (0: no limit). */
    public double cpus;
    public long cpuShares;
    public String cpusetCpus;
    /** 0: no limit; null (not given): the config file's default ({@link EngineConfig}), filled in by create. */
    public Long pidsLimit;
    /**
     * The config file the creator named with HULL_CONFIG (absolute), recorded by create: what the
     * container's monitor commands (healthcheck, --rm, cleanup) read; null: the default file.
     */
    public String configFile;
    /** --ulimit NAME=SOFT[:HARD]. */
    public List<String> ulimits = new ArrayList<>();
    public List<String> capAdd = new ArrayList<>();
    public List<String> capDrop = new ArrayList<>();
    public boolean privileged;
    /** --security-opt seccomp=FILE|unconfined, no-new-privileges[:true|false]. */
    public List<String> securityOpts = new ArrayList<>();
    /** no, on-failure[:N], always, unless-stopped. */
    public String restart = "no";
    public boolean init;
    /** "always": PID 1 is systemd, its container set up for it ({@link SystemdSpec}); null or "false": not. */
    public String systemd;
    /** lxcfs's /proc/meminfo, cpuinfo, stat, uptime... bound over the container's own ({@link Lxcfs}). */
    public boolean lxcfs;
    public Map<String, String> labels = new LinkedHashMap<>();
    /** null: the image's StopSignal, else SIGTERM. */
    public String stopSignal;
    /** Seconds; null: 10. */
    public Integer stopTimeout;
    /**
     * --log-opt max-size=SIZE (-1: no rotation), max-file=N; create adds the config file's defaults
     * for the keys not given ({@link EngineConfig#applyTo}).
     */
    public Map<String, String> logOpts = new LinkedHashMap<>();
    /**
     * --log-driver: null or json-file (the default), local (the same json-file log, docker's local
     * driver's name: its defaults are Hull's), none (no log at all: logs cannot be read).
     */
    public String logDriver;

    /** The log driver's name as docker shows it. */
    public String logDriverName() {
        return logDriver == null ? "json-file" : logDriver;
    }

    /** Whether the container has a log to read (every driver but none). */
    public boolean keepsLog() {
        return !"none".equals(logDriver);
    }
    /** --domainname: the UTS domain name. */
    public String domainname;
    /** --sysctl KEY=VALUE of the container's namespaces. */
    public Map<String, String> sysctls = new LinkedHashMap<>();
    /** --oom-score-adj. */
    public Integer oomScoreAdj;
    /** --shm-size in bytes (null: docker's 64 MiB). */
    public Long shmSize;
    /** --group-add: more groups (names from the image's /etc/group, or numbers). */
    public List<String> groupAdd = new ArrayList<>();
    /** --cpu-period / --cpu-quota in microseconds (null: not given). */
    public Long cpuPeriod;
    public Long cpuQuota;
    /** --cpuset-mems: memory nodes. */
    public String cpusetMems;
    /** --memory-reservation in bytes: the soft limit (memory.low). */
    public Long memoryReservation;
    /** --blkio-weight 10..1000 (null or 0: none); the block I/O flags are {@link BlockIoFlags}'. */
    public Integer blkioWeight;
    /** --blkio-weight-device DEVICE:WEIGHT. */
    public List<String> blkioWeightDevices = new ArrayList<>();
    /** --device-read-bps / --device-write-bps DEVICE:RATE[kb|mb|gb]. */
    public List<String> deviceReadBps = new ArrayList<>();
    public List<String> deviceWriteBps = new ArrayList<>();
    /** --device-read-iops / --device-write-iops DEVICE:N. */
    public List<String> deviceReadIops = new ArrayList<>();
    public List<String> deviceWriteIops = new ArrayList<>();
    /** --gpus (docker's: all, N, device=ID[,ID] ...): nvidia.com/gpu devices by CDI; null: none. */
    public String gpus;
    /** --device HOST[:CONTAINER][:PERMS] (PERMS of r, w, m; default rwm), or a CDI device vendor.com/class=name. */
    public List<String> devices = new ArrayList<>();
    /** --device-cgroup-rule 'TYPE MAJOR:MINOR PERMS' (docker's, e.g. "c 42:* rmw"). */
    public List<String> deviceCgroupRules = new ArrayList<>();
    /** --pid: null (its own), host or container:NAME. */
    public String pid;
    /** --ipc: null (private, dockerd's default-ipc-mode), private, shareable, none, host or container:NAME. */
    public String ipc;
    /** --uts: null (its own) or host. */
    public String uts;
    /** --cgroupns: null (private: its own, the default) or host. */
    public String cgroupns;
    /** --userns: null or host (the host's ids), auto[:size=N] (a range of its own: {@link UsernsAuto}). */
    public String userns;
    /** --cgroup-parent: the cgroup the container's own goes under (default: /hull). */
    public String cgroupParent;
    /** --volumes-from NAME[:ro|rw]: that container's -v/--mount binds and volumes, copied into volumes at create. */
    public List<String> volumesFrom = new ArrayList<>();
    /**
     * --health-* / --no-healthcheck as docker's Config.Healthcheck; after create, the one the container
     * runs (the image's HEALTHCHECK for what the flags left open), null for none.
     */
    public HealthConfig healthcheck;
    /** --oom-kill-disable (cgroup v1 memory.oom_control; discarded with a warning where there is none). */
    public Boolean oomKillDisable;
    /** --memory-swappiness 0..100 (cgroup v1 memory.swappiness; null: the kernel's; discarded on v2). */
    public Long memorySwappiness;
    /** --annotation KEY=VALUE: OCI annotations in the container's config.json (not run.hull.*). */
    public Map<String, String> annotations = new LinkedHashMap<>();
    /** HostConfig.MaskedPaths / ReadonlyPaths: null for the defaults, else the lists to use instead. */
    public List<String> maskedPaths;
    public List<String> readonlyPaths;
    /** --uidmap / --gidmap CONTAINER_ID:HOST_ID:AMOUNT (podman's): a user namespace with exactly these. */
    public List<String> uidMaps = new ArrayList<>();
    public List<String> gidMaps = new ArrayList<>();
    /** What create discarded and why (dockerd's create Warnings); filled by create, not kept. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public List<String> warnings = new ArrayList<>();
    /** --cidfile: where create writes the id (absolute; not kept with the container). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String cidFile;
}
