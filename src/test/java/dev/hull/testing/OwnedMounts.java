package dev.hull.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * The part of the host's mount table that belongs to one test. Other Hulls, container engines and
 * test suites on the same host mount and unmount all the time (their stores, /run/netns/cni-*, ...),
 * so a test compares only the mounts it owns: those at or under its own directories, and those
 * whose mount point, root, source or superblock options name one of its directories or one of its
 * tokens (its container ids, the unique sources it gives its tmpfs mounts). A mount Hull leaks for
 * one of the test's containers is of that kind: it sits in the test's store or rootfs, or it names
 * the container (a netns file, a cgroup, an overlay of the container's layers).
 */
public final class OwnedMounts {
    private OwnedMounts() {}

    /** One line of /proc/self/mountinfo, split. */
    public record Mount(String id, String root, String mountPoint, String fstype, String source, String superOptions,
            String line) {
        static Mount parse(String line) {
            String[] w = line.split(" ");
            int dash = Arrays.asList(w).indexOf("-");
            return new Mount(w[0], unescape(w[3]), unescape(w[4]), w[dash + 1], unescape(w[dash + 2]),
                    dash + 3 < w.length ? unescape(w[dash + 3]) : "", line);
        }

        /** Whether the mount is at or under one of dirs, or names one of dirs or tokens. */
        public boolean ownedBy(Collection<Path> dirs, Collection<String> tokens) {
            for (Path d : dirs) {
                String s = d.toString();
                if (mountPoint.equals(s) || mountPoint.startsWith(s + "/") || namesPath(s)) {
                    return true;
                }
            }
            for (String t : tokens) {
                if (names(t)) {
                    return true;
                }
            }
            return false;
        }

        /** Whether a field names the directory itself or something in it (not /tmp/x-12 for /tmp/x-1). */
        private boolean namesPath(String dir) {
            java.util.regex.Pattern p = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(dir)
                    + "(?=$|[/,:\\s])");
            return p.matcher(mountPoint).find() || p.matcher(root).find() || p.matcher(source).find()
                    || p.matcher(superOptions).find();
        }

        private boolean names(String s) {
            return mountPoint.contains(s) || root.contains(s) || source.contains(s) || superOptions.contains(s);
        }

        /** What is compared: the mount (its id, so that a mount made again or over another differs), where and what. */
        @Override
        public String toString() {
            return id + " " + mountPoint + " " + root + " " + fstype + " " + source;
        }
    }

    /** Every mount of this process's mount namespace now (host-wide: filter it with {@link #owned}). */
    public static List<Mount> all() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(Mount::parse).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Of the mounts, those the test owns (see the class comment), as sorted strings to compare. */
    public static List<String> owned(List<Mount> mounts, Collection<Path> dirs, Collection<String> tokens) {
        return mounts.stream().filter(m -> m.ownedBy(dirs, tokens)).map(Mount::toString).sorted().toList();
    }

    /** The mounts the test owns now. */
    public static List<String> owned(Collection<Path> dirs, Collection<String> tokens) {
        return owned(all(), dirs, tokens);
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
