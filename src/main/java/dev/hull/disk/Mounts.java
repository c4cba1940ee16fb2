package dev.hull.disk;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** This mount namespace's mounts as /proc/self/mountinfo lists them, and detaching those under a directory. */
public final class Mounts {
    private Mounts() {}

    /**
     * One mount: where, what filesystem type, from what source (a device path for a block filesystem),
     * with what filesystem (super block) options.
     */
    public record Mount(String target, String type, String source, String options) {}

    public static List<Mount> list() throws IOException {
        List<Mount> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = java.util.Arrays.asList(f).indexOf("-");
            if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            out.add(new Mount(unescape(f[4]), f[dash + 1], unescape(f[dash + 2]), dash + 3 < f.length ? f[dash + 3] : ""));
        }
        return out;
    }

    /** The mount whose target is exactly path (the topmost), or null. */
    public static Mount at(Path path) throws IOException {
        Mount found = null;
        for (Mount m : list()) {
            if (m.target().equals(path.toString())) {
                found = m;
            }
        }
        return found;
    }

    /** Mounts at path or below it. */
    public static List<Mount> under(Path path) throws IOException {
        String p = path.toString();
        List<Mount> out = new ArrayList<>();
        for (Mount m : list()) {
            if (m.target().equals(p) || m.target().startsWith(p + "/")) {
                out.add(m);
            }
        }
        return out;
    }

    /**
     * Detaches every mount at or below path, deepest first (lazily: a filesystem still in use, e.g.
     * by a container's own mount namespace, goes when its last user does; a loop device made with
     * autoclear goes with it).
     */
    public static void detachUnder(Path path) throws IOException {
        List<Mount> ms = under(path);
        ms.sort(Comparator.comparingInt((Mount m) -> m.target().length()).reversed());
        for (Mount m : ms) {
            try {
                Syscalls.umount2(m.target(), Syscalls.MNT_DETACH | Syscalls.UMOUNT_NOFOLLOW);
            } catch (LinuxException e) {
                if (e.errno() != 22 && e.errno() != 2) { // EINVAL, ENOENT: gone already
                    throw e;
                }
            }
        }
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
