package dev.hull.runtime.spec;

import java.util.List;

/** {@code process.capabilities}; an absent set is an empty list. */
public record Capabilities(
        List<String> bounding,
        List<String> effective,
        List<String> inheritable,
        List<String> permitted,
        List<String> ambient) {
    public Capabilities {
        bounding = List.copyOf(bounding);
        effective = List.copyOf(effective);
        inheritable = List.copyOf(inheritable);
        permitted = List.copyOf(permitted);
        ambient = List.copyOf(ambient);
    }
}
