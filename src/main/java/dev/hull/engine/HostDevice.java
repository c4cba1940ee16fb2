package dev.hull.engine;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A device node on the host as a container gets it: its type ("c" or "b"), numbers, mode and owner,
 * written into the OCI config as a node in the container's /dev and a rule of its device cgroup.
 *
 * @param type  "c" or "b"
 * @param mode  the permission bits (0777 of st_mode)
 */
record HostDevice(String type, long major, long minor, int mode, int uid, int gid) {

    /** The node at p (symlinks followed); null when p is not a character or block device. */
    static HostDevice stat(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,rdev,uid,gid");
        int m = (Integer) a.get("mode");
        String type = (m & 0170000) == 0020000 ? "c" : (m & 0170000) == 0060000 ? "b" : null;
        if (type == null) {
            return null;
        }
        long rdev = (Long) a.get("rdev");
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        return new HostDevice(type, major, minor, m & 0777, (Integer) a.get("uid"), (Integer) a.get("gid"));
    }

    /**
     * The node at path in linux.devices (replacing one already there) and allowed with perms in the
     * cgroup; empty perms: no rule (the node is there, its access refused).
     */
    void addTo(String path, String perms, ArrayNode devices, ArrayNode rules) {
        for (int i = devices.size() - 1; i >= 0; i--) {
            if (devices.get(i).path("path").asText().equals(path)) {
                devices.remove(i);
            }
        }
        ObjectNode d = devices.addObject();
        d.put("path", path);
        d.put("type", type);
        d.put("major", major);
        d.put("minor", minor);
        d.put("fileMode", mode);
        d.put("uid", uid);
        d.put("gid", gid);
        if (perms.isEmpty()) {
            return;
        }
        ObjectNode rule = rules.addObject();
        rule.put("allow", true);
        rule.put("type", type);
        rule.put("major", major);
        rule.put("minor", minor);
        rule.put("access", perms);
    }
}
