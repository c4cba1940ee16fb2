package dev.hull.runtime.spec;

/** {@code process.consoleSize}, in characters. */
public record ConsoleSize(int height, int width) {}
