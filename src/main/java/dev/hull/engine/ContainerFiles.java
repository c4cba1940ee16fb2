package dev.hull.engine;

import static dev.hull.linux.AtFiles.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.linux.AtFiles;
import dev.hull.linux.DetachedMounts;
import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hull cp}: files into and out of a container, with docker's rules for what lands where
 * (a trailing "/" means a directory, "/." the directory's content).
 *
 * <p>Paths in the container are looked up with {@code openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS)} on a descriptor of the container's root: a symlink or ".." in the
 * container resolves inside the container however it is written (an absolute link to /etc/shadow
 * reaches the container's /etc/shadow), and every later step is relative to descriptors (see
 * {@link TreeCopy}), so nothing the container does meanwhile can lead a copy out of it. The root:
 * a running container's is {@code /proc/PID/root} of its init (its overlay and -v mounts exist only
 * in its mount namespace); a stopped one's overlay is mounted as a detached mount (fsopen/fsmount:
 * a descriptor, attached nowhere, gone when closed — nothing to clean up, even after kill -9), or
 * for the copy snapshotter is its rootfs directory. The container's lock is held throughout, so it
 * is not started, stopped or removed during a copy.
 *
 * <p>Owners: files copied into a container belong to root (0:0, the container's root user), files
 * copied out to the user running Hull; with archive, both keep the source's owners. Owners are the
 * ids as seen inside: a container with a user namespace of its own (--userns=auto, --uidmap) has its
 * files' host ids shifted back on the way out and forward on the way in ({@link ContainerIds}). Modes and
 * modification times are kept; xattrs are not. A stopped container's -v mounts are not there (its
 * own directory below them is).
 */
public final class ContainerFiles {
    private static final long IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

    private final Engine engine;

    public ContainerFiles(Engine engine) {
        this.engine = engine;
    }

    /** followLink: a symlink SRC_PATH is copied as what it points to (-L); archive: owners kept (-a). */
    public record Options(boolean followLink, boolean archive) {}

    /** Bytes of file content copied. */
    public record Result(long bytes) {}

    /** {@code hull cp CONTAINER:SRC HOST_DEST}. hostDest: absolute, as given (a trailing "/" counts). */
    public Result copyOut(String ref, String src, String hostDest, Options o) throws IOException, RuntimeError {
        try (Root root = open(ref)) {
            Side from = root.side();
            PathSpec s = PathSpec.parse(src, true);
            PathSpec d = PathSpec.parse(hostDest, false);
            Integer uid = o.archive() ? null : AtFiles.geteuid();
            Integer gid = o.archive() ? null : AtFiles.getegid();
            return new Result(copy(from, s, Side.HOST, d, o, uid, gid, root.ids::out));
        }
    }

    /** {@code hull cp HOST_SRC CONTAINER:DEST}. hostSrc: absolute, as given (a trailing "/." counts). */
    public Result copyIn(String hostSrc, String ref, String dest, Options o) throws IOException, RuntimeError {
        try (Root root = open(ref)) {
            root.requireWritable();
            PathSpec s = PathSpec.parse(hostSrc, false);
            PathSpec d = PathSpec.parse(dest, true);
            long n = copy(Side.HOST, s, root.side(), d, o, root.rootUid(o), root.rootGid(o),
                    w -> root.ids.in(w, root.info.name()));
            root.fixCopyUps();
            return new Result(n);
        }
    }

    /** What a path in a container is (the symlink itself, not followed); linkTarget "" unless a symlink. */
    public record PathStat(String name, long size, int mode, long mtimeSec, int mtimeNsec, String linkTarget) {}

    /** docker's container path stat (archive HEAD, docker cp): path in the container, absolute. */
    public PathStat stat(String ref, String path) throws IOException, RuntimeError {
        try (Root root = open(ref)) {
            PathSpec s = PathSpec.parse(path, true);
            try (Source src = Source.resolve(root.side(), s, false)) {
                AtFiles.Stat st = src.stat;
                String target = st.isSymlink() ? AtFiles.readlinkat(src.linkDir, src.name) : "";
                return new PathStat(s.parts().isEmpty() ? "/" : src.name, st.size(), st.mode(), st.mtimeSec(),
                        st.mtimeNsec(), target);
            }
        }
    }

