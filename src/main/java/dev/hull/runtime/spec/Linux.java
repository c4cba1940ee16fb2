package dev.hull.runtime.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code linux}. {@code resources} and {@code seccomp} are kept as (shape-validated) raw JSON, null
 * when absent; {@code cgroupsPath}, {@code rootfsPropagation}, {@code mountLabel},
 * {@code personalityDomain} are null when absent. {@code raw} is the linux object as read.
 */
public record Linux(
        List<Namespace> namespaces,
        List<IdMapping> uidMappings,
        List<IdMapping> gidMappings,
        Map<String, TimeOffset> timeOffsets,
        List<Device> devices,
        String cgroupsPath,
        JsonNode resources,
        String rootfsPropagation,
        Map<String, String> sysctl,
        List<String> maskedPaths,
        List<String> readonlyPaths,
        String mountLabel,
        JsonNode seccomp,
        String personalityDomain,
        JsonNode raw) {
    public Linux {
        namespaces = List.copyOf(namespaces);
        uidMappings = List.copyOf(uidMappings);
        gidMappings = List.copyOf(gidMappings);
        timeOffsets = Map.copyOf(timeOffsets);
        devices = List.copyOf(devices);
        sysctl = Map.copyOf(sysctl);
        maskedPaths = List.copyOf(maskedPaths);
        readonlyPaths = List.copyOf(readonlyPaths);
    }

    /** The namespace entry of the given spec type ("pid", "user", ...), if configured. */
    public Optional<Namespace> namespace(String type) {
        for (Namespace ns : namespaces) {
            if (ns.type().equals(type)) {
                return Optional.of(ns);
            }
        }
        return Optional.empty();
    }
}
