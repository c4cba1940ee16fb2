package dev.hull.engine;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.ContainerRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** {@code hull inspect}: a container as docker's inspect shows it (the fields Hull has). */
public final class ContainerInspector {
    private ContainerInspector() {}

    public static ObjectNode inspect(Engine engine, ContainerInfo info) throws IOException {
        ObjectNode n = ContainerStore.JSON.createObjectNode();
        CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
        Engine.State s = engine.state(info);
        MonitorStatus m = s.monitor();
        n.put("Id", info.id());
        n.put("Created", info.created());
        n.put("Path", info.args().isEmpty() ? "" : info.args().get(0));
        ArrayNode args = n.putArray("Args");
        info.args().stream().skip(1).forEach(args::add);
        ObjectNode st = n.putObject("State");
        st.put("Status", s.status());
        st.put("Running", s.status().equals("running") || s.status().equals("paused"));
        st.put("Paused", s.status().equals("paused"));
        st.put("Restarting", s.status().equals("restarting"));
        st.put("OOMKilled", !s.running() && m != null && engine.oomKilled(info));
        st.put("Dead", false);
        st.put("Pid", m != null && s.running() ? m.pid() : 0);
        st.put("ExitCode", m != null && !s.running() ? m.exitCode() : 0);
        st.put("Error", m != null && m.error() != null ? m.error() : "");
        st.put("StartedAt", m != null ? m.startedAt() : "0001-01-01T00:00:00Z");
        st.put("FinishedAt", m != null && m.finishedAt() != null && !m.finishedAt().isEmpty() ? m.finishedAt()
                : "0001-01-01T00:00:00Z");
        st.put("MonitorPid", m != null && m.monitorAlive() ? m.monitorPid() : 0);
        HealthState health = engine.health(info, s);
        if (health != null) {
            ObjectNode h = st.putObject("Health");
            h.put("Status", health.status());
            h.put("FailingStreak", health.failingStreak());
            h.set("Log", ContainerStore.JSON.valueToTree(health.log()));
        }
        n.put("Image", info.imageId().startsWith("sha256:") ? info.imageId() : "sha256:" + info.imageId());
        n.put("ImageName", info.image());
        n.put("Name", "/" + info.name());
        n.put("RestartCount", m != null ? m.restartCount() : 0);
        n.put("Driver", info.snapshotter());
        Path dir = engine.containers().dir(info.id());
        n.put("LogPath", engine.containers().logFile(info.id()).toString());
        n.put("ResolvConfPath", dir.resolve(dev.hull.engine.network.HostFiles.RESOLV).toString());
        n.put("HostnamePath", dir.resolve(dev.hull.engine.network.HostFiles.HOSTNAME).toString());
        n.put("HostsPath", dir.resolve(dev.hull.engine.network.HostFiles.HOSTS).toString());
        ObjectNode hc = n.putObject("HostConfig");
        hc.put("AutoRemove", o.autoRemove);
        hc.put("Privileged", o.privileged);
        hc.put("ReadonlyRootfs", o.readOnly);
        hc.put("NetworkMode", o.network);
        ObjectNode bindings = hc.putObject("PortBindings");
        for (String p : o.publish) {
            for (var spec : dev.hull.engine.network.PortSpec.parse(p)) {
                String key = spec.containerPort() + "/" + spec.protocol();
                ObjectNode b = (bindings.get(key) instanceof ArrayNode a ? a : bindings.putArray(key)).addObject();
                b.put("HostIp", spec.hostIp() == null ? "" : spec.hostIp());
                b.put("HostPort", spec.hostPort() == 0 ? "" : Integer.toString(spec.hostPort()));
            }
        }
        hc.put("PublishAllPorts", o.publishAll);
        ArrayNode dns = hc.putArray("Dns");
        o.dns.forEach(dns::add);
        ArrayNode dnsSearch = hc.putArray("DnsSearch");
        o.dnsSearch.forEach(dnsSearch::add);
        ArrayNode dnsOptions = hc.putArray("DnsOptions");
        o.dnsOptions.forEach(dnsOptions::add);
        ArrayNode extraHosts = hc.putArray("ExtraHosts");
        o.addHosts.forEach(extraHosts::add);
        hc.put("Memory", o.memory);
        hc.put("MemorySwap", o.memorySwap);
        hc.put("NanoCpus", Math.round(o.cpus * 1e9));
        hc.put("CpuShares", o.cpuShares);
        hc.put("CpusetCpus", o.cpusetCpus == null ? "" : o.cpusetCpus);
        hc.put("PidsLimit", o.pidsLimit);
        hc.put("CpuPeriod", o.cpuPeriod == null ? 0 : o.cpuPeriod);
        hc.put("CpuQuota", o.cpuQuota == null ? 0 : o.cpuQuota);
        hc.put("CpusetMems", o.cpusetMems == null ? "" : o.cpusetMems);
        hc.put("MemoryReservation", o.memoryReservation == null ? 0 : o.memoryReservation);
        hc.put("BlkioWeight", o.blkioWeight == null ? 0 : o.blkioWeight);
        blkioList(hc.putArray("BlkioWeightDevice"), o.blkioWeightDevices, "Weight");
        blkioList(hc.putArray("BlkioDeviceReadBps"), o.deviceReadBps, "Rate");
        blkioList(hc.putArray("BlkioDeviceWriteBps"), o.deviceWriteBps, "Rate");
        blkioList(hc.putArray("BlkioDeviceReadIOps"), o.deviceReadIops, "Rate");
        blkioList(hc.putArray("BlkioDeviceWriteIOps"), o.deviceWriteIops, "Rate");
        hc.put("ShmSize", o.shmSize == null ? 64L << 20 : o.shmSize);
        hc.put("OomScoreAdj", o.oomScoreAdj == null ? 0 : o.oomScoreAdj);
        ObjectNode sysctls = hc.putObject("Sysctls");
        o.sysctls.forEach(sysctls::put);
        ArrayNode groups = hc.putArray("GroupAdd");
        o.groupAdd.forEach(groups::add);
        hc.put("Init", o.init);
        ObjectNode rp = hc.putObject("RestartPolicy");
        dev.hull.runtime.Monitor.RestartPolicy policy = dev.hull.runtime.Monitor.RestartPolicy.parse(o.restart);
        rp.put("Name", policy.name());
        rp.put("MaximumRetryCount", policy.maxRetries());
        ObjectNode lc = hc.putObject("LogConfig");
        lc.put("Type", o.logDriverName());
        ObjectNode lcc = lc.putObject("Config");
        o.logOpts.forEach(lcc::put);
        ArrayNode caps = hc.putArray("CapAdd");
        o.capAdd.forEach(caps::add);
        caps = hc.putArray("CapDrop");
        o.capDrop.forEach(caps::add);
        ArrayNode binds = hc.putArray("Binds");
        o.volumes.forEach(binds::add);
        ObjectNode tmpfs = hc.putObject("Tmpfs");
        for (String t : o.tmpfs) {
            String[] p = t.split(":", 2);
            tmpfs.put(p[0], p.length > 1 ? p[1] : "");
        }
        ArrayNode sec = hc.putArray("SecurityOpt");
        o.securityOpts.forEach(sec::add);
        hc.put("PidMode", o.pid == null ? "" : o.pid);
        hc.put("IpcMode", o.ipc == null || o.ipc.isEmpty() ? "private" : o.ipc); // dockerd's default-ipc-mode
        hc.put("UTSMode", o.uts == null ? "" : o.uts);
        hc.put("CgroupnsMode", o.cgroupns == null || o.cgroupns.isEmpty() ? "private" : o.cgroupns);
        hc.put("UsernsMode", o.userns == null ? "" : o.userns);
        SubIds.Range range = SubIds.of(dir);
        if (range != null) { // podman's: CONTAINER:HOST:SIZE
            ObjectNode idm = hc.putObject("IDMappings");
            idm.putArray("UidMap").add("0:" + range.uid() + ":" + range.size());
            idm.putArray("GidMap").add("0:" + range.gid() + ":" + range.size());
        }
        ArrayNode devices = hc.putArray("Devices");
        for (String d : o.devices) { // HOST[:CONTAINER][:PERMS], shown as dockerd's DeviceMapping
            String[] p = d.split(":");
            boolean permsOnly = p.length == 2 && p[1].matches("[rwm]+");
            ObjectNode dm = devices.addObject();
            dm.put("PathOnHost", p[0]);
            dm.put("PathInContainer", p.length > 1 && !permsOnly ? p[1] : p[0]);
            dm.put("CgroupPermissions", p.length == 3 ? p[2] : permsOnly ? p[1] : "rwm");
        }
        ArrayNode rules = hc.putArray("DeviceCgroupRules");
        o.deviceCgroupRules.forEach(rules::add);
        hc.put("CgroupParent", o.cgroupParent == null ? "" : o.cgroupParent);
        hc.put("OomKillDisable", Boolean.TRUE.equals(o.oomKillDisable));
        if (o.memorySwappiness != null) {
            hc.put("MemorySwappiness", o.memorySwappiness);
        } else {
            hc.putNull("MemorySwappiness");
        }
        if (o.annotations != null && !o.annotations.isEmpty()) { // dockerd: omitted when none
            ObjectNode ann = hc.putObject("Annotations");
            o.annotations.forEach(ann::put);
        }
        if (!o.uidMaps.isEmpty() || !o.gidMaps.isEmpty()) { // --uidmap/--gidmap, as podman shows them
            ObjectNode idm = hc.putObject("IDMappings");
            ArrayNode um = idm.putArray("UidMap");
            ArrayNode gm = idm.putArray("GidMap");
            UsernsMaps.uids(o).forEach(um::add);
            UsernsMaps.gids(o).forEach(gm::add);
        }
        ArrayNode from = hc.putArray("VolumesFrom");
        o.volumesFrom.forEach(from::add);
        ArrayNode ul = hc.putArray("Ulimits");
        o.ulimits.forEach(ul::add);
        ObjectNode c = n.putObject("Config");
        JsonNode spec = readSpec(dir.resolve("config.json"));
        c.put("Hostname", spec.path("hostname").asText(o.hostname == null ? "" : o.hostname)); // --uts host: none in the spec
        c.put("User", o.user == null ? "" : o.user);
        c.put("Tty", o.tty);
        c.put("OpenStdin", o.interactive);
        c.set("Env", spec.path("process").path("env").deepCopy());
        ArrayNode cmd = c.putArray("Cmd");
        o.command.forEach(cmd::add);
        c.put("Image", info.image());
        c.put("WorkingDir", spec.path("process").path("cwd").asText());
        if (o.entrypoint != null) {
            c.putArray("Entrypoint").add(o.entrypoint);
        } else {
            c.putNull("Entrypoint");
        }
        ObjectNode labels = c.putObject("Labels");
        o.labels.forEach(labels::put);
        c.put("StopSignal", info.stopSignal());
        c.put("StopTimeout", o.stopTimeout == null ? Engine.DEFAULT_STOP_TIMEOUT : o.stopTimeout);
        if (o.healthcheck != null) {
            c.set("Healthcheck", ContainerStore.JSON.valueToTree(o.healthcheck));
        }
        ObjectNode exposed = c.putObject("ExposedPorts");
        info.exposedPorts().forEach(p -> exposed.putObject(p));
        networkSettings(n.putObject("NetworkSettings"), info, s.running()
                ? engine.networking().state(info.id()) : null);
        ArrayNode mounts = n.putArray("Mounts");
        for (JsonNode mt : spec.path("mounts")) {
            if (!mt.path("type").asText().equals("bind") || mt.path("destination").asText().equals(
                    ContainerSpecBuilder.INIT_PATH)) {
                continue;
            }
            ObjectNode x = mounts.addObject();
            String src = mt.path("source").asText();
            boolean volume = src.startsWith(engine.volumes().root().toString() + "/");
            x.put("Type", volume ? "volume" : "bind");
            if (volume) {
                x.put("Name", Path.of(src).getParent().getFileName().toString());
            }
            x.put("Source", src);
            x.put("Destination", mt.path("destination").asText());
            boolean ro = false;
            for (JsonNode opt : mt.path("options")) {
                ro |= opt.asText().equals("ro");
            }
            x.put("RW", !ro);
        }
        ContainerRecord rec = s.running() ? engine.runtimeRecord(info) : null;
        ObjectNode hull = n.putObject("Hull");
        hull.put("Bundle", dir.toString());
        hull.put("CgroupPath", rec != null ? rec.cgroupPath() : "");
        return n;
    }

