package dev.hull.linux.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Shared helpers for the real-kernel cgroup tests. */
final class CgroupTestSupport {

    /** Every test cgroup lives under /hull-cgtest/ in each hierarchy. */
    static final String TOP = "hull-cgtest";

    private CgroupTestSupport() {}

    static String uniquePath(String tag) {
        return "/" + TOP + "/" + tag + "-" + UUID.randomUUID();
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static Process sleeper() throws IOException {
        return new ProcessBuilder("sleep", "1000").redirectErrorStream(true).start();
    }

    /** The lines of /proc/PID/cgroup. */
    static List<String> procCgroup(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"));
    }

    /** True if the pid no longer exists or is a zombie (killed, not yet reaped by its parent). */
    static boolean deadOrZombie(long pid) throws IOException {
        Path stat = Path.of("/proc/" + pid + "/stat");
        try {
            String s = Files.readString(stat);
            char state = s.charAt(s.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (java.nio.file.NoSuchFileException e) {
            return true;
        }
    }

    static void awaitDead(Process p) throws InterruptedException {
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("process %d exited", p.pid()).isTrue();
    }

    static void killQuietly(List<Process> ps) {
        for (Process p : ps) {
            p.destroyForcibly();
        }
    }

    /**
     * Removes /hull-cgtest in each given hierarchy root and returns the names of any leftover directories (a leak)
     * plus any top-level directory named hull-cgtest* that still exists.
     */
    static List<String> leakCheck(List<Path> roots) throws IOException {
        List<String> leaks = new ArrayList<>();
        for (Path root : roots) {
            Path top = root.resolve(TOP);
            if (Files.isDirectory(top)) {
                try (Stream<Path> s = Files.list(top)) {
                    s.filter(Files::isDirectory).forEach(p -> leaks.add(p.toString()));
                }
                if (leaks.isEmpty()) {
                    Files.delete(top);
                }
            }
            try (Stream<Path> s = Files.list(root)) {
                s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().startsWith(TOP))
                        .forEach(p -> leaks.add(p.toString()));
            }
        }
        return leaks;
    }
}
