package dev.hull.disk;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.linux.Fscrypt;
import dev.hull.linux.LinuxException;
import dev.hull.linux.LoopDevices;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A sized disk kept in a directory of its owner (a volume, a container, later a machine): a sparse
 * ext4 image on a loop device, mounted on the host while its owner exists.
 * <pre>
 * DIR/disk.img    the image (sparse: it costs what it holds)
 * DIR/disk.json   its size, and when encrypted the fscrypt key's identifier and the key wrapped by the key file
 * DIR/disk/       where the image is mounted; DIR/disk/data is the content (encrypted with a v2 policy)
 * </pre>
 * The loop device is made with autoclear: it goes with the last mount of its filesystem, so
 * {@link #release} (a lazy detach of the mounts under DIR) is all removal takes, and a killed
 * command leaves at most a mount that its owner's removal (or prune of the leftover) detaches.
 */
public final class Disk {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BLOCK = 4096, EPERM = 1, ENOKEY = 126;
    private static final byte[] AAD = "hull-disk-v1".getBytes(StandardCharsets.US_ASCII);

    /** What disk.json holds. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Meta(long Size, boolean Encrypted, String KeyId, String Nonce, String WrappedKey) {}

    /** A disk as inspect shows it. */
    public record Status(long size, long allocated, boolean encrypted, boolean mounted, boolean locked,
            String device, Path image) {}

    private Disk() {}

    /** Why a user namespace (rootless Hull) has no sized or encrypted disks. */
    public static final String NESTED = "a sized or encrypted disk (--storage-opt size, volume --opt size/encrypt,"
            + " machine --disk) is an ext4 image on a loop device: attaching one and mounting ext4 take the host's"
            + " root, which a user namespace (rootless Hull) does not have";

    public static Path image(Path dir) {
        return dir.resolve("disk.img");
    }

    public static Path mountPoint(Path dir) {
        return dir.resolve("disk");
    }

    /** Where the owner's files live: a directory on the disk (the one an encrypted disk's policy covers). */
    public static Path content(Path dir) {
        return dir.resolve("disk").resolve("data");
    }

    public static boolean exists(Path dir) {
        return Files.exists(dir.resolve("disk.json"));
    }

    public static Meta meta(Path dir) throws IOException {
        return JSON.readValue(Files.readAllBytes(dir.resolve("disk.json")), Meta.class);
    }

    /**
     * Makes the disk in dir and mounts it: image, filesystem, content directory, and for an encrypted
     * disk a new random key (added to the filesystem, stored only wrapped) and the policy on the
     * content directory. On failure nothing of it is left mounted and the files are removed.
     */
    public static void create(Path dir, DiskSpec spec) throws IOException, RuntimeError {
        if (dev.hull.linux.UserNamespaces.nested()) {
            throw new RuntimeError(RuntimeError.Kind.PERMISSION, NESTED);
        }
        Path img = image(dir);
        boolean done = false;
        try {
            try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
                f.setLength(spec.size() / BLOCK * BLOCK);
            }
            Mkfs.ext4(img, spec.encrypt());
            Files.createDirectories(mountPoint(dir));
            mountImage(dir);
            Path data = content(dir);
            Files.createDirectory(data);
            Meta meta = new Meta(spec.size() / BLOCK * BLOCK, false, null, null, null);
            if (spec.encrypt()) {
                byte[] key = KeyWrap.newDiskKey();
                try {
                    byte[] id = withFd(mountPoint(dir), fd -> Fscrypt.addKey(fd, key));
                    KeyWrap.Wrapped w = KeyWrap.wrap(key, spec.keyFile(), AAD);
                    withFd(data, fd -> {
                        Fscrypt.setPolicy(fd, id);
                        return null;
                    });
                    Base64.Encoder b = Base64.getEncoder();
                    meta = new Meta(meta.Size(), true, HexFormat.of().formatHex(id), b.encodeToString(w.nonce()),
                            b.encodeToString(w.sealed()));
                } finally {
                    Arrays.fill(key, (byte) 0);
                }
            }
            writeMeta(dir, meta);
            done = true;
        } finally {
            if (!done) {
                release(dir);
                Files.deleteIfExists(img);
                Files.deleteIfExists(dir.resolve("disk.json"));
            }
        }
    }

    /** Mounts the disk if it is not (after a reboot, or a kill between making and mounting it). */
    public static void mount(Path dir) throws IOException {
        try (java.io.Closeable l = lock(dir)) {
            if (Mounts.at(mountPoint(dir)) == null) {
                Files.createDirectories(mountPoint(dir));
                mountImage(dir);
            }
        }
    }

    /**
     * The disk's own lock (DIR/disk.lock, across processes and threads, re-entrant), held while it is
     * mounted or grown: two commands that each found it unmounted (two containers of one volume
     * started at once after a reboot) would each attach a loop device — two ext4 instances writing
     * the same blocks — and a mount during an offline resize2fs would meet a filesystem being rewritten.
     */
    private static java.io.Closeable lock(Path dir) throws IOException {
        return dev.hull.image.FileLocks.exclusive(dir.resolve("disk.lock"));
    }

    private static void mountImage(Path dir) throws IOException {
        java.util.List<String> bound = boundLoops(image(dir));
        if (!bound.isEmpty()) { // still mounted elsewhere (a container's mount namespace): the same device, the same
            // filesystem instance; a second loop device would be a second ext4 on the same blocks
            Syscalls.mount("/dev/" + bound.get(0), mountPoint(dir).toString(), "ext4", 0, null);
            return;
        }
        try (LoopDevices.Attached loop = LoopDevices.attach(image(dir).toString())) {
            Syscalls.mount(loop.device(), mountPoint(dir).toString(), "ext4", 0, null);
        } // the mount holds the device now; with autoclear it goes when the mount does
    }

    /** Detaches the disk's mounts (the loop device goes with the last one). */
    public static void release(Path dir) throws IOException {
        Mounts.detachUnder(mountPoint(dir));
    }

    public static Status status(Path dir) throws IOException {
        Meta m = meta(dir);
        Mounts.Mount mount = Mounts.at(mountPoint(dir));
        boolean locked = false;
        if (m.Encrypted() && mount != null) {
            locked = withFd(mountPoint(dir), fd -> Fscrypt.keyStatus(fd, HexFormat.of().parseHex(m.KeyId())))
                    != Fscrypt.KEY_PRESENT;
        }
        Path img = image(dir);
        long allocated = dev.hull.linux.AtFiles.allocated(img.toString());
        return new Status(Files.size(img), allocated, m.Encrypted(), mount != null, m.Encrypted() && (locked
                || mount == null), mount == null ? null : mount.source(), img);
    }

    /**
     * Evicts the encrypted disk's key: its files' names and contents become unreadable (files still
     * open stay readable until closed). Returns whether some files were still in use.
     */
    public static boolean lock(Path dir, String what) throws IOException, RuntimeError {
        Meta m = encrypted(dir, what);
        mount(dir);
        int flags;
        try {
            flags = withFd(mountPoint(dir), fd -> Fscrypt.removeKey(fd, HexFormat.of().parseHex(m.KeyId())));
        } catch (LinuxException e) {
            if (e.errno() == ENOKEY) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, what + " is locked already");
            }
            throw e;
        }
        return (flags & Fscrypt.REMOVAL_FILES_BUSY) != 0;
    }

    /** Adds the encrypted disk's key back, unwrapped with the key file's key (a wrong file is refused). */
    public static void unlock(Path dir, Path keyFile, String what) throws IOException, RuntimeError {
        Meta m = encrypted(dir, what);
        Base64.Decoder b = Base64.getDecoder();
        byte[] key = KeyWrap.unwrap(new KeyWrap.Wrapped(b.decode(m.Nonce()), b.decode(m.WrappedKey())), keyFile, AAD,
                what);
        try {
            mount(dir);
            byte[] id = withFd(mountPoint(dir), fd -> Fscrypt.addKey(fd, key));
            if (!HexFormat.of().formatHex(id).equals(m.KeyId())) {
                throw new IOException(what + ": the unwrapped key is not the disk's key (identifier "
                        + HexFormat.of().formatHex(id) + ", expected " + m.KeyId() + ")");
            }
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /**
     * Grows the disk to size bytes, online: the image, then the loop device, then the filesystem.
     * Where that is refused it is done unmounted, which drops an encrypted disk's key: keyFile adds it
     * back (without one, an encrypted disk is not grown that way).
     */
    public static void grow(Path dir, long size, String what, Path keyFile) throws IOException, RuntimeError {
        try (java.io.Closeable l = lock(dir)) {
            growLocked(dir, size, what, keyFile);
        }
    }

    private static void growLocked(Path dir, long size, String what, Path keyFile) throws IOException, RuntimeError {
        Meta m = meta(dir);
        long blocks = size / BLOCK;
        if (blocks * BLOCK < m.Size()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, what + " has " + m.Size() + " bytes: a disk only"
                    + " grows (shrinking an ext4 filesystem needs it unmounted)");
        }
        if (blocks * BLOCK == m.Size()) {
            return;
        }
        mount(dir);
        try (RandomAccessFile f = new RandomAccessFile(image(dir).toFile(), "rw")) {
            f.setLength(blocks * BLOCK);
        }
        LoopDevices.refreshCapacity(Mounts.at(mountPoint(dir)).source());
        try {
            withFd(mountPoint(dir), fd -> {
                LoopDevices.resizeExt4(fd, blocks);
                return null;
            });
        } catch (LinuxException e) {
            if (e.errno() != EPERM) {
                throw e;
            }
            if (m.Encrypted() && keyFile == null) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, what + " can only be grown unmounted here (no"
                        + " CAP_SYS_RESOURCE), which drops its key: give its key file (--key-file) to add it back");
            }
            growOffline(dir, what); // online resizing needs CAP_SYS_RESOURCE, which this host withholds
            if (m.Encrypted()) {
                unlock(dir, keyFile, what);
            }
        }
        writeMeta(dir, new Meta(blocks * BLOCK, m.Encrypted(), m.KeyId(), m.Nonce(), m.WrappedKey()));
    }

    /** Unmounts the disk, grows its filesystem with resize2fs, mounts it again; refused while a container holds it. */
    private static void growOffline(Path dir, String what) throws IOException, RuntimeError {
        release(dir);
        // the loop goes with the last reference to its mount: a container that just ended (run --rm
        // returns once it is removed) can hold one a moment longer while its namespace is torn down
        for (int i = 0; i < 300 && !boundLoops(image(dir)).isEmpty(); i++) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!boundLoops(image(dir)).isEmpty()) {
            mount(dir);
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, what + " is in use (a running container holds its"
                    + " filesystem) and this host cannot grow a mounted ext4 (no CAP_SYS_RESOURCE): stop it first");
        }
        try {
            Mkfs.growOffline(image(dir));
        } finally {
            mount(dir);
        }
    }

    /** The loop devices (names, e.g. loop3) bound to the image, from /sys/block. */
    public static java.util.List<String> boundLoops(Path image) throws IOException {
        java.util.List<String> out = new java.util.ArrayList<>();
        try (var s = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
            for (Path d : s) {
                try {
                    String f = Files.readString(d.resolve("loop/backing_file")).strip();
                    if (f.equals(image.toString()) || f.equals(image + " (deleted)")) {
                        out.add(d.getFileName().toString());
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // not bound
                }
            }
        }
        return out;
    }

    private static Meta encrypted(Path dir, String what) throws IOException, RuntimeError {
        if (!exists(dir) || !meta(dir).Encrypted()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, what + " has no encrypted disk (make it with"
                    + " encrypt=true)");
        }
        return meta(dir);
    }

    private static void writeMeta(Path dir, Meta m) throws IOException {
        Path tmp = dir.resolve("disk.json.tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
        Files.move(tmp, dir.resolve("disk.json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @FunctionalInterface
    private interface FdCall<T> {
        T apply(int fd) throws LinuxException;
    }

    private static <T> T withFd(Path p, FdCall<T> call) throws LinuxException {
        int fd = Syscalls.open(p.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try {
            return call.apply(fd);
        } finally {
            Syscalls.close(fd);
        }
    }
}
