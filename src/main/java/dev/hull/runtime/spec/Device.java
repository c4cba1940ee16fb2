package dev.hull.runtime.spec;

/**
 * One {@code linux.devices} entry. {@code type} is one of c, b, u, p; {@code major}/{@code minor}
 * are 0 when absent (FIFOs); {@code fileMode}, {@code uid}, {@code gid} are null when absent.
 */
public record Device(String type, String path, long major, long minor, Integer fileMode, Long uid, Long gid) {}
