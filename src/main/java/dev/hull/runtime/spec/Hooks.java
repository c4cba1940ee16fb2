package dev.hull.runtime.spec;

import java.util.List;

/** {@code hooks}; an absent phase is an empty list. */
public record Hooks(
        List<Hook> prestart,
        List<Hook> createRuntime,
        List<Hook> createContainer,
        List<Hook> startContainer,
        List<Hook> poststart,
        List<Hook> poststop) {
    public Hooks {
        prestart = List.copyOf(prestart);
        createRuntime = List.copyOf(createRuntime);
        createContainer = List.copyOf(createContainer);
        startContainer = List.copyOf(startContainer);
        poststart = List.copyOf(poststart);
        poststop = List.copyOf(poststop);
    }
}
