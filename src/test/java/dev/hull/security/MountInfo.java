package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A container's /proc/self/mountinfo, parsed; and the checks that its masked and read-only paths
 * hold wherever its procfs and sysfs are mounted (at /proc and /sys, or wherever an image's
 * symlinks put them).
 */
record MountInfo(List<Entry> entries) {
    /** One line: the mount's root within its filesystem, where it is, its per-mount options, its type. */
    record Entry(String root, String mountPoint, String options, String fsType, String source) {
        boolean readOnly() {
            return options.equals("ro") || options.startsWith("ro,");
        }
    }

    /** runc's and docker's (and Hull's) masked paths. */
    static final List<String> MASKED = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
            "/proc/scsi", "/sys/devices/virtual/tpm");
    /** runc's and docker's (and Hull's) read-only paths. */
    static final List<String> READONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");

    static MountInfo parse(String text) {
        List<Entry> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 10 || dash < 6) {
                continue;
            }
            out.add(new Entry(Canary.unescape(f[3]), Canary.unescape(f[4]), f[5], f[dash + 1], f[dash + 2]));
        }
        return new MountInfo(out);
    }

    /** Where whole filesystems of this type are mounted (not binds of a part of one, like a read-only /proc/sys). */
    List<String> pointsOf(String fsType) {
        return entries.stream().filter(e -> e.fsType().equals(fsType) && e.root().equals("/")).map(Entry::mountPoint)
                .toList();
    }

    /** The last (topmost) mount at this point, or null. */
    Entry at(String mountPoint) {
        Entry found = null;
        for (Entry e : entries) {
            if (e.mountPoint().equals(mountPoint)) {
                found = e;
            }
        }
        return found;
    }

    /**
     * Every masked path that exists on this host is masked — a file by the container's /dev/null
     * (a bind whose root is "/null" on the container's /dev tmpfs), a directory by a read-only
     * tmpfs — and every read-only path is a read-only mount, below each procfs (for /proc/...) and
     * each sysfs (for /sys/...) of the container, wherever it is mounted.
     */
    void assertMasksHold(String what) {
        List<String> procs = pointsOf("proc");
        List<String> syses = pointsOf("sysfs");
        for (String path : MASKED) {
            Path host = Path.of(path);
            if (!Files.exists(host)) {
                continue;
            }
            boolean dir = Files.isDirectory(host);
            for (String base : path.startsWith("/proc/") ? procs : syses) {
                String p = base + path.substring(path.indexOf('/', 1));
                Entry e = at(p);
                assertThat(e).as("%s: a mask on %s (masked path %s)", what, p, path).isNotNull();
                if (dir) {
                    assertThat(e.fsType() + " " + e.readOnly()).as("%s: %s masked by a read-only tmpfs: %s", what, p, e)
                            .isEqualTo("tmpfs true");
                } else {
                    assertThat(e.root()).as("%s: %s masked by /dev/null: %s", what, p, e).endsWith("/null");
                }
            }
        }
        for (String path : READONLY) {
            if (!Files.exists(Path.of(path))) {
                continue;
            }
            for (String base : procs) {
                String p = base + path.substring("/proc".length());
                Entry e = at(p);
                assertThat(e).as("%s: a read-only mount on %s", what, p).isNotNull();
                assertThat(e.readOnly()).as("%s: %s is read-only: %s", what, p, e).isTrue();
            }
        }
    }
}
