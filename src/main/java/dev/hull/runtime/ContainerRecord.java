package dev.hull.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the runtime remembers about a container between CLI invocations
 * (state.json in the container's state directory).
 *
 * @param startTime the init's start time in clock ticks since boot (field 22 of /proc/PID/stat),
 *                  to tell the init from a later process that reused its pid
 */
public record ContainerRecord(String id, int pid, long startTime, String bundle, String rootfs, String created,
        String ociVersion, String cgroupPath, List<String> cgroupDirs, Map<String, String> annotations) {

    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("id", id);
        n.put("pid", pid);
        n.put("startTime", startTime);
        n.put("bundle", bundle);
        n.put("rootfs", rootfs);
        n.put("created", created);
        n.put("ociVersion", ociVersion);
        n.put("cgroupPath", cgroupPath);
        var dirs = n.putArray("cgroupDirs");
        cgroupDirs.forEach(dirs::add);
        var ann = n.putObject("annotations");
        annotations.forEach(ann::put);
        return n;
    }

    public static ContainerRecord fromJson(JsonNode n) {
        List<String> dirs = new ArrayList<>();
        n.path("cgroupDirs").forEach(d -> dirs.add(d.asText()));
        Map<String, String> ann = new LinkedHashMap<>();
        n.path("annotations").properties().forEach(e -> ann.put(e.getKey(), e.getValue().asText()));
        return new ContainerRecord(n.path("id").asText(), n.path("pid").asInt(), n.path("startTime").asLong(),
                n.path("bundle").asText(), n.path("rootfs").asText(), n.path("created").asText(),
                n.path("ociVersion").asText(), n.path("cgroupPath").asText(), List.copyOf(dirs), Map.copyOf(ann));
    }
}
