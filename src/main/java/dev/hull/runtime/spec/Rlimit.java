package dev.hull.runtime.spec;

/**
 * One {@code process.rlimits} entry. {@code hard} and {@code soft} are uint64 values held in a
 * long with unsigned semantics: RLIM_INFINITY (2^64-1) is {@code -1L}, which is exactly what
 * setrlimit(2)/prlimit(2) expect. Use {@link Long#toUnsignedString(long)} to print them.
 */
public record Rlimit(String type, long hard, long soft) {}
