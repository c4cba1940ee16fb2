package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.Annotations;

/**
 * What systemd as PID 1 needs from its container (podman's --systemd=always and LXC's rules, see
 * systemd's "Container Interface"): {@code container=hull} and {@code container_uuid} (systemd's
 * machine id when /etc/machine-id is empty) in its environment; tmpfs on /run, /run/lock and /tmp;
 * its own cgroup subtree writable in a cgroup namespace (v1/hybrid: the named systemd hierarchy
 * and the cgroup2 one, the controllers' read-only; v2: the whole mount, whose namespace root the
 * kernel's nsdelegate keeps read-only); a terminal, which the runtime binds on /dev/console.
 */
final class SystemdSpec {
    /** The value of {@code container=} in PID 1's environment, for systemd-detect-virt. */
    static final String CONTAINER = "hull";

    private SystemdSpec() {}

    static void apply(ObjectNode spec, String id) {
        ObjectNode process = (ObjectNode) spec.get("process");
        ArrayNode env = (ArrayNode) process.get("env");
        env.add("container=" + CONTAINER);
        env.add("container_uuid=" + id.substring(0, 32));
        ArrayNode mounts = (ArrayNode) spec.get("mounts");
        tmpfs(mounts, "/run", "mode=755");
        tmpfs(mounts, "/run/lock", "mode=1777", "noexec", "size=5m");
        tmpfs(mounts, "/tmp", "mode=1777");
        boolean cgroupNs = false;
        for (JsonNode n : spec.path("linux").path("namespaces")) {
            cgroupNs |= n.path("type").asText().equals("cgroup");
        }
        if (!cgroupNs) {
            ((ArrayNode) spec.path("linux").path("namespaces")).addObject().put("type", "cgroup");
        }
        ObjectNode ann = spec.has("annotations") ? (ObjectNode) spec.get("annotations") : spec.putObject("annotations");
        ann.put(Annotations.CGROUP_WRITABLE, "systemd,unified");
    }

    private static void tmpfs(ArrayNode mounts, String dest, String... extra) {
        ObjectNode m = mounts.addObject();
        m.put("destination", dest);
        m.put("type", "tmpfs");
        m.put("source", "tmpfs");
        ArrayNode opts = m.putArray("options");
        opts.add("nosuid");
        opts.add("nodev");
        opts.add("strictatime");
        for (String e : extra) {
            opts.add(e);
        }
    }
}