    /** {@code hull cp CONTAINER:SRC -}: a tar stream of SRC (named by its base name; "/." : the content). */
    public Result exportTar(String ref, String src, OutputStream out, Options o) throws IOException, RuntimeError {
        try (Root root = open(ref)) {
            PathSpec s = PathSpec.parse(src, true);
            try (Source source = Source.resolve(root.side(), s, o.followLink())) {
                TreeCopy.TarSink sink = new TreeCopy.TarSink(out);
                source.emit(source.contents ? "" : source.name, root.ids.out(sink));
                sink.finish();
                return new Result(sink.bytes());
            }
        }
    }

    /**
     * {@code docker export}: the container's file system as a tar — its root's own file system only
     * (mount points such as /proc, /sys, /dev and volumes are there as empty directories).
     */
    public Result exportFileSystem(String ref, OutputStream out) throws IOException, RuntimeError {
        try (Root root = open(ref)) {
            return new Result(tarOf(AtFiles.openat2(root.fd, ".", O_RDONLY | O_DIRECTORY, 0, 0), out, root.ids));
        }
    }

    /**
     * A directory's tree as a tar stream, as {@link #exportFileSystem} writes a container's (that
     * file system's entries only); {@code hull build --output type=tar}. The bytes of file content.
     */
    public static long tarOf(Path dir, OutputStream out) throws IOException {
        return tarOf(AtFiles.openat2(AtFiles.AT_FDCWD, dir.toString(), O_RDONLY | O_DIRECTORY, 0, 0), out,
                ContainerIds.HOST);
    }

    /** Writes the tree under the directory d with the owners ids gives them, then closes d. */
    private static long tarOf(int d, OutputStream out, ContainerIds ids) throws IOException {
        try {
            AtFiles.Stat st = AtFiles.fstat(d);
            TreeCopy.TarSink sink = new TreeCopy.TarSink(out);
            new TreeCopy.Walker(ids.out(sink), st.dev()).directory(d, "", TreeCopy.Meta.of(st));
            sink.finish();
            return sink.bytes();
        } finally {
            Syscalls.close(d);
        }
    }

    /** {@code hull cp - CONTAINER:DEST}: a tar stream extracted into DEST, a directory that exists. */
    public Result importTar(InputStream in, String ref, String dest, Options o) throws IOException, RuntimeError {
        try (Root root = open(ref)) {
            root.requireWritable();
            PathSpec d = PathSpec.parse(dest, true);
            int fd;
            try {
                fd = root.side().open(d.path(), O_PATH | O_DIRECTORY);
            } catch (LinuxException e) {
                throw new RuntimeError(e.errno() == Errno.ENOTDIR ? RuntimeError.Kind.BAD_INPUT
                        : RuntimeError.Kind.NOT_FOUND, "destination " + root.label(d.text()) + " must be a directory"
                        + " that exists (" + Errno.describe(e.errno()) + ")");
            }
            try (TreeCopy.DirWriter w = new TreeCopy.DirWriter(fd, root.rootUid(o), root.rootGid(o), true,
                    root.label(d.text()))) {
                TreeCopy.readTar(in, root.ids.in(w, root.info.name()));
                root.fixCopyUps();
                return new Result(w.bytes());
            } finally {
                Syscalls.close(fd);
            }
        }
    }

    // ---------------------------------------------------------------- docker's rules

    /** Copies what s names on one side to what d names on the other; returns the bytes of file content. */
    private static long copy(Side from, PathSpec s, Side to, PathSpec d, Options o, Integer uid, Integer gid,
            java.util.function.UnaryOperator<TreeCopy.Sink> ids) throws IOException, RuntimeError {
        try (Source source = Source.resolve(from, s, o.followLink())) {
            int[] base = {-1};
            String name = destination(to, d, source, base);
            try (TreeCopy.DirWriter w = new TreeCopy.DirWriter(base[0], uid, gid, false, to.label(d.text()))) {
                source.emit(name, ids.apply(w));
                return w.bytes();
            } finally {
                Syscalls.close(base[0]);
            }
        }
    }

