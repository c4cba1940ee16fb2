package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.MountFlag;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * POST /containers/create's Config, HostConfig and NetworkingConfig as {@link CreateOptions} (what
 * {@code hull create}'s flags make). A field Hull does not do is refused naming it (400) when it
 * asks for anything — clients send most fields with their zero values, which are fine.
 */
final class CreateTranslation {
    private CreateTranslation() {}

    /** Config fields translated below, or harmless (what the client attaches is its own business). */
    private static final Set<String> CONFIG_DONE = Set.of("Image", "Cmd", "Entrypoint", "Env", "WorkingDir", "User",
            "Labels", "Tty", "OpenStdin", "StdinOnce", "AttachStdin", "AttachStdout", "AttachStderr", "Hostname",
            "ExposedPorts", "StopSignal", "StopTimeout", "Volumes", "MacAddress", "NetworkDisabled", "ArgsEscaped",
            "OnBuild", "Shell", "Domainname", "Healthcheck");
    private static final Set<String> HOST_DONE = Set.of("Binds", "PortBindings", "NetworkMode", "Memory", "MemorySwap",
            "NanoCpus", "CpuShares", "CpusetCpus", "CpuPeriod", "CpuQuota", "PidsLimit", "RestartPolicy", "AutoRemove",
            "Privileged", "ReadonlyRootfs", "CapAdd", "CapDrop", "SecurityOpt", "Init", "Tmpfs", "Dns", "DnsSearch",
            "DnsOptions", "ExtraHosts", "PublishAllPorts", "Ulimits", "LogConfig", "Mounts", "ConsoleSize",
            "Isolation", "CgroupnsMode", "IpcMode", "PidMode", "UTSMode", "UsernsMode", "Runtime", "MaskedPaths",
            "ReadonlyPaths", "Annotations", "ContainerIDFile", "VolumeDriver", "OomKillDisable",
            "MemorySwappiness", "Cgroup", "CgroupParent", "ShmSize", "Links", "VolumesFrom", "Devices",
            "DeviceRequests", "DeviceCgroupRules", "GroupAdd", "OomScoreAdj", "Sysctls", "StorageOpt",
            "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
            "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetMems",
            "KernelMemory", "KernelMemoryTCP", "MemoryReservation", "CpuCount", "CpuPercent", "IOMaximumIOps",
            "IOMaximumBandwidth");

