package dev.hull.image;

import dev.hull.image.unpack.LayerException;
import dev.hull.image.unpack.LayerUnpacker;
import dev.hull.image.unpack.UnpackLimits;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Unpacked layers, one directory per chain id under {@code snapshots/}, in
 * overlayfs format (whiteouts as 0:0 character devices, opaque directories
 * marked by xattr). A container's rootfs is an overlay of its image's snapshots
 * with an upper directory of its own, so images share their layers.
 *
 * <p>A layer is unpacked into {@code snapshots/.tmp-*}, its diff id checked
 * against the image config, and only then renamed into place and recorded: a
 * killed unpack leaves a temp directory that the next prune or check removes,
 * never a half layer that looks whole. Directory names are short (12 hex
 * digits of the chain id) so that an overlay mount of many layers fits the
 * kernel's one-page limit on mount options.
 */
public final class SnapshotStore {
    private final ImageStore store;
    private final LayerUnpacker unpacker;

    public SnapshotStore(ImageStore store) {
        this.store = store;
        this.unpacker = new LayerUnpacker(dev.hull.linux.Syscalls.getuid() == 0);
    }

    public Path dir() {
        return store.snapshotsDir();
    }

    /**
     * Makes sure every layer of image is unpacked; returns the snapshot
     * directories, lowest layer first. what names the image in errors.
     */
    public List<Path> prepare(ImageRecord image, String what) throws IOException {
        List<String> chains = image.chainIds();
        if (chains.size() != image.layers().size()) {
            throw new IOException(what + ": the config lists " + image.diffIds().size() + " diff ids for "
                    + image.layers().size() + " layers");
        }
        // Layers unpack into directories of their own, so they unpack in parallel: the
        // kernel's file creation is most of the cost, and it runs on every core.
        Path[] dirs = new Path[chains.size()];
        List<Parallel.Task> tasks = new ArrayList<>();
        for (int i = 0; i < dirs.length; i++) {
            int index = i;
            tasks.add(() -> dirs[index] = ensure(image, index, chains.get(index), what));
        }
        Parallel.run(tasks, Math.max(2, Runtime.getRuntime().availableProcessors()), "hull-unpack-");
        return List.of(dirs);
    }

    /** Makes sure layer index of image is unpacked (for unpacking while a pull still downloads); returns its directory. */
    public Path prepareLayer(ImageRecord image, int index, String what) throws IOException {
        return ensure(image, index, image.chainIds().get(index), what);
    }

    /**
     * Starts unpacking layer index of image from its blob's bytes as they download, on a thread
     * of its own: returns the tee to hand the blob's writer, or null when the layer is unpacked
     * already. The snapshot is kept only if the unpack succeeds, its diff id matches and the tee
     * is finished with ok (the blob whole and verified); else it is discarded, and
     * {@link #prepareLayer} unpacks the stored blob as usual (and reports any error). If another
     * unpacker holds the layer's lock, the streamed bytes are dropped the same way.
     */
    public ContentStore.Tee streamLayer(ImageRecord image, int index, String what) {
        String chainId = image.chainIds().get(index);
        try {
            if (store.readShared().snapshots.get(chainId) != null) {
                return null;
            }
        } catch (IOException e) {
            return null; // the unpack after the download reports it
        }
        TeePipe pipe = new TeePipe(64);
        Thread.ofPlatform().daemon().name("hull-pull-stream").start(() -> {
            try {
                ensure(image, index, chainId, what, pipe);
            } catch (IOException | RuntimeException e) {
                // discarded; the unpack from the stored blob tries again and reports
            } finally {
                pipe.abandon();
            }
        });
        return pipe;
    }

    private Path ensure(ImageRecord image, int index, String chainId, String what)
            throws IOException {
        return ensure(image, index, chainId, what, null);
    }

