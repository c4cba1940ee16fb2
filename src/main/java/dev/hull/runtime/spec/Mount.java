package dev.hull.runtime.spec;

import java.util.List;

/** One {@code mounts} entry. {@code type} and {@code source} may be null. */
public record Mount(
        String destination,
        String type,
        String source,
        List<String> options,
        List<IdMapping> uidMappings,
        List<IdMapping> gidMappings) {
    public Mount {
        options = List.copyOf(options);
        uidMappings = List.copyOf(uidMappings);
        gidMappings = List.copyOf(gidMappings);
    }
}
