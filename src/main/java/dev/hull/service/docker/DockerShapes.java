package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * The keys dockerd's answers have that Hull's engine leaves out, added with the value they have on
 * Hull (most are dockerd's zero values for what Hull does not do: blkio weights, realtime CPU
 * shares, IPv6, swarm...), so that clients that index into them (Go templates of {@code docker
 * inspect -f}, Testcontainers, compose) find them. What is added and what is left out on purpose
 * is checked against a private dockerd by DockerJsonShapeTest.
 */
final class DockerShapes {
    private DockerShapes() {}

    /** GET /containers/{id}/json. */
    static ObjectNode container(ObjectNode n) {
        ObjectNode c = obj(n, "Config");
        zero(c, "Domainname", "");
        zero(c, "AttachStdout", false);
        zero(c, "AttachStderr", false);
        zero(c, "OnBuild", null);
        zero(c, "Volumes", null);
        ObjectNode hc = obj(n, "HostConfig");
        for (String k : new String[] {"BlkioWeight", "CpuCount", "CpuPercent", "CpuRealtimePeriod", "CpuRealtimeRuntime",
            "IOMaximumBandwidth", "IOMaximumIOps", "KernelMemory", "KernelMemoryTCP"}) {
            zero(hc, k, 0);
        }
        for (String k : new String[] {"BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceReadIOps",
            "BlkioDeviceWriteBps", "BlkioDeviceWriteIOps", "DeviceRequests", "Links", "MemorySwappiness"}) {
            zero(hc, k, null);
        }
        for (String k : new String[] {"Cgroup", "ContainerIDFile", "Isolation", "UsernsMode", "VolumeDriver"}) {
            zero(hc, k, "");
        }
        zero(hc, "CgroupnsMode", "private");
        zero(hc, "OomKillDisable", false);
        zero(hc, "Runtime", "hull");
        if (!hc.has("ConsoleSize")) {
            hc.putArray("ConsoleSize").add(0).add(0);
        }
        JsonNode spec = spec(n);
        if (!hc.has("MaskedPaths")) {
            hc.set("MaskedPaths", spec.path("linux").path("maskedPaths").isArray()
                    ? spec.path("linux").path("maskedPaths").deepCopy() : null);
        }
        if (!hc.has("ReadonlyPaths")) {
            hc.set("ReadonlyPaths", spec.path("linux").path("readonlyPaths").isArray()
                    ? spec.path("linux").path("readonlyPaths").deepCopy() : null);
        }
        ObjectNode ns = obj(n, "NetworkSettings");
        for (String k : new String[] {"Bridge", "SandboxID", "EndpointID", "GlobalIPv6Address", "IPv6Gateway",
            "LinkLocalIPv6Address"}) {
            zero(ns, k, "");
        }
        zero(ns, "HairpinMode", false);
        zero(ns, "GlobalIPv6PrefixLen", 0);
        zero(ns, "LinkLocalIPv6PrefixLen", 0);
        zero(ns, "SecondaryIPAddresses", null);
        zero(ns, "SecondaryIPv6Addresses", null);
        networks(obj(ns, "Networks"), hc.path("NetworkMode").asText(""));
        graphDriver(n, spec);
        return n;
    }

    /** The container's config.json (its bundle is Hull.Bundle); empty if unreadable. */
    private static JsonNode spec(ObjectNode n) {
        String bundle = n.path("Hull").path("Bundle").asText("");
        try {
            return bundle.isEmpty() ? Exchange.JSON.createObjectNode()
                    : Exchange.JSON.readTree(Files.readAllBytes(Path.of(bundle, "config.json")));
        } catch (java.io.IOException | RuntimeException e) {
            return Exchange.JSON.createObjectNode();
        }
    }

    /** A GET /containers/json entry. */
    static ObjectNode listedContainer(ObjectNode n) {
        networks(obj(obj(n, "NetworkSettings"), "Networks"), n.path("HostConfig").path("NetworkMode").asText(""));
        return n;
    }

    /**
     * Every endpoint with dockerd's keys; a container on the host's or no network has that
     * pseudo-network's entry, as dockerd gives it.
     */
    private static void networks(ObjectNode nets, String mode) {
        if (nets.isEmpty() && (mode.equals("none") || mode.equals("host"))) {
            ObjectNode x = nets.putObject(mode);
            x.put("NetworkID", dev.hull.engine.NetworkInspector.pseudoId(mode));
            x.put("Gateway", "");
            x.put("IPAddress", "");
            x.put("IPPrefixLen", 0);
            x.put("MacAddress", "");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = nets.fields(); it.hasNext();) {
            if (!(it.next().getValue() instanceof ObjectNode ep)) {
                continue;
            }
            zero(ep, "IPAMConfig", null);
            zero(ep, "Links", null);
            zero(ep, "Aliases", null);
            zero(ep, "DriverOpts", null);
            zero(ep, "EndpointID", "");
            zero(ep, "IPv6Gateway", "");
            zero(ep, "GlobalIPv6Address", "");
            zero(ep, "GlobalIPv6PrefixLen", 0);
        }
    }

