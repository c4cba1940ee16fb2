package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.testing.OwnedMounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * run/rm cycles, foreground and detached, leave nothing behind: mounts, cgroups, processes
 * (monitors included), descriptors, threads, runtime state, container directories, names. The
 * short churn runs in every suite; 500 cycles with ./test --slow.
 */
class EngineChurnTest {
    static Path root;
    static Engine engine;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "hull-engine-churn-");
        engine = new Engine(root.resolve("home"), root.resolve("state"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        dev.hull.image.SnapshotStore.deleteTree(root);
    }

    /** mounts: all of the host's; only this test's are compared (see {@link #ownMounts}). */
    record Snapshot(List<OwnedMounts.Mount> mounts, Set<String> cgroups, Set<String> monitors, long fds, int threads,
            Set<String> state, Set<String> containers, Set<String> names) {}

    static Snapshot snapshot() throws IOException {
        return new Snapshot(OwnedMounts.all(), cgroups(), monitors(), count(Path.of("/proc/self/fd")),
                Thread.activeCount(), names(root.resolve("state")), names(root.resolve("home/containers")),
                names(root.resolve("home/names")));
    }

    /**
     * This test's mounts among those of a snapshot: in its store (overlays, netns files, ...) or
     * naming one of its containers. Other Hulls and engines on the host mount and unmount their own
     * meanwhile (their stores, /run/netns/cni-*): those do not matter here.
     */
    static List<String> ownMounts(Snapshot s, List<String> ids) {
        return OwnedMounts.owned(s.mounts(), List.of(root), ids);
    }

    /** Every cgroup directory under a hull/ parent, in every hierarchy. */
    static Set<String> cgroups() throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                Path hull = h.resolve("hull");
                if (Files.isDirectory(hull)) {
                    try (Stream<Path> s = Files.list(hull)) {
                        s.filter(Files::isDirectory).forEach(p -> out.add(p.toString()));
                    }
                }
            }
        }
        return out;
    }

    /** Live hull-monitor processes of this test's containers (holding a log under its store): their pids. */
    static Set<String> monitors() throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (Files.readString(p.resolve("comm")).trim().equals("hull-monitor")) {
                        try (Stream<Path> fds = Files.list(p.resolve("fd"))) {
                            for (Path fd : fds.toList()) {
                                try {
                                    if (Files.readSymbolicLink(fd).toString().startsWith(root.toString())) {
                                        out.add(p.getFileName().toString());
                                    }
                                } catch (IOException e) {
                                    // closed meanwhile
                                }
                            }
                        }
                    }
                } catch (IOException e) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    static Set<String> names(Path dir) throws IOException {
        Set<String> out = new TreeSet<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.forEach(p -> out.add(p.getFileName().toString()));
            }
        }
        return out;
    }

    static void churn(int cycles) throws Exception {
        CreateOptions warm = opts("true");
        warm.autoRemove = true;
        for (int i = 0; i < 3; i++) { // first runs load classes and make the image
            engine.run(warm, false, new Engine.Attach(null, pid -> { }));
        }
        Snapshot before = snapshot();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < cycles; i++) {
            // foreground --rm
            CreateOptions fg = opts("true");
            fg.autoRemove = true;
            Engine.Run r = engine.run(fg, false, new Engine.Attach(null, pid -> { }));
            assertThat(r.exitCode()).as("cycle %d", i).isZero();
            ids.add(r.container().id());
            // detached, running when removed (rm --force kills it)
            CreateOptions bg = opts("sleep", "100");
            bg.name = "churn-" + i;
            ContainerInfo c = engine.run(bg, true, null).container();
            ids.add(c.id());
            engine.remove(c.id(), true);
        }
        Snapshot after = snapshot();
        assertThat(ownMounts(after, ids)).as("mounts").isEqualTo(ownMounts(before, ids));
        // (other Hull stores on the host may have cgroups of their own come and go meanwhile)
        for (String cg : after.cgroups()) {
            assertThat(ids).as("cgroup %s of a removed container", cg).doesNotContain(Path.of(cg).getFileName().toString());
        }
        assertThat(after.monitors()).as("monitor processes").isEqualTo(before.monitors());
        assertThat(after.fds()).as("open descriptors").isLessThanOrEqualTo(before.fds() + 2);
        assertThat(after.threads()).as("threads").isLessThanOrEqualTo(before.threads() + 2);
        assertThat(after.state()).as("runtime state dirs").isEqualTo(before.state());
        assertThat(after.containers()).as("container dirs").isEqualTo(before.containers());
        assertThat(after.names()).as("names").isEqualTo(before.names());
        for (String id : ids) {
            assertThat(processesMentioning(id)).as("processes of %s", id).isEmpty();
        }
    }

    /** Processes whose command line or cgroup names the container id. */
    static List<String> processesMentioning(String id) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cg = Files.readString(p.resolve("cgroup"));
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")));
                    if (cg.contains(id) || cmd.contains(id)) {
                        out.add(p.getFileName() + " " + cmd.replace('\0', ' '));
                    }
                } catch (IOException e) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    static CreateOptions opts(String... command) {
        CreateOptions o = new CreateOptions();
        o.image = "busybox";
        o.command = List.of(command);
        return o;
    }

    @Test
    void shortChurnLeavesNothingBehind() throws Exception {
        churn(25);
    }

    @Test
    @Tag("slow")
    void fiveHundredCyclesLeaveNothingBehind() throws Exception {
        churn(500); // 500 x (a foreground --rm run, and a detached run removed with --force)
    }
}
