package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

/** In-process helpers: run a bundle in the foreground with {@link ContainerRuntime} and collect its output. */
final class ContainerTests {
    private ContainerTests() {}

    /** Runs the bundle in the foreground; returns the container's exit code. */
    static int run(ContainerRuntime rt, Bundles.Bundle b, String idPrefix) throws Exception {
        b.write();
        return rt.run(Bundles.id(idPrefix), b.dir, null, false, null);
    }

    /** Runs a script in the bundle, asserts it exits 0, and returns its stdout. */
    static String output(ContainerRuntime rt, Bundles.Bundle b, String script) throws Exception {
        b.script(script);
        int code = run(rt, b, "t");
        assertThat(code).as("exit code of [%s]; stdout:%n%s%nstderr:%n%s", script, read(b, "stdout"),
                read(b, "stderr")).isZero();
        return b.stdout();
    }

    static String read(Bundles.Bundle b, String name) {
        try {
            return java.nio.file.Files.readString(b.out.resolve(name));
        } catch (java.io.IOException e) {
            return "(none)";
        }
    }

    static Path root(Path base) {
        return base.resolve("state");
    }
}
