package dev.hull.runtime.spec;

/**
 * One {@code linux.namespaces} entry. {@code type} is the spec's name (pid, network, mount, ipc,
 * uts, user, cgroup, time); {@code path} (null = create a new namespace) is the namespace file to join.
 */
public record Namespace(String type, String path) {}
