package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/** Which containers use which volumes and images, for the {@link Engine}'s rm and prune of those. */
final class ContainerUsage {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ContainerStore containers;
    private final VolumeStore volumes;

    ContainerUsage(Engine engine) {
        this.containers = engine.containers();
        this.volumes = engine.volumes();
    }

    /**
     * Container ids per volume name, for volume rm and prune: the named volumes in each container's
     * mounts (config.json, bind mounts of HULL_HOME/volumes/NAME/_data) and -v options.
     */
    java.util.Map<String, List<String>> volumesInUse() throws IOException {
        java.util.Map<String, List<String>> out = new java.util.HashMap<>();
        String prefix = volumes.root() + "/";
        for (ContainerInfo info : containers.list()) {
            java.util.Set<String> names = new java.util.LinkedHashSet<>();
            if (info.options() != null) {
                for (String v : info.options().volumes) {
                    int colon = v.indexOf(':');
                    if (colon > 0 && !v.startsWith("/") && !v.startsWith(".")) {
                        names.add(v.substring(0, colon));
                    }
                }
            }
            try {
                var spec = JSON.readTree(Files.readAllBytes(containers.dir(info.id()).resolve("config.json")));
                for (var m : spec.path("mounts")) {
                    String src = m.path("source").asText();
                    if (m.path("type").asText().equals("bind") && src.startsWith(prefix)) {
                        String rest = src.substring(prefix.length());
                        int slash = rest.indexOf('/');
                        names.add(slash < 0 ? rest : rest.substring(0, slash));
                    }
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // being removed
            }
            for (String n : names) {
                out.computeIfAbsent(n, k -> new ArrayList<>()).add(info.id());
            }
        }
        return out;
    }

    /** Containers (their names) per image id, for rmi and prune. */
    java.util.Map<String, List<String>> imagesInUse() throws IOException {
        java.util.Map<String, List<String>> out = new java.util.HashMap<>();
        for (ContainerInfo info : containers.list()) {
            out.computeIfAbsent(info.imageId(), k -> new ArrayList<>()).add(info.name());
        }
        return out;
    }
}
