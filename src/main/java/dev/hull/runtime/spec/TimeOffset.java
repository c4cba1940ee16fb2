package dev.hull.runtime.spec;

/** One {@code linux.timeOffsets} value. */
public record TimeOffset(long secs, long nanosecs) {}