    private static JsonNode readSpec(Path f) {
        try {
            return ContainerStore.JSON.readTree(Files.readAllBytes(f));
        } catch (IOException e) {
            return ContainerStore.JSON.createObjectNode();
        }
    }

    /** docker's NetworkSettings: the primary address at the top, every network under Networks, the published ports. */
    private static void networkSettings(ObjectNode ns, ContainerInfo info, dev.hull.engine.network.NetworkState st) {
        ns.put("SandboxKey", st != null ? st.netns() : "");
        ObjectNode ports = ns.putObject("Ports");
        for (String e : info.exposedPorts()) {
            ports.putNull(e.contains("/") ? e : e + "/tcp");
        }
        List<dev.hull.engine.network.NetworkState.Endpoint> eps = st != null ? st.endpoints() : List.of();
        if (st != null) {
            for (var p : st.ports()) {
                String key = p.containerPort() + "/" + p.protocol();
                ObjectNode b = (ports.get(key) instanceof ArrayNode a ? a : ports.putArray(key)).addObject();
                b.put("HostIp", p.hostIp() == null ? "0.0.0.0" : p.hostIp());
                b.put("HostPort", Integer.toString(p.hostPort()));
            }
        }
        var primary = eps.isEmpty() ? null : eps.getFirst();
        ns.put("IPAddress", primary != null ? primary.ip() : "");
        ns.put("IPPrefixLen", primary != null ? primary.prefix() : 0);
        ns.put("Gateway", primary != null ? primary.gateway() : "");
        ns.put("MacAddress", primary != null ? primary.mac() : "");
        ObjectNode nets = ns.putObject("Networks");
        String shortId = info.id().substring(0, 12); // its peers on a user-defined network resolve it by this too
        for (var e : eps) {
            ObjectNode x = nets.putObject(e.network());
            ArrayNode aliases = x.putArray("Aliases");
            e.aliases().forEach(aliases::add);
            if (!e.network().equals(dev.hull.engine.network.NetworkStore.DEFAULT) && !e.aliases().contains(shortId)) {
                aliases.add(shortId);
            }
            x.put("NetworkID", e.networkId());
            x.put("Gateway", e.gateway());
            x.put("IPAddress", e.ip());
            x.put("IPPrefixLen", e.prefix());
            x.put("MacAddress", e.mac());
            x.put("InterfaceName", e.ifname());
            x.put("HostInterface", e.hostVeth());
        }
        configuredNetworks(nets, info, shortId);
    }

