package dev.hull.runtime.spec;

/** {@code root}: the container's root filesystem, relative to the bundle or absolute. */
public record Root(String path, boolean readonly) {}
