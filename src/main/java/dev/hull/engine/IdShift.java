package dev.hull.engine;

import dev.hull.linux.AtFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Moves a tree's owners from one id range to another, for what carries a container's files between user
 * namespaces (a machine's clone, export and import): owner ids in [from, from + size) become the same
 * offset in [to, to + size); others stay (a whiteout overlayfs made as the host's root, nobody's files).
 * {@link #HOST} stands for the host's own ids (a container with no user namespace of its own). Walked through
 * directory descriptors (openat2 beneath, no symlinks) and changed with *at calls that follow nothing, so a
 * container sharing a volume that swaps a directory for a link meanwhile cannot make the host's root chown
 * anything outside it ({@link UsernsAuto#shift}, a fresh volume or copy moved into a container's range, is this).
 */
public final class IdShift {
    /** A container's mapping: its ids 0..size-1 are host uids uid.. and gids gid.. ; {@link #HOST}: none. */
    public record Ids(long uid, long gid, long size) {}

    /** The host's own ids: what a container without a user namespace of its own writes. */
    public static final Ids HOST = new Ids(0, 0, 1L << 32);

    private IdShift() {}

    /** The ids a container directory's files are written with: its --userns=auto range, else the host's. */
    public static Ids of(Path containerDir) throws IOException {
        SubIds.Range r = SubIds.of(containerDir);
        return r == null ? HOST : new Ids(r.uid(), r.gid(), r.size());
    }

    /** Whether the container directory holds a range of its own (a user namespace). */
    public static boolean mapped(Path containerDir) throws IOException {
        return SubIds.of(containerDir) != null;
    }

    /** A host uid as the container's (from's offset), or the id itself when outside from. */
    public static long uidIn(Ids from, Ids to, long id) {
        return id >= from.uid() && id - from.uid() < Math.min(from.size(), to.size()) ? to.uid() + id - from.uid()
                : id;
    }

    public static long gidIn(Ids from, Ids to, long id) {
        return id >= from.gid() && id - from.gid() < Math.min(from.size(), to.size()) ? to.gid() + id - from.gid()
                : id;
    }

    /** Every owner under dir (dir too) moved from one range to the other; nothing when they are the same. */
    public static void shift(Path dir, Ids from, Ids to) throws IOException {
        if (from.equals(to)) {
            return;
        }
        int fd = dev.hull.linux.Syscalls.open(dir.toString(), AtFiles.O_RDONLY | AtFiles.O_DIRECTORY
                | AtFiles.O_NOFOLLOW | AtFiles.O_CLOEXEC, 0);
        try {
            one(fd, "", AtFiles.fstat(fd), from, to);
            below(fd, from, to);
        } finally {
            dev.hull.linux.Syscalls.close(fd);
        }
    }

    private static void below(int dfd, Ids from, Ids to) throws IOException {
        for (String name : AtFiles.list(dfd)) {
            AtFiles.Stat st = AtFiles.lstatOrNull(dfd, name);
            if (st == null) {
                continue;
            }
            one(dfd, name, st, from, to);
            if ((st.mode() & AtFiles.S_IFMT) == AtFiles.S_IFDIR) {
                int c = AtFiles.openat2(dfd, name, AtFiles.O_RDONLY | AtFiles.O_DIRECTORY | AtFiles.O_NOFOLLOW
                        | AtFiles.O_CLOEXEC, 0, AtFiles.RESOLVE_BENEATH | AtFiles.RESOLVE_NO_SYMLINKS);
                try {
                    below(c, from, to);
                } finally {
                    dev.hull.linux.Syscalls.close(c);
                }
            }
        }
    }

    /**
     * A regular file, by descriptor: chown drops its file capabilities (security.capability), so they are read
     * first and written back for to's root (v3 with to's first uid as rootid; v2 for the host's ids), else
     * ping-like binaries would lose their capability in the new range.
     */
    private static void regular(int dfd, String name, AtFiles.Stat st, long uid, long gid, Ids to) throws IOException {
        int fd = AtFiles.openat2(dfd, name, AtFiles.O_RDONLY | AtFiles.O_NOFOLLOW | AtFiles.O_NONBLOCK
                | AtFiles.O_CLOEXEC, 0, AtFiles.RESOLVE_BENEATH | AtFiles.RESOLVE_NO_SYMLINKS);
        try {
            byte[] cap = dev.hull.linux.FdXattrs.read(fd).get(CAPABILITY);
            AtFiles.fchownat(fd, "", (int) uid, (int) gid, AtFiles.AT_EMPTY_PATH);
            AtFiles.fchmod(fd, st.mode() & 07777);
            if (cap != null && cap.length >= 20) {
                dev.hull.linux.FdXattrs.set(fd, CAPABILITY, capFor(cap, to));
            }
        } finally {
            dev.hull.linux.Syscalls.close(fd);
        }
    }

    static final String CAPABILITY = "security.capability";

    /** A vfs_cap_data (v2 or v3) made for to's root: v3 with rootid to.uid, or v2 for the host's ids. */
    static byte[] capFor(byte[] cap, Ids to) {
        boolean host = to.equals(HOST);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(cap).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int effective = in.getInt(0) & 0x000001;
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(host ? 20 : 24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.putInt((host ? 0x02000000 : 0x03000000) | effective);
        out.put(cap, 4, 16); // permitted and inheritable, two 32-bit words each
        if (!host) {
            out.putInt((int) to.uid());
        }
        return out.array();
    }

    /** name in dfd ("": dfd itself) given its owner in to; its mode kept (chown clears setuid and setgid). */
    private static void one(int dfd, String name, AtFiles.Stat st, Ids from, Ids to) throws IOException {
        long uid = uidIn(from, to, st.uid() & 0xffffffffL), gid = gidIn(from, to, st.gid() & 0xffffffffL);
        if (uid == (st.uid() & 0xffffffffL) && gid == (st.gid() & 0xffffffffL)) {
            return;
        }
        if ((st.mode() & AtFiles.S_IFMT) == AtFiles.S_IFREG) {
            regular(dfd, name, st, uid, gid, to);
            return;
        }
        int flags = name.isEmpty() ? AtFiles.AT_EMPTY_PATH : AtFiles.AT_SYMLINK_NOFOLLOW;
        AtFiles.fchownat(dfd, name, (int) uid, (int) gid, flags);
        if ((st.mode() & AtFiles.S_IFMT) == AtFiles.S_IFLNK) {
            return;
        }
        if (name.isEmpty()) {
            AtFiles.fchmod(dfd, st.mode() & 07777);
        } else {
            AtFiles.lchmodat(dfd, name, st.mode() & 07777);
        }
    }
}