    static CreateOptions options(JsonNode body, String name) throws ApiError {
        CreateOptions o = new CreateOptions();
        JsonNode hc = body.path("HostConfig");
        // Config is the body itself (dockerd's ContainerConfig embeds it)
        for (var f : body.properties()) {
            String k = f.getKey();
            if (!CONFIG_DONE.contains(k) && !k.equals("HostConfig") && !k.equals("NetworkingConfig") && isSet(f.getValue())) {
                throw ApiError.badRequest("Config." + k + " is not supported by Hull");
            }
        }
        for (var f : hc.properties()) {
            if (!HOST_DONE.contains(f.getKey()) && isSet(f.getValue())) {
                throw ApiError.badRequest("HostConfig." + f.getKey() + " is not supported by Hull");
            }
        }
        // asked for, and not done (yet): refused by name
        refuse(body, "Config.", "Shell", "OnBuild");
        refuse(hc, "HostConfig.", "Cgroup", "Links", "CpuRealtimePeriod",
                "CpuRealtimeRuntime", "KernelMemory", "KernelMemoryTCP", "CpuCount",
                "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth", "VolumeDriver");
        for (String mode : List.of("CgroupnsMode", "Isolation")) {
            String v = hc.path(mode).asText("");
            if (!v.isEmpty() && !v.equals("private") && !v.equals("default")
                    && !(mode.equals("CgroupnsMode") && v.equals("host"))) {
                throw ApiError.badRequest("HostConfig." + mode + " " + v + " is not supported by Hull");
            }
        }
        String runtime = hc.path("Runtime").asText("");
        if (!runtime.isEmpty() && !runtime.equals("hull") && !runtime.equals("runc")) {
            throw ApiError.badRequest("HostConfig.Runtime " + runtime + ": Hull runs its own runtime only");
        }

        o.userns = userns(hc.path("UsernsMode").asText(""));
        o.image = text(body, "Image");
        if (o.image == null || o.image.isEmpty()) {
            throw ApiError.badRequest("Config.Image is required");
        }
        if (name != null && !name.isEmpty()) {
            o.name = name.startsWith("/") ? name.substring(1) : name;
        }
        List<String> entrypoint = strings(body.path("Entrypoint"), "Entrypoint");
        List<String> cmd = strings(body.path("Cmd"), "Cmd");
        if (body.has("Entrypoint") && !body.path("Entrypoint").isNull()) {
            if (entrypoint.isEmpty() || entrypoint.size() == 1 && entrypoint.getFirst().isEmpty()) {
                o.entrypoint = "";
            } else {
                o.entrypoint = entrypoint.getFirst();
                o.command.addAll(entrypoint.subList(1, entrypoint.size()));
            }
        }
        o.command.addAll(cmd);
        o.env = new ArrayList<>(strings(body.path("Env"), "Env"));
        o.workdir = emptyToNull(text(body, "WorkingDir"));
        o.user = emptyToNull(text(body, "User"));
        body.path("Labels").properties().forEach(e -> o.labels.put(e.getKey(), e.getValue().asText()));
        o.tty = body.path("Tty").asBoolean();
        o.interactive = body.path("OpenStdin").asBoolean();
        o.hostname = emptyToNull(text(body, "Hostname"));
        o.domainname = emptyToNull(text(body, "Domainname"));
        body.path("ExposedPorts").properties().forEach(e -> o.expose.add(e.getKey()));
        o.stopSignal = emptyToNull(text(body, "StopSignal"));
        if (body.path("StopTimeout").isNumber()) {
            o.stopTimeout = body.path("StopTimeout").asInt();
        }
        o.macAddress = emptyToNull(text(body, "MacAddress"));
        o.healthcheck = dev.hull.engine.HealthConfig.fromJson(body.path("Healthcheck")); // checked at create, as dockerd
        if (body.path("NetworkDisabled").asBoolean()) {
            o.network = "none";
        }

        o.volumes = new ArrayList<>(strings(hc.path("Binds"), "HostConfig.Binds"));
        for (JsonNode m : hc.path("Mounts")) {
            mount(o, m);
        }
        anonymousVolumes(o, body, hc);
        namespacesAndDevices(o, hc);
        blockIo(o, hc);
        kernelTunables(o, hc);
        memoryAndSpec(o, hc);
        for (var e : hc.path("PortBindings").properties()) {
            String port = e.getKey();
            if (e.getValue().isArray() && !e.getValue().isEmpty()) {
                for (JsonNode b : e.getValue()) {
                    String ip = b.path("HostIp").asText("");
                    String hostPort = b.path("HostPort").asText("");
                    o.publish.add((ip.isEmpty() ? "" : ip + ":") + (hostPort.isEmpty() && ip.isEmpty() ? ""
                            : hostPort + ":") + port);
                }
            } else {
                o.publish.add(port);
            }
        }
        o.publishAll = hc.path("PublishAllPorts").asBoolean();
        String net = hc.path("NetworkMode").asText("");
        if (!net.isEmpty() && !net.equals("default")) {
            o.network = net;
        }
        o.memory = hc.path("Memory").asLong(0);
        o.memorySwap = hc.path("MemorySwap").asLong(0);
        long nano = hc.path("NanoCpus").asLong(0);
        long quota = hc.path("CpuQuota").asLong(0);
        long period = hc.path("CpuPeriod").asLong(0);
        if (nano > 0 && quota > 0) {
            throw ApiError.badRequest("Conflicting options: Nano CPUs and CPU Period cannot both be set");
        }
        if (nano > 0) {
            o.cpus = nano / 1e9;
        } else if (quota > 0) {
            o.cpus = (double) quota / (period > 0 ? period : 100_000);
        } else if (period > 0) {
            throw ApiError.badRequest("HostConfig.CpuPeriod without CpuQuota is not supported by Hull");
        }
        o.cpuShares = hc.path("CpuShares").asLong(0);
        o.cpusetCpus = emptyToNull(text(hc, "CpusetCpus"));
        JsonNode pids = hc.path("PidsLimit");
        if (pids.isNumber()) {
            o.pidsLimit = pids.asLong() <= 0 ? 0L : pids.asLong(); // dockerd: 0 and -1 mean no limit
        }
        JsonNode rp = hc.path("RestartPolicy");
        String policy = rp.path("Name").asText("");
        if (policy.isEmpty() || policy.equals("no")) {
            o.restart = "no";
        } else if (policy.equals("on-failure")) {
            int max = rp.path("MaximumRetryCount").asInt(0);
            o.restart = max > 0 ? "on-failure:" + max : "on-failure";
        } else if (policy.equals("always") || policy.equals("unless-stopped")) {
            if (rp.path("MaximumRetryCount").asInt(0) != 0) {
                throw ApiError.badRequest("maximum retry count cannot be used with restart policy '" + policy + "'");
            }
            o.restart = policy;
        } else {
            throw ApiError.badRequest("invalid restart policy '" + policy + "'");
        }
        o.autoRemove = hc.path("AutoRemove").asBoolean();
        o.privileged = hc.path("Privileged").asBoolean();
        o.readOnly = hc.path("ReadonlyRootfs").asBoolean();
        o.capAdd = new ArrayList<>(strings(hc.path("CapAdd"), "HostConfig.CapAdd"));
        o.capDrop = new ArrayList<>(strings(hc.path("CapDrop"), "HostConfig.CapDrop"));
        o.securityOpts = new ArrayList<>(strings(hc.path("SecurityOpt"), "HostConfig.SecurityOpt"));
        o.init = hc.path("Init").asBoolean();
        hc.path("Tmpfs").properties().forEach(e -> o.tmpfs.add(e.getValue().asText("").isEmpty() ? e.getKey()
                : e.getKey() + ":" + e.getValue().asText()));
        o.dns = new ArrayList<>(strings(hc.path("Dns"), "HostConfig.Dns"));
        o.dnsSearch = new ArrayList<>(strings(hc.path("DnsSearch"), "HostConfig.DnsSearch"));
        o.dnsOptions = new ArrayList<>(strings(hc.path("DnsOptions"), "HostConfig.DnsOptions"));
        o.addHosts = new ArrayList<>(strings(hc.path("ExtraHosts"), "HostConfig.ExtraHosts"));
        for (JsonNode u : hc.path("Ulimits")) {
            o.ulimits.add(u.path("Name").asText() + "=" + u.path("Soft").asLong() + ":" + u.path("Hard").asLong());
        }
        JsonNode lc = hc.path("LogConfig");
        String driver = lc.path("Type").asText("");
        if (!driver.isEmpty() && !List.of("json-file", "local", "none").contains(driver)) {
            throw ApiError.badRequest("HostConfig.LogConfig.Type " + driver + ": Hull logs with json-file, local or"
                    + " none");
        }
        o.logDriver = driver.isEmpty() || driver.equals("json-file") ? null : driver;
        lc.path("Config").properties().forEach(e -> o.logOpts.put(e.getKey(), e.getValue().asText()));

        JsonNode endpoints = body.path("NetworkingConfig").path("EndpointsConfig");
        boolean first = true;
        for (var e : endpoints.properties()) {
            JsonNode ep = e.getValue();
            List<String> aliases = strings(ep.path("Aliases"), "Aliases");
            String ip = emptyToNull(ep.path("IPAMConfig").path("IPv4Address").asText(""));
            if (isSet(ep.path("Links"))) {
                throw ApiError.badRequest("NetworkingConfig.EndpointsConfig.Links is not supported by Hull");
            }
            if (first && (e.getKey().equals(o.network) || o.network.equals("bridge") && net.isEmpty())) {
                o.network = e.getKey();
                o.networkAliases = new ArrayList<>(aliases);
                o.ip = ip;
                first = false;
            } else if (first && e.getKey().equals(net)) {
                o.networkAliases = new ArrayList<>(aliases);
                o.ip = ip;
                first = false;
            } else {
                o.connections.add(new CreateOptions.Connection(e.getKey(), ip, aliases));
            }
        }
        return o;
    }