    /** The networks a container that does not run (yet) is configured for: no address, its aliases. */
    private static void configuredNetworks(ObjectNode nets, ContainerInfo info, String shortId) {
        CreateOptions o = info.options();
        if (o == null) {
            return;
        }
        java.util.Map<String, List<String>> wanted = new java.util.LinkedHashMap<>();
        String primary = o.network == null ? dev.hull.engine.network.NetworkStore.DEFAULT : o.network;
        if (dev.hull.engine.network.NetworkRequest.wired(primary)) {
            wanted.put(primary, o.networkAliases);
        }
        o.connections.forEach(c -> wanted.put(c.network, c.aliases));
        wanted.forEach((name, given) -> {
            if (nets.has(name)) {
                return;
            }
            ObjectNode x = nets.putObject(name);
            ArrayNode aliases = x.putArray("Aliases");
            given.forEach(aliases::add);
            if (!name.equals(dev.hull.engine.network.NetworkStore.DEFAULT) && !given.contains(shortId)) {
                aliases.add(shortId);
            }
            x.put("NetworkID", "");
            x.put("Gateway", "");
            x.put("IPAddress", "");
            x.put("IPPrefixLen", 0);
            x.put("MacAddress", "");
        });
    }

    /** docker's STATUS column: Up 5 minutes, Exited (1) 2 hours ago, Created, Restarting (1) ... */
    public static String statusText(Engine.State s) {
        var m = s.monitor();
        return switch (s.status()) {
            case "created" -> "Created";
            case "running" -> "Up " + since(m.startedAt());
            case "paused" -> "Up " + since(m.startedAt()) + " (Paused)";
            case "restarting" -> "Restarting (" + m.exitCode() + ") " + since(m.finishedAt()) + " ago";
            default -> "Exited (" + s.exitCode() + ") " + (m.finishedAt() == null || m.finishedAt().isEmpty()
                    ? "" : since(m.finishedAt()) + " ago");
        };
    }

