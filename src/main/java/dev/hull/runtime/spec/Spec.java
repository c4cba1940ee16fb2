package dev.hull.runtime.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * A parsed OCI runtime-spec {@code config.json}. Nullable components: process, root, hostname,
 * domainname, linux, hooks. {@code raw} is the whole document as read (unknown fields included).
 */
public record Spec(
        String ociVersion,
        Process process,
        Root root,
        String hostname,
        String domainname,
        List<Mount> mounts,
        Linux linux,
        Hooks hooks,
        Map<String, String> annotations,
        JsonNode raw) {
    public Spec {
        mounts = List.copyOf(mounts);
        annotations = Map.copyOf(annotations);
    }
}