    /**
     * Config.Volumes: each path no bind, mount or tmpfs covers is an anonymous volume (-v /path; compose
     * sends its named volumes' targets here too, covered by their mounts).
     */
    private static void anonymousVolumes(CreateOptions o, JsonNode body, JsonNode hc) throws ApiError {
        for (var v : body.path("Volumes").properties()) {
            String target = v.getKey();
            if (!target.startsWith("/") || target.contains(":")) {
                throw ApiError.badRequest("Config.Volumes: invalid volume path " + target + " (absolute, no ':')");
            }
            if (!mounted(hc, target)) {
                o.volumes.add(target);
            }
        }
    }

    /** Whether HostConfig's Binds, Mounts or Tmpfs put something at target. */
    private static boolean mounted(JsonNode hc, String target) {
        String t = target.replaceAll("/+$", "");
        for (JsonNode b : hc.path("Binds")) {
            String[] f = b.asText().split(":");
            if (f.length >= 2 && f[1].replaceAll("/+$", "").equals(t)) {
                return true;
            }
        }
        for (JsonNode m : hc.path("Mounts")) {
            if (m.path("Target").asText().replaceAll("/+$", "").equals(t)) {
                return true;
            }
        }
        return hc.path("Tmpfs").has(target) || hc.path("Tmpfs").has(t);
    }

