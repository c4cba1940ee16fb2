package dev.hull.runtime.spec;

/** A uid/gid mapping; every field is a uint32 held in a long. */
public record IdMapping(long containerID, long hostID, long size) {}
