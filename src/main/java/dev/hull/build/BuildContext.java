package dev.hull.build;

import dev.hull.image.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Where COPY and ADD take files from: the build context directory (less what .dockerignore leaves
 * out), or a stage's or image's root filesystem for {@code COPY --from}. Sources are paths inside
 * it — a leading "/" is its root, ".." cannot leave it — with Go's filepath.Match globs per path
 * component. A source's own last component is never followed (a symbolic link is copied as a link,
 * wherever it points); links on the way to it are resolved as if the root were "/" ({@link #inRoot}),
 * as docker resolves them in the context or image, never through the host's files.
 */
final class BuildContext {
    private final Path root;
    private final DockerIgnore ignore;

    /** One source: its path in the context ("" for the root), whether it is a directory, and every path it copies. */
    record Match(Path root, String rel, boolean dir, List<String> files) {}

    BuildContext(Path root, DockerIgnore ignore) {
        this.root = root;
        this.ignore = ignore;
    }

    Path root() {
        return root;
    }

    /** Whether .dockerignore leaves something out (the directory is not all the context). */
    boolean filtered() {
        return !ignore.isEmpty();
    }

    /** The sources src names (a path or a glob), each with the files below it; an error if there are none. */
    List<Match> match(String src) throws IOException {
        String rel = clean(src);
        List<String> found = new ArrayList<>();
        if (hasMeta(rel)) {
            glob(rel.split("/"), 0, "", found);
            if (found.isEmpty()) {
                throw new IllegalArgumentException("no files in the build context match " + src
                        + (ignore == null ? "" : " (after .dockerignore)"));
            }
        } else {
            rel = inRoot(root, rel, false);
            Path p = rel.isEmpty() ? root : root.resolve(rel);
            boolean left = !rel.isEmpty() && ignore.ignored(rel);
            if (left && ignore.hasExceptions() && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                List<String> below = new ArrayList<>();
                walk(rel, below);
                left = below.isEmpty(); // an exception keeps something inside
            }
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) || left) {
                throw new IllegalArgumentException(src + ": no such file or directory in the build context"
                        + (Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? " (.dockerignore leaves it out)" : ""));
            }
            found.add(rel);
        }
        List<Match> out = new ArrayList<>();
        for (String f : found) {
            Path p = f.isEmpty() ? root : root.resolve(f);
            boolean dir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
            List<String> files = new ArrayList<>();
            files.add(f);
            if (dir) {
                walk(f, files);
            }
            out.add(new Match(root, f, dir, files));
        }
        return out;
    }

    /** src cleaned, relative to the root; an error if it leaves the context. */
    static String clean(String src) {
        List<String> parts = new ArrayList<>();
        for (String s : src.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (parts.isEmpty()) {
                    throw new IllegalArgumentException("the path is outside the build context");
                }
                parts.remove(parts.size() - 1);
                continue;
            }
            parts.add(s);
        }
        return String.join("/", parts);
    }

    /** The most symbolic links one path may go through (the kernel's limit). */
    private static final int MAX_LINKS = 40;

    /**
     * rel (relative to root) with every symbolic link on its way resolved as if root were "/": an
     * absolute target starts again at root, ".." stops at root, so the result never leaves it. The
     * last component is resolved too when followLast. Each step reads one link whose parents are
     * already resolved, so nothing of the host beyond root is ever looked at. The tree must not change
     * meanwhile (a context or a flattened image is Hull's own copy, or the caller's directory).
     */
    static String inRoot(Path root, String rel, boolean followLast) throws IOException {
        java.util.Deque<String> todo = new java.util.ArrayDeque<>();
        for (String part : rel.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) {
                todo.addLast(part);
            }
        }
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.pollFirst();
            if (part.equals("..")) {
                if (!done.isEmpty()) {
                    done.remove(done.size() - 1);
                }
                continue;
            }
            done.add(part);
            if (todo.isEmpty() && !followLast) {
                break;
            }
            Path p = root.resolve(String.join("/", done));
            if (!Files.isSymbolicLink(p)) {
                continue;
            }
            if (++links > MAX_LINKS) {
                throw new IllegalArgumentException(rel + ": too many levels of symbolic links");
            }
            String target = Files.readSymbolicLink(p).toString();
            done.remove(done.size() - 1);
            if (target.startsWith("/")) {
                done.clear();
            }
            String[] parts = target.split("/");
            for (int i = parts.length - 1; i >= 0; i--) {
                if (!parts[i].isEmpty() && !parts[i].equals(".")) {
                    todo.addFirst(parts[i]);
                }
            }
        }
        return String.join("/", done);
    }

    /**
     * The regular file at rel in root (links resolved inside root, {@link #inRoot}), or null if there
     * is none: how a Dockerfile or .dockerignore in a context is found without reading the host's files.
     */
    static Path fileInRoot(Path root, String rel) throws IOException {
        String r = inRoot(root, rel, true);
        Path p = r.isEmpty() ? root : root.resolve(r);
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? p : null;
    }

    private static boolean hasMeta(String s) {
        return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0;
    }

    private void glob(String[] parts, int i, String prefix, List<String> out) throws IOException {
        Path dir = prefix.isEmpty() ? root : root.resolve(prefix);
        if (i == parts.length) {
            out.add(prefix);
            return;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!hasMeta(parts[i])) {
            String next = prefix.isEmpty() ? parts[i] : prefix + "/" + parts[i];
            if (Files.exists(root.resolve(next), LinkOption.NOFOLLOW_LINKS) && !ignore.ignored(next)) {
                glob(parts, i + 1, next, out);
            }
            return;
        }
        Pattern p = Pattern.compile(DockerIgnore.regex(parts[i]));
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(c -> names.add(c.getFileName().toString()));
        }
        for (String n : names) {
            String next = prefix.isEmpty() ? n : prefix + "/" + n;
            if (p.matcher(n).matches() && !ignore.ignored(next)) {
                glob(parts, i + 1, next, out);
            }
        }
    }

    /** Adds every path below dir (relative to the root) that .dockerignore keeps, sorted. */
    private void walk(String dir, List<String> out) throws IOException {
        Path d = dir.isEmpty() ? root : root.resolve(dir);
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            ds.forEach(c -> names.add(c.getFileName().toString()));
        }
        for (String n : names) {
            String rel = dir.isEmpty() ? n : dir + "/" + n;
            boolean isDir = Files.isDirectory(root.resolve(rel), LinkOption.NOFOLLOW_LINKS);
            if (ignore.ignored(rel)) {
                if (isDir && ignore.hasExceptions()) {
                    List<String> below = new ArrayList<>();
                    walk(rel, below);
                    if (!below.isEmpty()) { // an exception keeps something inside: its directory comes along
                        out.add(rel);
                        out.addAll(below);
                    }
                }
                continue;
            }
            out.add(rel);
            if (isDir) {
                walk(rel, out);
            }
        }
    }

    /**
     * The content digest of what the matches copy: for every path, its name relative to its source,
     * type, mode, owner, link target and content's sha256. Not mtimes: a touched file hits the cache.
     */
    static String digest(List<Match> matches) throws IOException {
        MessageDigest md = Digest.sha256();
        byte[] buf = new byte[1 << 16];
        for (Match m : matches) {
            update(md, "match " + m.rel() + (m.dir() ? "/" : ""));
            for (String f : m.files()) {
                Path p = f.isEmpty() ? m.root() : m.root().resolve(f);
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
                update(md, f + " " + Integer.toOctalString((int) a.get("mode")) + " " + a.get("uid") + ":" + a.get("gid"));
                if (Files.isSymbolicLink(p)) {
                    update(md, "-> " + Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                        for (int n; (n = in.read(buf)) > 0; ) {
                            md.update(buf, 0, n);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
        return Digest.of("sha256", md).toString();
    }

    private static void update(MessageDigest md, String s) {
        md.update(s.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
    }
}
