package dev.hull.image.unpack;

import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.NewFile;
import dev.hull.linux.Syscalls;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * One run of {@link LayerUnpacker#unpack}: the state of unpacking one layer into one directory.
 *
 * <p>How nothing escapes the target: every entry name is normalized ({@link EntryPath}; ".." and NUL
 * are rejected), then its parent is reached by lstat-ing each component from the target down
 * ({@link #directory}): a component that is a symlink or not a directory rejects the layer, a missing
 * one is created with mkdir (which never follows). We are the only writer of the target while unpacking,
 * so what lstat saw stays true; components already checked are remembered until something is removed.
 * The final component is always replaced, never opened: files are created with O_CREAT|O_EXCL|O_NOFOLLOW
 * after unlinking what was there, and chown, chmod, utimes and setxattr all use the no-follow calls, or
 * for a new regular file its own descriptor ({@link NewFile}: its path is looked up once, by that open).
 * Hard links name an existing non-directory reached the same way.
 */
final class LayerExtraction {
    private static final long FREE_CHECK_INTERVAL = 64L << 20;

    private final boolean root;
    private final Path target;
    private Path top; // target's real path
    private final UnpackLimits limits;
    private final String what;
    private final SparseWriter writer = new SparseWriter();
    /** Relative paths lstat showed to be real directories (not symlinks), and nothing removed since. */
    private final TreeSet<String> knownDirs = new TreeSet<>();
    /**
     * Relative paths this run made and has not removed: the target starts empty and we are its only
     * writer, so nothing else is there, and a path not in here needs no lstat to be known absent.
     * Should one be missed, the create that follows fails (O_EXCL, mkdir, symlink, mknod and link
     * never replace or follow what is there): wrong here fails the layer, never escapes.
     */
    private final TreeSet<String> made = new TreeSet<>();
    /** Times (and, for directories, modes) applied at the end; keyed by relative path, later entries win. */
    private final TreeMap<String, Deferred> deferred = new TreeMap<>();
    private FileStore store;
    private String entry; // the tar entry being handled, for messages
    private long entries, skippedDevices, sinceFreeCheck;

    private record Deferred(Path path, int depth, boolean dir, int mode, FileTime mtime) {}

    /**
     * New small regular files are created by worker threads: creating a file is mostly kernel work
     * (about a millisecond each on some filesystems), which then runs on every core. Only a file
     * whose path nothing occupies and no pending file shares is handed over; the main thread keeps
     * every check and makes every directory, and waits for all pending files ({@link #flush})
     * before any entry that could touch one of them.
     */
    private static final int ASYNC_MAX_FILE = 1 << 20, ASYNC_MAX_PENDING = 256;
    private final java.util.concurrent.ExecutorService workers;
    private final java.util.ArrayDeque<Pending> pending = new java.util.ArrayDeque<>();
    private final TreeSet<String> pendingPaths = new TreeSet<>();
    private static final long ASYNC_MAX_BYTES = 32L << 20;
    private long pendingBytes;

    private record Pending(String entry, String rel, long bytes, java.util.concurrent.Future<?> done) {}

    LayerExtraction(boolean root, Path target, UnpackLimits limits, String what) {
        this.root = root;
        this.target = target;
        this.limits = limits;
        this.what = what;
        int threads = Integer.getInteger("hull.unpack.fileThreads", Runtime.getRuntime().availableProcessors());
        this.workers = threads < 2 ? null : java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "hull-unpack-file");
            t.setDaemon(true);
            return t;
        });
    }

    LayerUnpacker.Result run(InputStream layer) throws IOException {
        try {
            return extractAll(layer);
        } finally {
            if (workers != null) {
                // nothing may write into the target after we return (the caller deletes it on failure)
                workers.shutdownNow();
                boolean interrupted = Thread.interrupted();
                while (true) { // not interruptible: returning early would leave workers writing
                    try {
                        if (workers.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
                            break;
                        }
                        System.err.println("hull: " + what + ": waiting for file writers to stop");
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private LayerUnpacker.Result extractAll(InputStream layer) throws IOException {
        top = checkTarget();
        store = Files.getFileStore(top);
        checkFreeSpace();
        BufferedInputStream in = new BufferedInputStream(new FilterInputStream(layer) {
            @Override
            public void close() {} // the caller's stream is the caller's to close
        }, 64 * 1024);
        Compression compression = Compression.detect(in);
        try (InputStream plain = open(compression, in)) {
            MeteredStream meter = new MeteredStream(plain, limits.maxBytes(),
                    limit -> fail("the uncompressed layer is larger than the limit of " + limit + " bytes"));
            XattrTarInputStream tar = new XattrTarInputStream(meter);
            for (TarArchiveEntry e; (e = next(tar)) != null; ) {
                entry = e.getName();
                if (++entries > limits.maxEntries()) {
                    throw fail("the layer has more than " + limits.maxEntries() + " entries");
                }
                try {
                    extract(e, tar);
                } catch (LayerException x) {
                    throw x;
                } catch (IOException x) {
                    throw fail(x.getMessage(), x);
                }
            }
            flush();
            entry = null;
            try {
                meter.drain();
            } catch (LayerException x) {
                throw x;
            } catch (IOException x) {
                throw fail("the data after the tar's end is corrupt: " + x.getMessage(), x);
            }
            finish();
            if (skippedDevices > 0) {
                System.err.println("hull: " + what + ": skipped " + skippedDevices
                        + " device node(s): creating them needs root");
            }
            return new LayerUnpacker.Result(meter.digest(), meter.count(), entries);
        }
    }

    private Path checkTarget() throws IOException {
        if (!Files.isDirectory(target)) {
            throw fail("the target " + target + " is not a directory");
        }
        try (var list = Files.list(target)) {
            if (list.findAny().isPresent()) {
                throw fail("the target " + target + " is not empty");
            }
        }
        return target.toRealPath();
    }

    private InputStream open(Compression compression, InputStream in) throws LayerException {
        try {
            return compression.decompress(in);
        } catch (IOException e) {
            throw fail("the " + compression + " stream is corrupt: " + e.getMessage(), e);
        }
    }

    private TarArchiveEntry next(XattrTarInputStream tar) throws LayerException {
        try {
            TarArchiveEntry e = tar.getNextEntry();
            while (e != null && e.isGlobalPaxHeader()) {
                e = tar.getNextEntry();
            }
            return e;
        } catch (LayerException x) {
            throw x;
        } catch (IOException x) {
            throw fail("the tar is corrupt or truncated " + (entry == null ? "at its start" : "after this entry")
                    + ": " + x.getMessage(), x);
        }
    }

    private void extract(TarArchiveEntry e, XattrTarInputStream tar) throws IOException {
        EntryPath path;
        try {
            path = EntryPath.of(e.getName());
        } catch (IllegalArgumentException x) {
            throw fail(x.getMessage());
        }
        if (!pending.isEmpty() && mayTouchPending(e, path)) {
            flush();
        }
        if (path.base().startsWith(Overlay.WHITEOUT_PREFIX)) {
            whiteout(path);
            return;
        }
        if (path.isRoot()) {
            if (!e.isDirectory()) {
                throw fail("only a directory can stand for the layer's root");
            }
            applyMetadata(e, tar, path, top);
            return;
        }
        Path dst = directory(path.parent(), true, "parent").resolve(path.base());
        if (e.isLink()) {
            hardLink(e, path, dst);
            return;
        }
        String rel = path.toString();
        if (e.isDirectory()) {
            BasicFileAttributes a = knownDirs.contains(rel) ? null : lstatMade(rel, dst);
            if (!knownDirs.contains(rel) && (a == null || !a.isDirectory())) {
                remove(path, dst);
                Files.createDirectory(dst);
                made.add(rel);
            }
            knownDirs.add(rel);
        } else if (e.isSymbolicLink()) {
            remove(path, dst);
            Syscalls.symlink(e.getLinkName(), dst.toString());
            made.add(rel);
        } else if (e.isCharacterDevice() || e.isBlockDevice()) {
            if (!root) {
                skippedDevices++;
                return;
            }
            remove(path, dst);
            int type = e.isCharacterDevice() ? Syscalls.S_IFCHR : Syscalls.S_IFBLK;
            Syscalls.mknod(dst.toString(), type | 0600, Syscalls.makedev(e.getDevMajor(), e.getDevMinor()));
            made.add(rel);
        } else if (e.isFIFO()) {
            remove(path, dst);
            Syscalls.mkfifo(dst.toString(), 0600);
            made.add(rel);
        } else if (isRegularFile(e)) {
            if (workers != null && !e.isSparse() && e.getSize() <= ASYNC_MAX_FILE && !made.contains(rel)) {
                made.add(rel);
                createLater(e, tar, path, dst);
                return;
            }
            remove(path, dst);
            made.add(rel);
            try (NewFile f = NewFile.create(dst.toString())) {
                writer.write(tar, f, this::wrote);
                finishFile(f, e, tar.xattrs(), path);
            }
            return; // owner, mode, xattrs and times set through its descriptor
        } else {
            throw fail("unsupported tar entry type '" + (char) e.getLinkFlag() + "'");
        }
        applyMetadata(e, tar, path, dst);
    }

    private static boolean isRegularFile(TarArchiveEntry e) {
        byte t = e.getLinkFlag();
        return t == TarConstants.LF_NORMAL || t == TarConstants.LF_OLDNORM || t == TarConstants.LF_CONTIG
                || t == TarConstants.LF_GNUTYPE_SPARSE;
    }

    /** ".wh.NAME" makes NAME a whiteout; ".wh..wh..opq" marks its directory opaque. */
    private void whiteout(EntryPath path) throws IOException {
        if (!root) {
            throw fail("the layer deletes files from the layers below (whiteouts), which needs root"
                    + " to express in overlayfs format");
        }
        if (path.base().equals(Overlay.OPAQUE_MARKER)) {
            Overlay.markOpaque(directory(path.parent(), true, "opaque directory"));
            return;
        }
        String name = path.base().substring(Overlay.WHITEOUT_PREFIX.length());
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/")) {
            throw fail("a whiteout must name a file");
        }
        EntryPath victim = path.parent().child(name);
        Path dst = directory(victim.parent(), true, "parent").resolve(name);
        remove(victim, dst);
        Overlay.makeWhiteout(dst);
        made.add(victim.toString());
    }

    private void hardLink(TarArchiveEntry e, EntryPath path, Path dst) throws IOException {
        EntryPath target;
        try {
            target = EntryPath.of(e.getLinkName());
        } catch (IllegalArgumentException x) {
            throw fail("the hard link's target \"" + e.getLinkName() + "\" is invalid: " + x.getMessage());
        }
        if (target.isRoot()) {
            throw fail("a hard link cannot point at the layer's root");
        }
        Path src = directory(target.parent(), false, "hard link target's parent").resolve(target.base());
        BasicFileAttributes a = Fs.lstat(src);
        if (a == null) {
            throw fail("the hard link's target \"" + target + "\" is not in the layer (it must come earlier)");
        }
        if (a.isDirectory()) {
            throw fail("the hard link's target \"" + target + "\" is a directory");
        }
        if (src.equals(dst)) {
            return;
        }
        remove(path, dst);
        Files.createLink(dst, src); // link(2) does not follow a symlink src
        made.add(path.toString());
    }

    /**
     * The directory at dir, reached from the target by lstat-ing every component: a symlink or a
     * non-directory anywhere rejects the layer; missing ones are made (mode 0755) when create, else
     * reject.
     */
    private Path directory(EntryPath dir, boolean create, String role) throws IOException {
        Path p = top;
        StringBuilder rel = new StringBuilder();
        for (String part : dir.parts()) {
            p = p.resolve(part);
            rel.append(rel.isEmpty() ? "" : "/").append(part);
            String r = rel.toString();
            if (knownDirs.contains(r)) {
                continue;
            }
            BasicFileAttributes a = lstatMade(r, p);
            if (a == null) {
                if (!create) {
                    throw fail("the " + role + " \"" + r + "\" does not exist in the layer");
                }
                Files.createDirectory(p);
                made.add(r);
                Syscalls.lchmod(p.toString(), 0755);
            } else if (a.isSymbolicLink()) {
                throw fail("the " + role + " \"" + r + "\" is a symlink: nothing is written through a symlink");
            } else if (!a.isDirectory()) {
                throw fail("the " + role + " \"" + r + "\" is not a directory");
            }
            knownDirs.add(r);
        }
        return p;
    }

    /** Removes whatever is at dst (a directory with its content), so a later entry replaces it. */
    private void remove(EntryPath path, Path dst) throws IOException {
        String rel = path.toString();
        BasicFileAttributes a = lstatMade(rel, dst);
        if (a == null) {
            return;
        }
        if (a.isDirectory()) {
            Fs.deleteTree(dst);
            knownDirs.subSet(rel + "/", rel + "0").clear(); // '0' follows '/': everything under rel
            deferred.subMap(rel + "/", rel + "0").clear();
            made.subSet(rel + "/", rel + "0").clear();
        } else {
            Files.delete(dst); // a symlink itself, never its target
        }
        knownDirs.remove(rel);
        deferred.remove(rel);
        made.remove(rel);
    }

    /** lstat of dst (at rel), or null without a syscall when this run never made rel (nothing is there). */
    private BasicFileAttributes lstatMade(String rel, Path dst) throws IOException {
        return rel.isEmpty() || made.contains(rel) ? Fs.lstat(dst) : null;
    }

    private void applyMetadata(TarArchiveEntry e, XattrTarInputStream tar, EntryPath path, Path dst)
            throws IOException {
        int mode = e.getMode() & 07777;
        setOwnerModeXattrs(e, tar.xattrs(), path, dst);
        deferred.put(path.toString(), new Deferred(dst, path.parts().size(), e.isDirectory(), mode,
                e.getLastModifiedTime()));
    }

    /** Ownership, mode and xattrs, in that order; thread-safe (file workers call it too). */
    private void setOwnerModeXattrs(TarArchiveEntry e, Map<String, byte[]> xattrs, EntryPath path, Path dst)
            throws IOException {
        String p = dst.toString();
        if (root) {
            Syscalls.lchown(p, (int) e.getLongUserId(), (int) e.getLongGroupId());
        }
        int mode = e.getMode() & 07777;
        if (!e.isDirectory() && !e.isSymbolicLink()) {
            Syscalls.lchmod(p, mode); // after chown, which clears setuid/setgid
        }
        for (Map.Entry<String, byte[]> x : xattrs.entrySet()) { // after chown, which drops capabilities
            String name = x.getKey();
            if (name.startsWith(Overlay.XATTR_PREFIX) || !root && !name.startsWith("user.")) {
                continue; // overlayfs's own attributes never come from an image
            }
            try {
                Syscalls.lsetxattr(p, name, x.getValue());
            } catch (LinuxException le) {
                if (le.errno() != Errno.EOPNOTSUPP) {
                    throw le;
                }
                System.err.println("hull: " + what + ": " + path + ": the filesystem does not support xattr " + name);
            }
        }
    }

    /** Hands a new small regular file to a worker: content read here, created and chowned there. */
    private void createLater(TarArchiveEntry e, XattrTarInputStream tar, EntryPath path, Path dst)
            throws IOException {
        byte[] data = tar.readNBytes((int) e.getSize());
        if (data.length != e.getSize()) {
            throw fail("the tar ends inside this file's content");
        }
        wrote(data.length);
        Map<String, byte[]> xattrs = tar.xattrs();
        String name = entry;
        while (pending.size() >= ASYNC_MAX_PENDING || pendingBytes + data.length > ASYNC_MAX_BYTES && !pending.isEmpty()) {
            await(pending.removeFirst());
        }
        String rel = path.toString();
        pendingPaths.add(rel);
        pendingBytes += data.length;
        pending.addLast(new Pending(name, rel, data.length, workers.submit(() -> {
            try (NewFile f = NewFile.create(dst.toString())) {
                SparseWriter.writeAll(data, f);
                finishFile(f, e, xattrs, path);
            }
            return null;
        })));
    }

    /**
     * A new regular file's ownership, mode, xattrs (in that order, as {@link #setOwnerModeXattrs})
     * and times, all through the descriptor that created it: nothing later in a layer changes a
     * regular file's times (a later entry at its path replaces the file), so they are set now, not
     * in {@link #finish}. Thread-safe (file workers call it).
     */
    private void finishFile(NewFile f, TarArchiveEntry e, Map<String, byte[]> xattrs, EntryPath path)
            throws IOException {
        if (root) {
            f.chown((int) e.getLongUserId(), (int) e.getLongGroupId());
        }
        f.chmod(e.getMode() & 07777); // after chown, which clears setuid/setgid
        for (Map.Entry<String, byte[]> x : xattrs.entrySet()) { // after chown, which drops capabilities
            String name = x.getKey();
            if (name.startsWith(Overlay.XATTR_PREFIX) || !root && !name.startsWith("user.")) {
                continue; // overlayfs's own attributes never come from an image
            }
            try {
                f.setxattr(name, x.getValue());
            } catch (LinuxException le) {
                if (le.errno() != Errno.EOPNOTSUPP) {
                    throw le;
                }
                System.err.println("hull: " + what + ": " + path + ": the filesystem does not support xattr " + name);
            }
        }
        java.time.Instant t = e.getLastModifiedTime().toInstant();
        f.setTimes(t.getEpochSecond(), t.getNano());
    }

    /** Whether entry e could touch a file still being created: its path, a parent, something under it. */
    private boolean mayTouchPending(TarArchiveEntry e, EntryPath path) {
        if (!isRegularFile(e) && !e.isDirectory() && !e.isSymbolicLink()) {
            return true; // hard links, whiteouts, devices, FIFOs: rare, keep them simple
        }
        if (path.base().startsWith(Overlay.WHITEOUT_PREFIX) || path.isRoot()) {
            return true;
        }
        StringBuilder rel = new StringBuilder();
        for (String part : path.parts()) {
            rel.append(rel.isEmpty() ? "" : "/").append(part);
            if (pendingPaths.contains(rel.toString())) {
                return true;
            }
        }
        // replacing a directory removes what is under it, pending files included
        String self = rel.toString();
        return !pendingPaths.subSet(self + "/", self + "0").isEmpty();
    }

    /** Waits for every pending file; the first failure rejects the layer, naming its entry. */
    private void flush() throws IOException {
        while (!pending.isEmpty()) {
            await(pending.removeFirst());
        }
    }

    private void await(Pending p) throws IOException {
        try {
            p.done().get();
        } catch (java.util.concurrent.ExecutionException x) {
            flushQuietly();
            Throwable c = x.getCause();
            String problem = c instanceof java.nio.file.FileAlreadyExistsException
                    || c instanceof LinuxException le && le.errno() == Errno.EEXIST
                    ? "it is created twice" : String.valueOf(c.getMessage());
            throw new LayerException(what, p.entry(), problem, c);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException(what + ": interrupted");
        } finally {
            pendingPaths.remove(p.rel());
            pendingBytes -= p.bytes();
        }
    }

    private void flushQuietly() {
        for (Pending p : pending) {
            try {
                p.done().get();
            } catch (Exception ignored) {
                // the first failure is the one reported
            }
        }
        pending.clear();
        pendingPaths.clear();
        pendingBytes = 0;
    }

    /** Times of everything, then directory modes and times, deepest first (making entries touches a directory's mtime). */
    private void finish() throws IOException {
        List<Map.Entry<String, Deferred>> dirs = new ArrayList<>();
        for (Map.Entry<String, Deferred> d : deferred.entrySet()) {
            if (d.getValue().dir()) {
                dirs.add(d);
            } else {
                entry = d.getKey();
                Fs.setTimes(d.getValue().path(), d.getValue().mtime());
            }
        }
        dirs.sort(Comparator.comparingInt((Map.Entry<String, Deferred> d) -> d.getValue().depth()).reversed());
        for (Map.Entry<String, Deferred> d : dirs) {
            entry = d.getKey();
            Syscalls.lchmod(d.getValue().path().toString(), d.getValue().mode());
            Fs.setTimes(d.getValue().path(), d.getValue().mtime());
        }
        entry = null;
    }

    private void wrote(long bytes) throws IOException {
        sinceFreeCheck += bytes;
        if (sinceFreeCheck >= FREE_CHECK_INTERVAL) {
            sinceFreeCheck = 0;
            checkFreeSpace();
        }
    }

    private void checkFreeSpace() throws IOException {
        long free = store.getUsableSpace();
        if (free < limits.minFreeBytes()) {
            throw fail("only " + free + " bytes are free on the filesystem of " + top + ", below the minimum of "
                    + limits.minFreeBytes());
        }
    }

    private LayerException fail(String problem) {
        return new LayerException(what, entry, problem);
    }

    private LayerException fail(String problem, Throwable cause) {
        return new LayerException(what, entry, problem, cause);
    }
}
