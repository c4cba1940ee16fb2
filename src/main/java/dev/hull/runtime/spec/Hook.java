package dev.hull.runtime.spec;

import java.util.List;

/** One hook. {@code timeout} (seconds, >= 1) is null when absent. */
public record Hook(String path, List<String> args, List<String> env, Integer timeout) {
    public Hook {
        args = List.copyOf(args);
        env = List.copyOf(env);
    }
}
