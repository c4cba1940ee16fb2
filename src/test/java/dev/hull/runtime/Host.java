package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.testing.OwnedMounts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** Runs the hull-runtime CLI as a subprocess, and looks at the host for what containers leave behind. */
final class Host {
    static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    private Host() {}

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    static List<String> cliCommand(Path root, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                "--enable-native-access=ALL-UNNAMED", "-Dhull.program=hull-runtime",
                "-Dhull.executor=" + System.getProperty("hull.executor"),
                "-cp", System.getProperty("java.class.path"), "dev.hull.cli.Main", "--root", root.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs hull-runtime with the given arguments and waits (generously) for it. */
    static Result cli(Path root, Path cwd, String... args) {
        try {
            Path outFile = Files.createTempFile("hull-rt-cli-", ".out");
            Path errFile = Files.createTempFile("hull-rt-cli-", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(cliCommand(root, args))
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .redirectOutput(outFile.toFile()).redirectError(errFile.toFile());
                if (cwd != null) {
                    pb.directory(cwd.toFile());
                }
                Process p = pb.start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("hull-runtime " + String.join(" ", args) + " did not finish in 120 s");
                }
                return new Result(p.exitValue(), Files.readString(outFile), Files.readString(errFile));
            } finally {
                Files.deleteIfExists(outFile);
                Files.deleteIfExists(errFile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Asserts the CLI call succeeded; the message shows its exit code and output. */
    static void ok(Result r) {
        assertThat(r.exit()).as("%s", r).isZero();
    }

    static Result cli(Path root, String... args) {
        return cli(root, null, args);
    }

    /** Waits (up to 30 s) for a condition; returns whether it held. Never asserts on timing. */
    static boolean await(BooleanSupplier cond) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return cond.getAsBoolean();
            }
        }
        return true;
    }

    /** Mount points of the host (this process's mount namespace). */
    static Set<String> mountPoints() {
        try {
            Set<String> out = new HashSet<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                out.add(line.split(" ")[4]);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The cgroup directories a container with this id would have, existing or not, on every hierarchy. */
    static List<Path> cgroupDirs(String id) {
        List<Path> dirs = new ArrayList<>();
        try (Stream<Path> s = Files.list(CGROUP_ROOT)) {
            for (Path h : s.sorted().toList()) {
                if (Files.isDirectory(h) && !Files.isSymbolicLink(h)) {
                    dirs.add(h.resolve("hull").resolve(id));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (Files.exists(CGROUP_ROOT.resolve("cgroup.controllers"))) {
            dirs.add(CGROUP_ROOT.resolve("hull").resolve(id)); // unified-only host
        }
        return dirs;
    }

    /** Pids of live (non-zombie) processes whose cgroup (any hierarchy) is the container's. */
    static List<Integer> processesOf(String id) {
        List<Integer> pids = new ArrayList<>();
        String suffix = "/hull/" + id;
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    char state = stat.charAt(stat.lastIndexOf(')') + 2);
                    if (state == 'Z' || state == 'X') {
                        continue;
                    }
                    for (String line : Files.readAllLines(p.resolve("cgroup"), StandardCharsets.UTF_8)) {
                        if (line.endsWith(suffix)) {
                            pids.add(Integer.parseInt(name));
                            break;
                        }
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    static boolean processAlive(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Asserts the container left nothing behind: no state directory, no cgroup directory, no
     * process, and no host mount that was not there before among the test's own: those at or under
     * the rootfs, the state root or the given paths, and those anywhere (/etc, /sys/fs/cgroup, ...)
     * whose mount point, root or source names the container id or one of those paths (see
     * {@link OwnedMounts}). Other mounts on the machine come and go with other work and do not matter.
     */
    static void assertNoTraces(Path root, String id, Set<String> mountsBefore, Path... mountAreas) {
        Path stateDir = root.resolve(id);
        // Give an exiting init a moment to be reaped; then the assertions below say what is left.
        await(() -> !Files.exists(stateDir) && processesOf(id).isEmpty()
                && cgroupDirs(id).stream().noneMatch(Files::exists));
        assertThat(stateDir).as("state directory of %s", id).doesNotExist();
        assertThat(cgroupDirs(id)).as("cgroup directories of %s", id).allSatisfy(d -> assertThat(d).doesNotExist());
        assertThat(processesOf(id)).as("processes in the cgroups of %s", id).isEmpty();
        List<Path> areas = new ArrayList<>(List.of(Bundles.rootfs(), root));
        areas.addAll(List.of(mountAreas));
        assertThat(OwnedMounts.all().stream().filter(m -> !mountsBefore.contains(m.mountPoint()))
                .filter(m -> m.ownedBy(areas, List.of(id))).map(OwnedMounts.Mount::toString).toList())
                .as("new host mounts (under %s or naming %s)", areas, id).isEmpty();
    }

    static String readlink(String path) {
        try {
            return Files.readSymbolicLink(Path.of(path)).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