    /** HostConfig.Mounts: bind, volume and tmpfs, checked and mapped as --mount's ({@link MountFlag}). */
    private static void mount(CreateOptions o, JsonNode m) throws ApiError {
        if (m.path("BindOptions").path("NonRecursive").asBoolean() || isSet(m.path("BindOptions").path("CreateMountpoint"))) {
            throw ApiError.badRequest("HostConfig.Mounts: BindOptions.NonRecursive and CreateMountpoint are not"
                    + " supported by Hull");
        }
        String driver = m.path("VolumeOptions").path("DriverConfig").path("Name").asText("");
        if (!driver.isEmpty() && !driver.equals("local")) {
            throw ApiError.badRequest("HostConfig.Mounts: volume driver " + driver + " is not supported by Hull");
        }
        JsonNode tmpfs = m.path("TmpfsOptions");
        MountFlag flag = new MountFlag(m.path("Type").asText("").toLowerCase(java.util.Locale.ROOT),
                m.path("Source").asText(""), m.path("Target").asText(""), m.path("ReadOnly").asBoolean(),
                emptyToNull(m.path("BindOptions").path("Propagation").asText("")),
                m.path("VolumeOptions").path("NoCopy").asBoolean(),
                tmpfs.path("SizeBytes").asLong(0) > 0 ? tmpfs.path("SizeBytes").asLong() : null,
                tmpfs.path("Mode").asInt(0) != 0 ? tmpfs.path("Mode").asInt() : null);
        try {
            flag.addTo(o);
        } catch (RuntimeError e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /** BlkioWeight and the Blkio* device lists ({Path, Weight} / {Path, Rate}) as docker's flags give them. */
    private static void blockIo(CreateOptions o, JsonNode hc) {
        o.blkioWeight = hc.path("BlkioWeight").isNumber() ? hc.path("BlkioWeight").asInt() : null;
        for (JsonNode d : hc.path("BlkioWeightDevice")) {
            o.blkioWeightDevices.add(d.path("Path").asText("") + ":" + d.path("Weight").asText(""));
        }
        List<List<String>> lists = List.of(o.deviceReadBps, o.deviceWriteBps, o.deviceReadIops, o.deviceWriteIops);
        List<String> fields = List.of("BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                "BlkioDeviceWriteIOps");
        for (int i = 0; i < fields.size(); i++) {
            for (JsonNode d : hc.path(fields.get(i))) {
                lists.get(i).add(d.path("Path").asText("") + ":" + d.path("Rate").asText(""));
            }
        }
    }

    /** Sysctls, OomScoreAdj, ShmSize, GroupAdd, CpusetMems, MemoryReservation and StorageOpt, as the flags of their names. */
    private static void kernelTunables(CreateOptions o, JsonNode hc) throws ApiError {
        for (var e : hc.path("Sysctls").properties()) {
            o.sysctls.put(e.getKey(), e.getValue().asText());
        }
        if (hc.path("OomScoreAdj").asInt(0) != 0) {
            o.oomScoreAdj = hc.path("OomScoreAdj").asInt();
        }
        if (hc.path("ShmSize").asLong(0) > 0) {
            o.shmSize = hc.path("ShmSize").asLong();
        }
        o.groupAdd = new ArrayList<>(strings(hc.path("GroupAdd"), "HostConfig.GroupAdd"));
        o.cpusetMems = emptyToNull(hc.path("CpusetMems").asText(""));
        if (hc.path("MemoryReservation").asLong(0) > 0) {
            o.memoryReservation = hc.path("MemoryReservation").asLong();
        }
        for (var e : hc.path("StorageOpt").properties()) {
            if (!e.getKey().equals("size")) {
                throw ApiError.badRequest("HostConfig.StorageOpt " + e.getKey() + " is not supported by Hull (size is)");
            }
            o.storageOpts.add("size=" + e.getValue().asText());
        }
    }

    /**
     * OomKillDisable, MemorySwappiness (null or -1: unset), Annotations, and MaskedPaths/ReadonlyPaths (a
     * list, even empty as the docker CLI's systempaths=unconfined sends, replaces the defaults; null keeps them).
     */
    private static void memoryAndSpec(CreateOptions o, JsonNode hc) throws ApiError {
        JsonNode oom = hc.path("OomKillDisable");
        if (!oom.isMissingNode() && !oom.isNull() && !oom.isBoolean()) {
            throw ApiError.badRequest("HostConfig.OomKillDisable: expected true or false");
        }
        o.oomKillDisable = oom.asBoolean(false) ? Boolean.TRUE : null;
        JsonNode sw = hc.path("MemorySwappiness");
        if (!sw.isMissingNode() && !sw.isNull()) {
            if (!sw.isIntegralNumber()) {
                throw ApiError.badRequest("HostConfig.MemorySwappiness: expected a number from 0 to 100, or -1");
            }
            o.memorySwappiness = sw.asLong() == -1 ? null : sw.asLong();
        }
        JsonNode ann = hc.path("Annotations");
        if (!ann.isMissingNode() && !ann.isNull() && !ann.isObject()) {
            throw ApiError.badRequest("HostConfig.Annotations: expected an object of strings");
        }
        ann.properties().forEach(e -> o.annotations.put(e.getKey(), e.getValue().asText()));
        for (String f : List.of("MaskedPaths", "ReadonlyPaths")) {
            JsonNode v = hc.path(f);
            if (v.isArray()) {
                List<String> paths = new ArrayList<>(strings(v, "HostConfig." + f));
                if (f.equals("MaskedPaths")) {
                    o.maskedPaths = paths;
                } else {
                    o.readonlyPaths = paths;
                }
            } else if (!v.isMissingNode() && !v.isNull()) {
                throw ApiError.badRequest("HostConfig." + f + ": expected a list of paths");
            }
        }
    }

    /**
     * DeviceRequests as the docker CLI sends them: Driver "cdi" with CDI names (--device
     * vendor.com/class=name), or GPUs (--gpus: Driver "" or "nvidia", Count -1 for all, a count, or
     * DeviceIDs), which Hull gives through CDI's nvidia.com/gpu devices.
     */
    private static void deviceRequests(CreateOptions o, JsonNode requests) throws ApiError {
        for (JsonNode r : requests) {
            String driver = r.path("Driver").asText("");
            List<String> ids = strings(r.path("DeviceIDs"), "HostConfig.DeviceRequests.DeviceIDs");
            if (driver.equals("cdi")) {
                for (String id : ids) {
                    if (!dev.hull.engine.CdiDevices.isQualifiedName(id)) {
                        throw ApiError.badRequest("HostConfig.DeviceRequests: " + id + " is not a CDI device name"
                                + " (vendor.com/class=name)");
                    }
                    o.devices.add(id);
                }
            } else if (driver.isEmpty() || driver.equals("nvidia")) {
                int count = r.path("Count").asInt(0);
                if (!ids.isEmpty() && count != 0) {
                    throw ApiError.badRequest("HostConfig.DeviceRequests: cannot set both Count and DeviceIDs");
                }
                if (!ids.isEmpty()) {
                    o.gpus = "\"device=" + String.join(",", ids) + "\"";
                } else if (count < 0) {
                    o.gpus = "all";
                } else if (count > 0) {
                    o.gpus = Integer.toString(count);
                } else {
                    throw ApiError.badRequest("HostConfig.DeviceRequests: a GPU request needs Count or DeviceIDs");
                }
            } else {
                throw ApiError.badRequest("HostConfig.DeviceRequests: driver " + driver + " is not supported by Hull"
                        + " (cdi, or nvidia for GPUs through CDI)");
            }
        }
    }

    /**
     * HostConfig.UsernsMode as {@link CreateOptions#userns}: dockerd's "" and host (the host's ids), and of
     * podman's compat API's modes those Hull has: auto[:size=N] and private (a user namespace of its own,
     * Hull's auto). The rest (keep-id, nomap, ns:PATH, container:ID, ...) is refused naming the value.
     */
    static String userns(String mode) throws ApiError {
        if (mode.isEmpty() || mode.equals("host")) {
            return null;
        }
        if (mode.equals("private")) {
            return "auto";
        }
        if (mode.equals("auto") || mode.startsWith("auto:")) {
            return mode; // its options are checked by the engine (a 400 naming them)
        }
        throw ApiError.badRequest("HostConfig.UsernsMode " + mode + " is not supported by Hull: use host (the"
                + " default), auto[:size=N] or private (a user namespace of its own)");
    }

    /** PidMode, IpcMode, UTSMode, CgroupnsMode, Devices, DeviceCgroupRules and VolumesFrom, as the flags of their names. */
    private static void namespacesAndDevices(CreateOptions o, JsonNode hc) throws ApiError {
        o.pid = emptyToNull(hc.path("PidMode").asText(""));
        o.ipc = emptyToNull(hc.path("IpcMode").asText(""));
        if ("default".equals(o.ipc)) {
            o.ipc = null;
        }
        o.uts = emptyToNull(hc.path("UTSMode").asText(""));
        o.cgroupns = "host".equals(hc.path("CgroupnsMode").asText("")) ? "host" : null;
        for (JsonNode d : hc.path("Devices")) {
            String host = d.path("PathOnHost").asText("");
            String ctr = d.path("PathInContainer").asText("");
            String perms = d.path("CgroupPermissions").asText("");
            if (dev.hull.engine.CdiDevices.isQualifiedName(host)) { // a docker 20.10 client's --device vendor.com/class=name
                o.devices.add(host);
                continue;
            }
            o.devices.add(host + ":" + (ctr.isEmpty() ? host : ctr) + ":" + (perms.isEmpty() ? "rwm" : perms));
        }
        deviceRequests(o, hc.path("DeviceRequests"));
        o.deviceCgroupRules = new ArrayList<>(strings(hc.path("DeviceCgroupRules"), "HostConfig.DeviceCgroupRules"));
        o.volumesFrom = new ArrayList<>(strings(hc.path("VolumesFrom"), "HostConfig.VolumesFrom"));
        o.cgroupParent = emptyToNull(hc.path("CgroupParent").asText(""));
    }

    private static void refuse(JsonNode n, String prefix, String... fields) throws ApiError {
        for (String f : fields) {
            if (isSet(n.path(f))) {
                throw ApiError.badRequest(prefix + f + " is not supported by Hull");
            }
        }
    }

    /** A value that asks for something: not null, 0, false, "", [] or {}. */
    static boolean isSet(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return false;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isNumber()) {
            return v.asDouble() != 0;
        }
        if (v.isTextual()) {
            return !v.asText().isEmpty();
        }
        if (v.isContainerNode()) {
            if (v.isEmpty()) {
                return false;
            }
            for (JsonNode c : v) {
                if (isSet(c)) {
                    return true;
                }
            }
            return false;
        }
        return true;
    }

    static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isNull() || v.isMissingNode() ? null : v.asText();
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** A list of strings (dockerd also takes a single string for Cmd and Entrypoint). */
    static List<String> strings(JsonNode n, String what) throws ApiError {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return List.of();
        }
        if (n.isTextual()) {
            return List.of(n.asText());
        }
        if (!n.isArray()) {
            throw ApiError.badRequest(what + ": expected a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode v : n) {
            out.add(v.asText());
        }
        return out;
    }
}