    /**
     * Where a copy of source goes, by docker's rules: into DEST when it is a directory (under the
     * source's name; its content with "/."), else to DEST itself (replacing a file there; a
     * directory is made). Sets base[0] to the directory's descriptor; returns the name in it ("":
     * the base itself).
     */
    private static String destination(Side to, PathSpec d, Source source, int[] base) throws IOException, RuntimeError {
        int fd = -1;
        try {
            fd = to.open(d.path(), O_PATH);
        } catch (LinuxException e) {
            if (e.errno() != Errno.ENOENT) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, to.label(d.text()) + ": "
                        + Errno.describe(e.errno()));
            }
        }
        if (fd >= 0) {
            AtFiles.Stat st;
            try {
                st = AtFiles.fstat(fd);
            } catch (IOException e) {
                Syscalls.close(fd);
                throw e;
            }
            if (st.isDirectory()) {
                base[0] = fd;
                return source.contents ? "" : source.name;
            }
            Syscalls.close(fd);
            if (source.isDirectory()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "cannot copy a directory to a file: "
                        + to.label(d.text()) + " is a file");
            }
            if (d.trailingSlash()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, to.label(d.text()) + " is not a directory");
            }
        } else if (d.trailingSlash() && !source.isDirectory()) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "destination directory " + to.label(d.text())
                    + " does not exist");
        }
        try {
            base[0] = to.open(d.parent(), O_PATH | O_DIRECTORY);
        } catch (LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "the directory " + to.label(d.parent())
                    + " of the destination does not exist (" + Errno.describe(e.errno()) + ")");
        }
        return d.base();
    }

    /** A path as given: its parts (no "." or "..": cleaned as docker does), and its trailing "/" or "/.". */
    record PathSpec(String text, List<String> parts, boolean trailingSlash, boolean dotEnd) {
        /** inContainer: relative paths count from the container's root; ".." stops at the root. */
        static PathSpec parse(String text, boolean inContainer) throws RuntimeError {
            if (text.isEmpty()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "an empty path");
            }
            if (text.indexOf('\0') >= 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "a path with a NUL byte");
            }
            if (!inContainer && !text.startsWith("/")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "host path " + text + " must be absolute here");
            }
            List<String> parts = new ArrayList<>();
            for (String p : text.split("/")) {
                if (p.isEmpty() || p.equals(".")) {
                    continue;
                }
                if (p.equals("..")) {
                    if (!parts.isEmpty()) {
                        parts.remove(parts.size() - 1);
                    }
                    continue;
                }
                parts.add(p);
            }
            boolean dotEnd = text.equals(".") || text.endsWith("/.");
            return new PathSpec(text, parts, text.endsWith("/"), dotEnd);
        }

        /** The path for openat2, absolute: in a container it counts from the container's root (RESOLVE_IN_ROOT). */
        String path() {
            return "/" + String.join("/", parts);
        }

        /** The directory the last part is in ("/" for the root itself). */
        String parent() {
            return "/" + String.join("/", parts.subList(0, Math.max(0, parts.size() - 1)));
        }

        /** The last part; "" for the root. */
        String base() {
            return parts.isEmpty() ? "" : parts.get(parts.size() - 1);
        }
    }

    /** Where paths are looked up: a container's root (nothing resolves outside it) or the host's. */
    record Side(int base, long resolve, String prefix) {
        static final Side HOST = new Side(AT_FDCWD, 0, "");

        /** path: absolute; in a container it counts from the container's root (RESOLVE_IN_ROOT). */
        int open(String path, int flags) throws LinuxException {
            return AtFiles.openat2(base, path, flags, 0, resolve);
        }

        String label(String path) {
            return prefix + path;
        }
    }

    /** What a copy reads: an object found by a path, as a descriptor (a symlink: its directory and name). */
    static final class Source implements AutoCloseable {
        final AtFiles.Stat stat;
        final String name;
        /** "/." or the root: the directory's content, not the directory. */
        final boolean contents;
        private final int fd; // O_PATH, or -1 for a symlink
        private final int linkDir;
        private final String label;

        private Source(AtFiles.Stat stat, String name, boolean contents, int fd, int linkDir, String label) {
            this.stat = stat;
            this.name = name;
            this.contents = contents;
            this.fd = fd;
            this.linkDir = linkDir;
            this.label = label;
        }

        boolean isDirectory() {
            return stat.isDirectory();
        }

        /**
         * Finds s: its last symlink followed with follow, a trailing "/" or "/." (always inside the
         * side's root), else the symlink itself is the source.
         */
        static Source resolve(Side side, PathSpec s, boolean follow) throws IOException, RuntimeError {
            String label = side.label(s.text());
            boolean contents = s.dotEnd() || s.parts().isEmpty();
            if (follow || s.trailingSlash() || contents) {
                int fd = openSource(side, s.path(), O_PATH, label);
                return checked(new Source(AtFiles.fstat(fd), s.base(), contents, fd, -1, label), s);
            }
            int dir = openSource(side, s.parent(), O_PATH | O_DIRECTORY, label);
            try {
                AtFiles.Stat st = AtFiles.lstatOrNull(dir, s.base());
                if (st == null) {
                    throw notFound(label);
                }
                if (st.isSymlink()) {
                    Source src = new Source(st, s.base(), false, -1, dir, label);
                    dir = -1;
                    return src;
                }
                int fd = AtFiles.openat2(dir, s.base(), O_PATH | O_NOFOLLOW, 0, TreeCopy.BENEATH);
                return checked(new Source(AtFiles.fstat(fd), s.base(), false, fd, -1, label), s);
            } finally {
                if (dir >= 0) {
                    Syscalls.close(dir);
                }
            }
        }

        private static Source checked(Source src, PathSpec s) throws RuntimeError {
            if ((s.trailingSlash() || src.contents) && !src.isDirectory()) {
                src.close();
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, src.label + ": not a directory");
            }
            if (src.stat.type() == S_IFSOCK) {
                src.close();
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, src.label + ": a socket; nothing to copy");
            }
            return src;
        }

        private static int openSource(Side side, String path, int flags, String label) throws RuntimeError,
                LinuxException {
            try {
                return side.open(path, flags);
            } catch (LinuxException e) {
                if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR) {
                    throw notFound(label);
                }
                if (e.errno() == Errno.ELOOP) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, label + ": a symlink loop, or a /proc link"
                            + " (not followed), is on the way");
                }
                throw e;
            }
        }

        private static RuntimeError notFound(String label) {
            return new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such file or directory: " + label);
        }

        /** Copies this source to sink as path ("": a directory's content into the sink's base). */
        void emit(String path, TreeCopy.Sink sink) throws IOException {
            TreeCopy.Walker walker = new TreeCopy.Walker(sink);
            if (fd < 0) {
                walker.entry(linkDir, name, path);
                return;
            }
            switch (stat.type()) {
                case S_IFDIR -> {
                    int d = reopen(O_RDONLY | O_DIRECTORY);
                    try {
                        walker.directory(d, path, TreeCopy.Meta.of(AtFiles.fstat(d)));
                    } finally {
                        Syscalls.close(d);
                    }
                }
                case S_IFREG -> {
                    int f = reopen(O_RDONLY | O_NONBLOCK);
                    try {
                        walker.file(f, path, AtFiles.fstat(f));
                    } finally {
                        Syscalls.close(f);
                    }
                }
                default -> sink.special(path, TreeCopy.Meta.of(stat));
            }
        }

        /**
         * A readable descriptor of the same file as the O_PATH one: through /proc/self/fd, which
         * names exactly the open file (no path is looked up again); checked to be the same inode.
         */
        private int reopen(int flags) throws IOException {
            int r = AtFiles.openat2(AT_FDCWD, "/proc/self/fd/" + fd, flags, 0, 0);
            if (!AtFiles.fstat(r).sameFile(stat)) {
                Syscalls.close(r);
                throw new IOException(label + " changed while it was copied");
            }
            return r;
        }

        @Override
        public void close() {
            if (fd >= 0) {
                Syscalls.close(fd);
            }
            if (linkDir >= 0) {
                Syscalls.close(linkDir);
            }
        }
    }

    // ---------------------------------------------------------------- the container's root

    /** A container's root directory, held open with the container's lock. */
    private static final class Root implements AutoCloseable {
        private final ContainerInfo info;
        private final ContainerStore.Locked locked;
        private final int fd;
        private final boolean running;
        /** Its user namespace's mappings: what crosses is shifted to and from the ids as seen inside. */
        private final ContainerIds ids;
        private final Path dir;

        Root(ContainerInfo info, ContainerStore.Locked locked, int fd, boolean running, Path dir) throws IOException {
            this.dir = dir;
            this.ids = ContainerIds.of(dir);
            this.info = info;
            this.locked = locked;
            this.fd = fd;
            this.running = running;
        }

        /** After a copy into it: a stopped overlay's copied-up directories in its user namespace's ids. */
        void fixCopyUps() throws IOException {
            if (!running && "overlay".equals(info.snapshotter()) && !ids.host()) {
                ids.fixCopyUps(ContainerDisks.upper(dir));
            }
        }

        /** The owner of what is copied in: the source's with archive (null), else the container's root's host id. */
        Integer rootUid(Options o) throws RuntimeError {
            return o.archive() ? null : (int) rootId(ids.uidIn(0), "uid");
        }

        Integer rootGid(Options o) throws RuntimeError {
            return o.archive() ? null : (int) rootId(ids.gidIn(0), "gid");
        }

        private long rootId(long host, String what) throws RuntimeError {
            if (host < 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "container " + info.name() + " maps no " + what
                        + " 0 (root) to give the copied files: copy with -a to keep their owners");
            }
            return host;
        }

        Side side() {
            return new Side(fd, IN_ROOT, info.name() + ":");
        }

        String label(String path) {
            return info.name() + ":" + path;
        }

        /**
         * A stopped --read-only container takes no files (docker's rule); a running one is left to
         * the kernel: its root refuses (EROFS), its -v mounts may take them.
         */
        void requireWritable() throws RuntimeError {
            if (!running && info.options() != null && info.options().readOnly) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " has a read-only"
                        + " root file system (--read-only): nothing can be copied into it");
            }
        }

        @Override
        public void close() throws IOException {
            Syscalls.close(fd);
            locked.close();
        }
    }

    private Root open(String ref) throws IOException, RuntimeError {
        ContainerInfo info = engine.containers().resolve(ref);
        ContainerStore.Locked locked = engine.containers().lock(info);
        int fd = -1;
        try {
            info = locked.info();
            Engine.State s = engine.state(info);
            switch (s.status()) {
                case "running", "paused" -> {
                    ContainerRecord rec = engine.runtimeRecord(info);
                    if (rec == null || rec.pid() <= 0) {
                        throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name()
                                + " has no init process to copy through");
                    }
                    fd = AtFiles.openat2(AT_FDCWD, "/proc/" + rec.pid() + "/root", O_PATH | O_DIRECTORY, 0, 0);
                    // the init could have ended, and its pid gone to another process, before the open
                    if (!MonitorStatus.alive(rec.pid(), rec.startTime())) {
                        throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name()
                                + " stopped while the copy began: try again");
                    }
                }
                case "restarting" -> throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name()
                        + " is restarting: try again once it runs (or stop it)");
                default -> fd = stoppedRoot(info);
            }
            Root r = new Root(info, locked, fd, s.running(), engine.containers().dir(info.id()));
            fd = -1;
            return r;
        } catch (IOException | RuntimeError | RuntimeException e) {
            if (fd >= 0) {
                Syscalls.close(fd);
            }
            locked.close();
            throw e;
        }
    }

    /** A stopped container's root: its overlay as a detached mount, or the copy snapshotter's rootfs. */
    private int stoppedRoot(ContainerInfo info) throws IOException, RuntimeError {
        Path dir = engine.containers().dir(info.id());
        if (!"overlay".equals(info.snapshotter())) {
            return AtFiles.openat2(AT_FDCWD, dir.resolve("rootfs").toString(), O_PATH | O_DIRECTORY, 0, 0);
        }
        JsonNode spec = ContainerStore.JSON.readTree(Files.readAllBytes(dir.resolve("config.json")));
        String options = spec.path("annotations").path(Annotations.ROOTFS_OVERLAY).asText("");
        if (options.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, dir.resolve("config.json") + ": annotations."
                    + Annotations.ROOTFS_OVERLAY + " is missing, yet the container's snapshotter is overlay");
        }
        try {
            return DetachedMounts.mount("overlay", options);
        } catch (LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "container " + info.name() + ": mounting its file system"
                    + " for the copy failed: " + e.getMessage());
        }
    }
}
