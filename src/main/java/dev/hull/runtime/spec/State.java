package dev.hull.runtime.spec;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;

/** The OCI state of a container, as printed by {@code state} and passed to hooks on stdin. */
public record State(String ociVersion, String id, String status, int pid, String bundle, Map<String, String> annotations) {
    public State {
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /**
     * The state-schema.json document. {@code pid} is omitted when the status is "stopped" or the pid
     * is not positive; {@code annotations} is omitted when empty (annotations are sorted by key).
     */
    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("ociVersion", ociVersion);
        n.put("id", id);
        n.put("status", status);
        if (pid > 0 && !"stopped".equals(status)) {
            n.put("pid", pid);
        }
        n.put("bundle", bundle);
        if (!annotations.isEmpty()) {
            ObjectNode a = n.putObject("annotations");
            new TreeMap<>(annotations).forEach(a::put);
        }
        return n;
    }
}