    /** A container's GraphDriver, from its bundle (overlay: its lower, upper, work and merged directories). */
    private static void graphDriver(ObjectNode n, JsonNode spec) {
        if (n.has("GraphDriver")) {
            return;
        }
        ObjectNode gd = n.putObject("GraphDriver");
        String driver = n.path("Driver").asText("");
        gd.put("Name", driver.equals("overlay") ? "overlay2" : driver);
        ObjectNode data = gd.putObject("Data");
        String bundle = n.path("Hull").path("Bundle").asText("");
        String overlay = spec.path("annotations").path(dev.hull.runtime.Annotations.ROOTFS_OVERLAY).asText("");
        if (!overlay.isEmpty() && !bundle.isEmpty()) {
            for (String opt : overlay.split(",")) {
                int eq = opt.indexOf('=');
                String key = eq < 0 ? opt : opt.substring(0, eq);
                switch (key) {
                    case "lowerdir" -> data.put("LowerDir", opt.substring(eq + 1));
                    case "upperdir" -> data.put("UpperDir", opt.substring(eq + 1));
                    case "workdir" -> data.put("WorkDir", opt.substring(eq + 1));
                    default -> { }
                }
            }
            data.put("MergedDir", Path.of(bundle, "rootfs").toString());
        }
    }

    /** GET /images/{name}/json; Container and ContainerConfig before API 1.45, VirtualSize before 1.44. */
    static ObjectNode image(ObjectNode n, String version) {
        ObjectNode c = obj(n, "Config");
        imageConfig(c);
        if (Router.compare(version, "1.45") < 0) {
            zero(n, "Container", "");
            if (!n.has("ContainerConfig")) {
                ObjectNode cc = n.putObject("ContainerConfig");
                imageConfig(cc);
                cc.putArray("Env");
                cc.putArray("Cmd");
                cc.putObject("Labels");
            }
        }
        if (Router.compare(version, "1.44") < 0) {
            zero(n, "VirtualSize", n.path("Size").asLong());
        }
        return n;
    }

    /** An image's config as dockerd shows it: a container config, every field there. */
    private static void imageConfig(ObjectNode c) {
        for (String k : new String[] {"Hostname", "Domainname", "User", "Image", "WorkingDir"}) {
            zero(c, k, "");
        }
        for (String k : new String[] {"AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"}) {
            zero(c, k, false);
        }
        for (String k : new String[] {"Entrypoint", "OnBuild", "Volumes", "Labels", "Cmd", "Env"}) {
            zero(c, k, null);
        }
    }

    /** A GET /images/json entry: VirtualSize before API 1.44. */
    static ObjectNode imageSummary(ObjectNode n, String version) {
        if (Router.compare(version, "1.44") < 0) {
            zero(n, "VirtualSize", n.path("Size").asLong());
        }
        return n;
    }

    /** GET /networks/{id}. */
    static ObjectNode network(ObjectNode n) {
        zero(n, "ConfigOnly", false);
        if (!n.has("ConfigFrom")) {
            n.putObject("ConfigFrom").put("Network", "");
        }
        return n;
    }

    /** GET /info. */
    static ObjectNode info(ObjectNode n) {
        zero(n, "BridgeNfIptables", sysctl("net/bridge/bridge-nf-call-iptables"));
        zero(n, "BridgeNfIp6tables", sysctl("net/bridge/bridge-nf-call-ip6tables"));
        zero(n, "KernelMemory", false);
        zero(n, "KernelMemoryTCP", false);
        zero(n, "GenericResources", null);
        zero(n, "HttpProxy", env("HTTP_PROXY"));
        zero(n, "HttpsProxy", env("HTTPS_PROXY"));
        zero(n, "NoProxy", env("NO_PROXY"));
        zero(n, "OSVersion", osVersion());
        String build = dev.hull.service.BuildInfo.id();
        for (String k : new String[] {"RuncCommit", "InitCommit"}) { // Hull's executor and its init are its runtime
            if (!n.has(k)) {
                n.putObject(k).put("ID", build).put("Expected", build);
            }
        }
        ObjectNode reg = obj(n, "RegistryConfig");
        zero(reg, "AllowNondistributableArtifactsCIDRs", null);
        zero(reg, "AllowNondistributableArtifactsHostnames", null);
        if (!reg.has("Mirrors")) {
            reg.putArray("Mirrors");
        }
        ObjectNode index = obj(reg, "IndexConfigs");
        if (index.isEmpty()) {
            ObjectNode hub = index.putObject("docker.io");
            hub.put("Name", "docker.io");
            hub.putArray("Mirrors");
            hub.put("Secure", true);
            hub.put("Official", true);
        }
        zero(obj(n, "Plugins"), "Authorization", null); // no authorization plugins
        ObjectNode swarm = obj(n, "Swarm");
        zero(swarm, "ControlAvailable", false);
        zero(swarm, "Error", "");
        zero(swarm, "RemoteManagers", null);
        return n;
    }

    private static boolean sysctl(String name) {
        try {
            return Files.readString(Path.of("/proc/sys").resolve(name)).strip().equals("1");
        } catch (java.io.IOException e) {
            return false; // no br_netfilter loaded: no such setting
        }
    }

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null) {
            v = System.getenv(name.toLowerCase(java.util.Locale.ROOT));
        }
        return v == null ? "" : v;
    }

    /** VERSION_ID of the host's os-release, as dockerd reports it. */
    private static String osVersion() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (line.startsWith("VERSION_ID=")) {
                    return line.substring("VERSION_ID=".length()).replace("\"", "");
                }
            }
        } catch (java.io.IOException e) {
            // none
        }
        return "";
    }

    private static ObjectNode obj(ObjectNode n, String key) {
        return n.get(key) instanceof ObjectNode o ? o : n.putObject(key);
    }

    /** Puts key with its zero value (null, a string, a boolean, a number) unless it is there. */
    private static void zero(ObjectNode n, String key, Object value) {
        if (n.has(key)) {
            return;
        }
        switch (value) {
            case null -> n.putNull(key);
            case String s -> n.put(key, s);
            case Boolean b -> n.put(key, b);
            case Integer i -> n.put(key, i);
            case Long l -> n.put(key, l);
            default -> throw new IllegalArgumentException(key);
        }
    }
}
