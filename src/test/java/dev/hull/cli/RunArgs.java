package dev.hull.cli;

import dev.hull.engine.CreateOptions;

/** For tests outside this package: {@code hull run ARGS} parsed by the real command line (see {@link Flags#parse}). */
public final class RunArgs {
    private RunArgs() {}

    public static CreateOptions parse(String... args) throws Exception {
        return Flags.parse(args);
    }
}
