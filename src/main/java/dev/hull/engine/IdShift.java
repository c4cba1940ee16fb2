package dev.hull.engine;

import dev.hull.linux.AtFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Moves a tree's owners from one id range to another, for what carries a container's files between user
 * namespaces (a machine's clone, export and import): owner ids in [from, from + size) become the same
 * offset in [to, to + size); others stay (a whiteout overlayfs made as the host's root, nobody's files).
 * The ids named in POSIX ACLs (system.posix_acl_access and _default) move the same way.
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
     * A regular file or a directory, by descriptor (fd; or opened from dfd's name): its owner moved (when it
     * moves) and its POSIX ACLs' named users and groups moved too (whether or not the owner moves: an ACL can
     * name an id of the range on a file owned by nobody in it). chown drops file capabilities
     * (security.capability), so they are read first and written back for to's root (v3 with to's first uid as
     * rootid; v2 for the host's ids), else ping-like binaries would lose their capability in the new range.
     */
    private static void byDescriptor(int dfd, String name, AtFiles.Stat st, long uid, long gid, Ids from, Ids to)
            throws IOException {
        boolean dir = (st.mode() & AtFiles.S_IFMT) == AtFiles.S_IFDIR;
        int fd = name.isEmpty() ? dfd : AtFiles.openat2(dfd, name, AtFiles.O_RDONLY | AtFiles.O_NOFOLLOW
                | AtFiles.O_NONBLOCK | AtFiles.O_CLOEXEC | (dir ? AtFiles.O_DIRECTORY : 0), 0,
                AtFiles.RESOLVE_BENEATH | AtFiles.RESOLVE_NO_SYMLINKS);
        try {
            java.util.Map<String, byte[]> x = dev.hull.linux.FdXattrs.read(fd);
            if (uid != (st.uid() & 0xffffffffL) || gid != (st.gid() & 0xffffffffL)) {
                AtFiles.fchownat(fd, "", (int) uid, (int) gid, AtFiles.AT_EMPTY_PATH);
                AtFiles.fchmod(fd, st.mode() & 07777);
                byte[] cap = x.get(CAPABILITY);
                if (!dir && cap != null && cap.length >= 20) {
                    dev.hull.linux.FdXattrs.set(fd, CAPABILITY, capFor(cap, to));
                }
            }
            for (String acl : ACLS) {
                byte[] v = x.get(acl);
                byte[] moved = v == null ? null : aclFor(v, from, to);
                if (moved != v) {
                    dev.hull.linux.FdXattrs.set(fd, acl, moved);
                }
            }
        } finally {
            if (fd != dfd) {
                dev.hull.linux.Syscalls.close(fd);
            }
        }
    }

    /** The POSIX ACL attributes: the access ACL and a directory's default ACL. */
    static final java.util.List<String> ACLS = java.util.List.of("system.posix_acl_access",
            "system.posix_acl_default");

    private static final int ACL_USER = 0x02, ACL_GROUP = 0x08;

    /**
     * A POSIX ACL attribute's value (the kernel's posix_acl_xattr: a version word 2, then entries of tag, perm
     * (16 bits each) and id (32)) with its named users' and groups' ids moved from one range to the other; the
     * same array when nothing moved or it is not such a value (left as it is).
     */
    static byte[] aclFor(byte[] acl, Ids from, Ids to) {
        if (from.equals(to) || acl.length < 4 || (acl.length - 4) % 8 != 0) {
            return acl;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(acl.clone()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != 2) {
            return acl;
        }
        boolean moved = false;
        for (int at = 4; at < acl.length; at += 8) {
            int tag = b.getShort(at) & 0xffff;
            long id = b.getInt(at + 4) & 0xffffffffL;
            long now = tag == ACL_USER ? uidIn(from, to, id) : tag == ACL_GROUP ? gidIn(from, to, id) : id;
            if (now != id) {
                b.putInt(at + 4, (int) now);
                moved = true;
            }
        }
        return moved ? b.array() : acl;
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
        int type = st.mode() & AtFiles.S_IFMT;
        if (type == AtFiles.S_IFREG || type == AtFiles.S_IFDIR) {
            byDescriptor(dfd, name, st, uid, gid, from, to); // ACLs too
            return;
        }
        if (uid == (st.uid() & 0xffffffffL) && gid == (st.gid() & 0xffffffffL)) {
            return;
        }
        AtFiles.fchownat(dfd, name, (int) uid, (int) gid, AtFiles.AT_SYMLINK_NOFOLLOW);
        if (type != AtFiles.S_IFLNK) {
            AtFiles.lchmodat(dfd, name, st.mode() & 07777);
        }
    }
}
