package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.disk.Mounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Commands that make a sized disk, killed for real (SIGKILL to the hull process, a JVM per command)
 * at growing delays across their run: whatever point a kill lands on, no loop device of the store's
 * images is left without the mount that holds it, every mount left is one the next command or prune
 * owns, the listing shows only whole objects, and prune (or rm) leaves no mount, no loop device and
 * no half-written image. Only this store's own paths are looked at.
 */
class KilledDiskCommandsTest {
    static final int ATTEMPTS = 8;
    static Flags f;
    static HullCommand cold;
    static Path home;

    @BeforeAll
    static void setUp() throws Exception {
        DiskCommandsTest.assumeDisks();
        f = new Flags("killed-disks");
        home = f.dir.resolve("home");
        cold = HullCommand.cold(home, f.dir.resolve("state"), Map.of()); // a process of its own to kill
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cold != null) {
            for (String id : cold.run("ps", "-aq").out().lines().toList()) {
                cold.run("rm", "-f", id.strip());
            }
            cold.run("volume", "prune", "-f");
        }
        if (f != null) {
            f.close();
        }
    }

    @Test
    void aVolumeCreateKilledAnywhereLeavesNothingThatPruneDoesNotClear() throws Exception {
        Path volumes = home.resolve("volumes");
        List<String> names = new ArrayList<>();
        long start = timed(() -> cold.ok("volume", "ls"));
        long full = timed(() -> cold.ok("volume", "create", "--opt", "size=64m", name(names)));
        for (int i = 0; i < ATTEMPTS; i++) {
            long at = delay(start, full, i);
            killAfter(at, "volume", "create", "--opt", "size=64m", name(names));
            System.err.printf("volume create killed at %d ms (start %d, whole %d): %s%n", at, start, full,
                    left(volumes));
            assertOnlyHeldLoops();
            List<String> listed = listedVolumes(names);
            for (Mounts.Mount m : Mounts.under(volumes)) { // a mount left is a whole volume's or a creation's debris
                String top = volumes.relativize(Path.of(m.target())).getName(0).toString();
                assertThat(listed.contains(top) || top.startsWith(".creating-")).as(m.target()).isTrue();
            }
            for (String v : listed) { // what ls shows is whole: sized as asked and usable
                assertThat(cold.ok("volume", "inspect", "-f", "{{json .Status}}", v).out()).contains(
                        "\"Size\":" + (64L << 20));
            }
        }
        List<String> listed = listedVolumes(names);
        assertThat(listed).as("the first create ran to its end").contains(names.get(0));
        String used = listed.getLast();
        Flags.Result r = f.run("--rm", "-v", used + ":/q", "busybox", "sh", "-c", "echo hi > /q/f && cat /q/f");
        assertThat(r.out()).as(r.toString()).isEqualTo("hi\n");
        cold.ok("volume", "prune", "-f");
        assertThat(listedVolumes(names)).isEmpty();
        awaitNoLoops();
        assertThat(Mounts.under(volumes)).isEmpty();
        try (var s = Files.list(volumes)) { // no half-written image, no hidden debris
            assertThat(s.map(p -> p.getFileName().toString()).toList()).allMatch(n -> !names.contains(n)
                    && !n.startsWith(".creating-") && !n.startsWith(".removing-"));
        }
        try (var s = Files.walk(volumes)) {
            assertThat(s.filter(p -> p.getFileName().toString().equals("disk.img")).toList()).isEmpty();
        }
    }

    @Test
    void aRunWithASizedRootKilledAnywhereLeavesNothingThatRmAndPruneDoNotClear() throws Exception {
        Path containers = f.engine.containers().dir("x").getParent();
        String[] run = {"run", "-d", "--storage-opt", "size=64m", "busybox", "sleep", "1000"};
        long start = timed(() -> cold.ok("ps"));
        long full = timed(() -> cold.ok(run));
        for (int i = 0; i < ATTEMPTS; i++) {
            long at = delay(start, full, i);
            killAfter(at, run);
            System.err.printf("run killed at %d ms (start %d, whole %d): %s%n", at, start, full, left(containers));
            assertOnlyHeldLoops();
            List<String> listed = cold.ok("ps", "-aq", "--no-trunc").out().lines().map(String::strip).toList();
            for (Mounts.Mount m : Mounts.under(containers)) {
                String top = containers.relativize(Path.of(m.target())).getName(0).toString();
                boolean debris = !Files.exists(containers.resolve(top).resolve("config.json"));
                assertThat(listed.contains(top) || debris).as(m.target() + " of a container ps does not show")
                        .isTrue();
            }
            for (String id : listed) {
                cold.ok("inspect", id);
            }
        }
        for (String id : cold.ok("ps", "-aq").out().lines().toList()) {
            cold.ok("rm", "-f", id.strip());
        }
        cold.ok("container", "prune", "-f");
        assertThat(cold.ok("ps", "-aq").out()).isEmpty();
        awaitNoLoops();
        assertThat(Mounts.under(containers)).isEmpty();
        try (var s = Files.walk(containers)) {
            assertThat(s.filter(p -> p.getFileName().toString().equals("disk.img")).toList()).isEmpty();
        }
    }

    /**
     * The i-th kill's delay: spread over the part of the command after the JVM's start (start: a
     * command of the same JVM that makes nothing), where the disk is made; a kill that lands before or
     * after that is harmless to the assertions, only less telling.
     */
    private static long delay(long start, long full, int i) {
        long from = start * 3 / 4;
        return from + Math.max(full - from, 0) * i / (ATTEMPTS - 1);
    }

    /** What the store holds now, for the log: mounts and loop devices of its own. */
    private static String left(Path dir) throws Exception {
        return Mounts.under(dir).stream().map(m -> dir.relativize(Path.of(m.target())).toString()).toList()
                + " loops " + loops().size();
    }

    private static String name(List<String> names) {
        String n = "killed-" + names.size() + "-" + System.nanoTime();
        names.add(n);
        return n;
    }

    private interface Step {
        void run() throws Exception;
    }

    private static long timed(Step s) throws Exception {
        long t = System.nanoTime();
        s.run();
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
    }

    /** Starts hull args, SIGKILLs it after ms (if it has not ended by then) and waits for it to be gone. */
    private static void killAfter(long ms, String... args) throws Exception {
        Process p = cold.builder(args).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        List<ProcessHandle> mkfs = List.of();
        if (!p.waitFor(ms, TimeUnit.MILLISECONDS)) {
            // a mkfs it started would go on writing the image after it: it ends too before the store is looked at
            mkfs = p.descendants().filter(c -> c.info().command().orElse("").matches(".*/(mkfs\\.ext4|mke2fs)"))
                    .toList();
            p.destroyForcibly(); // SIGKILL
            mkfs.forEach(ProcessHandle::destroyForcibly);
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        for (ProcessHandle c : mkfs) {
            c.onExit().get(60, TimeUnit.SECONDS);
        }
    }

    /** Loop devices whose backing file is in this test's store. */
    private static List<String[]> loops() throws Exception {
        List<String[]> out = new ArrayList<>();
        try (var s = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
            for (Path d : s) {
                try {
                    String file = Files.readString(d.resolve("loop/backing_file")).strip();
                    if (file.startsWith(f.dir + "/")) {
                        out.add(new String[] {d.getFileName().toString(), file});
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // not bound
                }
            }
        }
        return out;
    }

    /** Every loop device of the store's images is the source of a mount (else nothing would ever free it). */
    private static void assertOnlyHeldLoops() throws Exception {
        long deadline = System.currentTimeMillis() + 30_000; // autoclear of a device whose opener died
        List<String> orphans;
        do {
            List<String> sources = Mounts.list().stream().map(Mounts.Mount::source).toList();
            orphans = loops().stream().filter(l -> !sources.contains("/dev/" + l[0])).map(l -> l[0] + " " + l[1])
                    .toList();
        } while (!orphans.isEmpty() && System.currentTimeMillis() < deadline && pause());
        assertThat(orphans).as("loop devices of the store's images held by no mount").isEmpty();
    }

    private static void awaitNoLoops() throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!loops().isEmpty() && System.currentTimeMillis() < deadline) {
            pause();
        }
        assertThat(loops().stream().map(l -> l[0] + " " + l[1]).toList()).isEmpty();
    }

    private static boolean pause() throws InterruptedException {
        Thread.sleep(100);
        return true;
    }

    private static List<String> listedVolumes(List<String> ours) throws Exception {
        return cold.ok("volume", "ls", "-q").out().lines().map(String::strip).filter(ours::contains).toList();
    }
}