    /** streamed: unpack from it (null: from the stored blob), only if its layer lock is free now. */
    private Path ensure(ImageRecord image, int index, String chainId, String what, TeePipe streamed)
            throws IOException {
        SnapshotRecord known = store.readShared().snapshots.get(chainId);
        if (known != null && Files.isDirectory(dir().resolve(known.dir()))) {
            return dir().resolve(known.dir());
        }
        // snapshots/ is root's alone: a layer may ship setuid-root binaries (see SecureDirs)
        dev.hull.linux.SecureDirs.ensure(dir(), dev.hull.linux.SecureDirs.PRIVATE);
        Path locks = Files.createDirectories(dir().resolve(".locks"));
        String chainHex = Digest.parse(chainId).hex();
        // One unpacker per chain id across processes; the second waits, then finds it done.
        java.io.Closeable lock = streamed == null ? FileLocks.exclusive(locks.resolve(chainHex))
                : FileLocks.tryExclusive(locks.resolve(chainHex));
        if (lock == null) {
            return null; // another unpacker has this layer: the streamed bytes are not needed
        }
        try (java.io.Closeable ignored = lock) {
            known = store.read().snapshots.get(chainId);
            if (known != null && Files.isDirectory(dir().resolve(known.dir()))) {
                return dir().resolve(known.dir());
            }
            Descriptor layer = image.layers().get(index);
            String diffId = image.diffIds().get(index);
            Path tmp = Files.createTempDirectory(dir(), ".tmp-");
            boolean done = false;
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                String layerWhat = what + " layer " + layer.digest();
                LayerUnpacker.Result r;
                try (InputStream in = streamed != null ? streamed.input()
                        : store.content().open(layer.parsedDigest())) {
                    r = unpacker.unpack(in, tmp, UnpackLimits.forCompressedSize(layer.size()), layerWhat);
                }
                if (!r.diffId().equals(diffId)) {
                    throw new LayerException(layerWhat, null, "uncompressed content has digest " + r.diffId()
                            + " but the image config's diff_id is " + diffId + " (layer rejected)");
                }
                if (streamed != null && !streamed.drainVerified()) {
                    throw new IOException(layerWhat + ": the blob was not stored whole and verified");
                }
                String name = dirName(chainHex);
                Path target = dir().resolve(name);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                Fsync.directory(dir());
                SnapshotRecord rec = new SnapshotRecord(chainId, name, diffId, r.uncompressedBytes(),
                        Instant.now().toString());
                store.update(m -> m.snapshots.put(chainId, rec));
                done = true;
                return target;
            } finally {
                if (!done) {
                    deleteTree(tmp);
                }
            }
        }
    }

    private String dirName(String chainHex) {
        for (int len = 12; len < chainHex.length(); len += 4) {
            String name = chainHex.substring(0, len);
            if (!Files.exists(dir().resolve(name))) {
                return name;
            }
        }
        return chainHex;
    }

    /**
     * Drops from m the snapshots no image in m uses (call under the store's update lock) and
     * returns their directories, to delete once the metadata without them is written.
     */
    List<Path> dropUnused(ImageStore.Metadata m) {
        java.util.Set<String> used = new java.util.HashSet<>();
        for (ImageRecord r : m.images.values()) {
            used.addAll(r.chainIds());
        }
        List<Path> dirs = new ArrayList<>();
        for (var it = m.snapshots.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!used.contains(e.getKey())) {
                dirs.add(dir().resolve(e.getValue().dir()));
                it.remove();
            }
        }
        return dirs;
    }

    /**
     * Deletes a tree without following symlinks; tolerant of what an interrupted unpack left (directories
     * without write or search permission) and of another remover at work in the same tree: an entry that
     * vanishes between the listing and its removal is gone as wanted, and a directory that gained an entry
     * meanwhile (a monitor still closing its sockets in a container's directory) is listed again.
     */
    public static void deleteTree(Path p) throws IOException {
        java.nio.file.attribute.BasicFileAttributes a;
        try {
            a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (!a.isDirectory()) {
            Files.deleteIfExists(p);
            return;
        }
        for (int round = 0; ; round++) {
            // a layer may hold directories without write or search permission for their owner
            p.toFile().setWritable(true, true);
            p.toFile().setExecutable(true, true);
            try (var entries = Files.newDirectoryStream(p)) {
                for (Path e : entries) {
                    deleteTree(e);
                }
            } catch (java.nio.file.NoSuchFileException e) {
                return;
            }
            try {
                Files.deleteIfExists(p);
                return;
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                if (round == 9) {
                    throw e;
                }
            }
        }
    }
}
