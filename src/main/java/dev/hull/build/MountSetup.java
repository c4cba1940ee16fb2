package dev.hull.build;

import dev.hull.build.Dockerfile.Instruction;
import dev.hull.engine.CreateOptions;
import dev.hull.image.ImageRecord;
import dev.hull.image.SnapshotStore;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The host side of a RUN step's {@code --mount}s, made before its container and undone after it:
 * <ul>
 * <li>cache: a directory kept in Hull's store (HULL_HOME/build/mounts, by id, default the target)
 * from build to build, never in the layer; sharing=shared (the default) lets builds use it at once,
 * locked makes them take turns, private gives a build that finds it in use a fresh one; with
 * from=STAGE|IMAGE (and source=PATH in it) a new cache starts as a copy of that directory;</li>
 * <li>secret: the file {@code hull build --secret id=ID,src=FILE} names, copied into the build's
 * temp dir with mode (0400) and owner, bound read-only; not in the cache key, the layer or history;
 * a missing one is an error only with required;</li>
 * <li>bind: a path of the context (what .dockerignore keeps) or of a stage or image (from=),
 * read-only unless rw (then writes go to a copy and are dropped); its content is in the cache key;</li>
 * <li>ssh: a socket relaying to the ssh agent {@code hull build --ssh} lends (or to an agent Hull
 * starts with the key files it lends) ({@link AgentProxy}), owned by uid:gid with mode (0600); none
 * when the build was lent no identity (an error with required); not in the cache key or the layer;</li>
 * <li>tmpfs: an empty tmpfs.</li>
 * </ul>
 */
final class MountSetup implements Closeable {
    private final List<Closeable> undo = new ArrayList<>();
    /** What the mounts add to the step's cache key. */
    private final StringBuilder key = new StringBuilder();
    /** Only the key: nothing made on the host (a cache hit needs no more). */
    private final boolean dry;

    private MountSetup(boolean dry) {
        this.dry = dry;
    }

    /** What the mounts add to the step's cache key (a bind's content digest; never a secret's value). */
    static String key(BuildSession b, Stage s, Instruction in, List<RunMount> mounts, BuildContext ctx,
            CopyStep.Sources sources) throws BuildException, IOException, RuntimeError {
        try (MountSetup m = setUp(new MountSetup(true), b, s, in, mounts, ctx, sources, new CreateOptions())) {
            return m.key.toString();
        }
    }

    /** Prepares mounts into o (its volumes and tmpfs); the caller closes the result after the step. */
    static MountSetup prepare(BuildSession b, Stage s, Instruction in, List<RunMount> mounts, BuildContext ctx,
            CopyStep.Sources sources, CreateOptions o) throws BuildException, IOException, RuntimeError {
        return setUp(new MountSetup(false), b, s, in, mounts, ctx, sources, o);
    }