    /** docker's STATUS column with the health of a running container: Up 3 minutes (healthy), (health: starting). */
    public static String statusText(Engine engine, ContainerInfo info, Engine.State s) throws IOException {
        String text = statusText(s);
        HealthState h = s.status().equals("running") ? engine.health(info, s) : null;
        if (h == null) {
            return text;
        }
        return text + (h.status().equals("starting") ? " (health: starting)" : " (" + h.status() + ")");
    }

    /** Timestamps parsed once: a listing parses each container's created and started at every request. */
    private static final java.util.concurrent.ConcurrentHashMap<String, Instant> PARSED =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Instant.parse(iso), remembered (containers come and go: the memory is cleared past 8192 of them). */
    public static Instant instant(String iso) {
        Instant t = PARSED.get(iso);
        if (t == null) {
            t = Instant.parse(iso);
            if (PARSED.size() > 8192) {
                PARSED.clear();
            }
            PARSED.put(iso, t);
        }
        return t;
    }

    /** docker's human durations: Less than a second, 5 seconds, 3 minutes, 2 hours, 4 days. */
    public static String since(String iso) {
        try {
            long sec = Duration.between(instant(iso), Instant.now()).getSeconds();
            if (sec < 1) {
                return "Less than a second";
            }
            if (sec < 60) {
                return sec + (sec == 1 ? " second" : " seconds");
            }
            if (sec < 3600) {
                return (sec / 60) + (sec / 60 == 1 ? " minute" : " minutes");
            }
            if (sec < 86400 * 2) {
                return (sec / 3600) + (sec / 3600 == 1 ? " hour" : " hours");
            }
            return (sec / 86400) + " days";
        } catch (RuntimeException e) {
            return "?";
        }
    }

    /** DEVICE:VALUE flags as dockerd's {Path, Weight|Rate} entries (a bps rate in bytes). */
    private static void blkioList(ArrayNode to, List<String> flags, String key) {
        for (String f : flags) {
            int c = f.lastIndexOf(':');
            ObjectNode e = to.addObject();
            e.put("Path", f.substring(0, c));
            String v = f.substring(c + 1);
            try {
                e.put(key, key.equals("Rate") ? Engine.parseSize(v, "rate") : Long.parseLong(v));
            } catch (dev.hull.runtime.RuntimeError | NumberFormatException x) {
                e.put(key, v);
            }
        }
    }
}