    private static MountSetup setUp(MountSetup m, BuildSession b, Stage s, Instruction in, List<RunMount> mounts,
            BuildContext ctx, CopyStep.Sources sources, CreateOptions o) throws BuildException, IOException, RuntimeError {
        try {
            for (RunMount mount : mounts) {
                switch (mount.type()) {
                    case "cache" -> m.cache(b, s, in, mount, sources, o);
                    case "secret" -> m.secret(b, in, mount, o);
                    case "ssh" -> m.ssh(b, in, mount, o);
                    case "bind" -> m.bind(b, s, in, mount, ctx, sources, o);
                    default -> {
                        String size = mount.get("size");
                        o.tmpfs.add(mount.target() + (size == null ? "" : ":size=" + size));
                        m.key.append("tmpfs ").append(mount.target()).append('\n');
                    }
                }
            }
            return m;
        } catch (BuildException | IOException | RuntimeError | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private void cache(BuildSession b, Stage s, Instruction in, RunMount mount, CopyStep.Sources sources,
            CreateOptions o) throws BuildException, IOException, RuntimeError {
        String id = mount.get("id") != null ? mount.get("id") : mount.target();
        String sharing = mount.get("sharing") == null ? "shared" : mount.get("sharing");
        if (!sharing.matches("shared|private|locked")) {
            throw in.error("RUN --mount type=cache sharing=" + sharing + ": use shared, private or locked");
        }
        String source = mount.get("source") == null ? "" : mount.get("source");
        if (mount.get("from") == null && !source.isEmpty()) {
            throw in.error("RUN --mount type=cache,source=" + source + ": source= needs from=STAGE (what seeds the cache)");
        }
        String seedRel;
        try {
            seedRel = BuildContext.clean(source);
        } catch (IllegalArgumentException e) {
            throw in.error("RUN --mount type=cache,source=" + source + ": " + e.getMessage());
        }
        ImageRecord seed = mount.get("from") == null ? null : sources.image(mount.get("from"), s.index, in);
        key.append("cache ").append(mount.target()).append(' ').append(mount.flag("ro"))
                .append(seed == null ? "" : " from " + seed.id() + " " + seedRel).append('\n');
        if (dry) {
            return;
        }
        Path root = Files.createDirectories(b.engine.home().resolve("build").resolve("mounts"));
        String name = BuildCache.key("cache-mount", id);
        Path dir = root.resolve(name);
        if (!sharing.equals("shared")) {
            FileChannel ch = FileChannel.open(root.resolve(name + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = sharing.equals("locked") ? waitFor(ch) : tryLock(ch);
            if (lock == null) { // private and in use: a fresh one for this step
                ch.close();
                dir = Files.createTempDirectory(b.tmp, "cache-");
            } else {
                undo.add(() -> {
                    lock.release();
                    ch.close();
                });
            }
        }
        if (!Files.isDirectory(dir)) {
            Path fresh = Files.createTempDirectory(root, ".tmp-");
            if (seed != null) { // its first content: the stage's (or image's) directory
                Path flat = b.flatten(seed);
                try {
                    copyTree(inside(in, flat, seedRel, source), fresh);
                } catch (BuildException | IOException e) {
                    SnapshotStore.deleteTree(fresh);
                    throw e;
                } finally {
                    SnapshotStore.deleteTree(flat);
                }
            }
            Syscalls.lchmod(fresh.toString(), mount.mode(in, 0755));
            Syscalls.lchown(fresh.toString(), mount.id(in, "uid"), mount.id(in, "gid"));
            try {
                Files.move(fresh, dir);
            } catch (IOException raced) { // another build made it first
                Files.deleteIfExists(fresh);
            }
        }
        BuildCache.touch(dir); // its last use, for builder prune's until and space bounds
        o.volumes.add(dir + ":" + mount.target() + (mount.flag("ro") ? ":ro" : ""));
    }

    private static FileLock waitFor(FileChannel ch) throws IOException {
        while (true) {
            try {
                return ch.lock();
            } catch (OverlappingFileLockException sameJvm) { // another build of this service holds it
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
            }
        }
    }

    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException sameJvm) {
            return null;
        }
    }

    private void secret(BuildSession b, Instruction in, RunMount mount, CreateOptions o)
            throws BuildException, IOException {
        String id = mount.get("id");
        byte[] value = b.req.secrets.get(id);
        if (value == null) {
            if (mount.flag("required")) {
                throw in.error("RUN --mount type=secret,id=" + id + ": no such secret (give it with hull build"
                        + " --secret id=" + id + ",src=FILE)");
            }
            return; // docker: a secret not given is not mounted
        }
        key.append("secret ").append(id).append(' ').append(mount.target()).append('\n');
        if (dry) {
            return;
        }
        Path dir = Files.createTempDirectory(b.tmp, "secret-");
        Path f = dir.resolve("secret");
        Files.write(f, value);
        Syscalls.lchown(f.toString(), mount.id(in, "uid"), mount.id(in, "gid"));
        Syscalls.lchmod(f.toString(), mount.mode(in, 0400));
        o.volumes.add(f + ":" + mount.target() + ":ro");
        undo.add(() -> dev.hull.image.SnapshotStore.deleteTree(dir));
    }

    private void ssh(BuildSession b, Instruction in, RunMount mount, CreateOptions o) throws BuildException, IOException {
        SshForward lent = b.req.ssh;
        int mode = mount.mode(in, 0600);
        int uid = mount.id(in, "uid");
        int gid = mount.id(in, "gid");
        if (lent.agent() < 0 && lent.keys().isEmpty()) {
            if (mount.flag("required")) {
                throw in.error("RUN --mount type=ssh: this build was lent no ssh identity (give one with hull build"
                        + " --ssh default, your agent, or --ssh default=KEY_FILE)");
            }
            return; // docker: an optional agent not given is not mounted
        }
        if (dry) {
            return;
        }
        AgentProxy proxy = AgentProxy.start(lent, b.tmp);
        undo.add(proxy);
        proxy.own(uid, gid, mode);
        o.volumes.add(proxy.socket() + ":" + mount.target());
    }

    private void bind(BuildSession b, Stage s, Instruction in, RunMount mount, BuildContext ctx,
            CopyStep.Sources sources, CreateOptions o) throws BuildException, IOException, RuntimeError {
        String source = mount.get("source") == null ? "" : mount.get("source");
        String rel;
        try {
            rel = BuildContext.clean(source);
        } catch (IllegalArgumentException e) {
            throw in.error("RUN --mount type=bind,source=" + source + ": " + e.getMessage());
        }
        boolean rw = mount.flag("rw");
        key.append("bind ").append(mount.target()).append(' ').append(rw).append(' ');
        Path host;
        if (mount.get("from") != null) {
            ImageRecord image = sources.image(mount.get("from"), s.index, in);
            key.append(image.id()).append(' ').append(rel).append('\n'); // the image's id fixes its content
            if (dry) {
                return;
            }
            Path flat = b.flatten(image);
            undo.add(() -> dev.hull.image.SnapshotStore.deleteTree(flat));
            host = inside(in, flat, rel, source);
        } else {
            if (ctx == null) {
                throw in.error("RUN --mount type=bind needs a build context (or from=STAGE)");
            }
            List<BuildContext.Match> matches;
            try {
                matches = ctx.match(rel.isEmpty() ? "." : rel);
            } catch (IllegalArgumentException e) {
                throw in.error("RUN --mount type=bind,source=" + source + ": " + e.getMessage());
            }
            host = inside(in, ctx.root(), rel, source);
            key.append("context ").append(rel).append(' ').append(BuildContext.digest(matches)).append('\n');
            if (dry) {
                return;
            }
            if (rw || ctx.filtered()) { // a copy: what .dockerignore keeps; writes dropped with it
                Path copy = Files.createTempDirectory(b.tmp, "bind-");
                undo.add(() -> dev.hull.image.SnapshotStore.deleteTree(copy));
                host = copyOf(matches.getFirst(), copy);
            }
        }
        o.volumes.add(host + ":" + mount.target() + (rw ? "" : ":ro"));
    }

    /** root/rel, an error if it is missing or a link on the way leads out of root. */
    private static Path inside(Instruction in, Path root, String rel, String source) throws BuildException, IOException {
        Path p = rel.isEmpty() ? root : root.resolve(rel);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw in.error("RUN --mount type=bind,source=" + source + ": no such file or directory");
        }
        if (!p.toRealPath().startsWith(root.toRealPath())) {
            throw in.error("RUN --mount type=bind,source=" + source + ": it leads outside its source (a symlink)");
        }
        return p;
    }

    /** What directory from holds, copied into the directory to (links as links, modes, owners, times). */
    private static void copyTree(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(from.getFileName() + ": not a directory (a cache is seeded from one)");
        }
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                if (p.equals(from)) {
                    continue;
                }
                Path t = to.resolve(from.relativize(p).toString());
                Files.copy(p, t, LinkOption.NOFOLLOW_LINKS, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    /** The match's files copied under dir (links as links); returns the copy of its top. */
    private static Path copyOf(BuildContext.Match m, Path dir) throws IOException {
        Path top = dir.resolve("top");
        for (String f : m.files()) {
            Path from = f.isEmpty() ? m.root() : m.root().resolve(f);
            String below = m.rel().isEmpty() ? f : f.equals(m.rel()) ? "" : f.substring(m.rel().length() + 1);
            Path to = below.isEmpty() ? top : top.resolve(below);
            Files.createDirectories(to.getParent());
            if (Files.isSymbolicLink(from)) {
                Files.createSymbolicLink(to, Files.readSymbolicLink(from));
            } else if (Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(to);
            } else {
                Files.copy(from, to, LinkOption.NOFOLLOW_LINKS, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return top;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Closeable c : undo.reversed()) {
            try {
                c.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        undo.clear();
        if (first != null) {
            throw first;
        }
    }
}
