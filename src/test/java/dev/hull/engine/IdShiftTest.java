package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import dev.hull.linux.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link IdShift}: a tree's owners moved between id ranges (a machine's clone, import, a copied rootfs for
 * --userns=auto), modes and file capabilities kept, ids outside the source range left alone, no symlink followed.
 */
class IdShiftTest {
    static final IdShift.Ids A = new IdShift.Ids(1_500_000_000L, 1_500_000_000L, 65536);
    static final IdShift.Ids B = new IdShift.Ids(1_600_000_000L, 1_600_100_000L, 65536);
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createTempDirectory("hull-idshift-test-");
    }

    @AfterEach
    void tearDown() throws Exception {
        SnapshotStore.deleteTree(dir);
    }

    @Test
    void ownersMoveModesAndCapabilitiesStay() throws Exception {
        Path t = Files.createDirectories(dir.resolve("tree/sub"));
        Path f = t.resolve("ping");
        Files.writeString(f, "x");
        Syscalls.lchown(f.toString(), 1000, 42);
        Syscalls.lchmod(f.toString(), 04755);
        // cap_net_raw (13) permitted and effective, v2: as the host's ids see it
        byte[] v2 = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putInt(0x02000001).putInt(1 << 13)
                .putInt(0).putInt(0).putInt(0).array();
        Syscalls.lsetxattr(f.toString(), "security.capability", v2);
        Path outside = dir.resolve("canary");
        Files.writeString(outside, "c");
        Files.createSymbolicLink(t.resolve("link"), outside);
        Path high = t.resolve("nobody");
        Files.writeString(high, "n");
        Syscalls.lchown(high.toString(), 70000, 70000); // outside a 65536-id range: left as it is

        IdShift.shift(dir.resolve("tree"), IdShift.HOST, A);
        assertThat(Files.getAttribute(f, "unix:uid")).isEqualTo((int) A.uid() + 1000);
        assertThat(Files.getAttribute(f, "unix:gid")).isEqualTo((int) A.gid() + 42);
        assertThat(Files.getAttribute(f, "unix:mode")).isEqualTo(0104755);
        byte[] v3 = Syscalls.lgetxattr(f.toString(), "security.capability");
        ByteBuffer b = ByteBuffer.wrap(v3).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(v3).hasSize(24);
        assertThat(b.getInt(0)).isEqualTo(0x03000001);
        assertThat(b.getInt(4)).isEqualTo(1 << 13);
        assertThat(b.getInt(20)).as("rootid: the range's root").isEqualTo((int) A.uid());
        assertThat(Files.getAttribute(t, "unix:uid")).isEqualTo((int) A.uid());
        assertThat(Files.getAttribute(high, "unix:uid")).isEqualTo(70000);
        assertThat(Files.getAttribute(outside, "unix:uid")).as("the link's target is not touched").isEqualTo(0);

        IdShift.shift(dir.resolve("tree"), A, B); // a clone into another range
        assertThat(Files.getAttribute(f, "unix:uid")).isEqualTo((int) B.uid() + 1000);
        assertThat(Files.getAttribute(f, "unix:gid")).isEqualTo((int) B.gid() + 42);
        assertThat(ByteBuffer.wrap(Syscalls.lgetxattr(f.toString(), "security.capability"))
                .order(ByteOrder.LITTLE_ENDIAN).getInt(20)).isEqualTo((int) B.uid());

        IdShift.shift(dir.resolve("tree"), B, IdShift.HOST); // back to the host's ids (an export's view)
        assertThat(Files.getAttribute(f, "unix:uid")).isEqualTo(1000);
        assertThat(Syscalls.lgetxattr(f.toString(), "security.capability")).isEqualTo(v2);
        assertThat(Files.getAttribute(f, "unix:mode")).isEqualTo(0104755);
    }

    /** A POSIX ACL attribute (version 2): entries of tag, perm and id, little-endian. */
    static byte[] acl(int... tagPermId) {
        ByteBuffer b = ByteBuffer.allocate(4 + tagPermId.length / 3 * 8).order(ByteOrder.LITTLE_ENDIAN).putInt(2);
        for (int i = 0; i < tagPermId.length; i += 3) {
            b.putShort((short) tagPermId[i]).putShort((short) tagPermId[i + 1]).putInt(tagPermId[i + 2]);
        }
        return b.array();
    }

    static final int UNDEFINED = -1;

    /** The access ACL u::rwx,u:ID:rwx,g::r-x,g:GID:r-x,m::rwx,o::r-x. */
    static byte[] accessAcl(long uid, long gid) {
        return acl(0x01, 7, UNDEFINED, 0x02, 7, (int) uid, 0x04, 5, UNDEFINED, 0x08, 5, (int) gid, 0x10, 7, UNDEFINED,
                0x20, 5, UNDEFINED);
    }

    @Test
    void theIdsPosixAclsNameMoveWithTheOwners() throws Exception {
        Path t = Files.createDirectories(dir.resolve("tree/shared"));
        Path f = Files.writeString(t.resolve("notes"), "x");
        // a file of root's (whose owner moves) and one of an id outside the range (whose owner stays):
        // both name a user and a group of the range in their ACLs
        Syscalls.lsetxattr(f.toString(), "system.posix_acl_access", accessAcl(1000, 42));
        Path high = Files.writeString(t.resolve("high"), "h");
        Syscalls.lchown(high.toString(), 70000, 70000);
        Syscalls.lsetxattr(high.toString(), "system.posix_acl_access", accessAcl(1000, 70001));
        Syscalls.lsetxattr(t.toString(), "system.posix_acl_default", accessAcl(33, 44));

        IdShift.shift(dir.resolve("tree"), IdShift.HOST, A);
        assertThat(Syscalls.lgetxattr(f.toString(), "system.posix_acl_access"))
                .isEqualTo(accessAcl(A.uid() + 1000, A.gid() + 42));
        assertThat(Syscalls.lgetxattr(high.toString(), "system.posix_acl_access"))
                .as("an owner outside the range stays; the ids of the range its ACL names move, 70001 stays")
                .isEqualTo(accessAcl(A.uid() + 1000, 70001));
        assertThat(Files.getAttribute(high, "unix:uid")).isEqualTo(70000);
        assertThat(Syscalls.lgetxattr(t.toString(), "system.posix_acl_default"))
                .isEqualTo(accessAcl(A.uid() + 33, A.gid() + 44));
        assertThat(Files.getAttribute(f, "unix:mode")).as("the mode the ACL's mask makes, kept").isEqualTo(0100775);

        IdShift.shift(dir.resolve("tree"), A, B); // a clone into another range
        assertThat(Syscalls.lgetxattr(f.toString(), "system.posix_acl_access"))
                .isEqualTo(accessAcl(B.uid() + 1000, B.gid() + 42));
        assertThat(Syscalls.lgetxattr(t.toString(), "system.posix_acl_default"))
                .isEqualTo(accessAcl(B.uid() + 33, B.gid() + 44));
    }

    @Test
    void anExportWritesAclsAsTheContainerSeesThemAndAnImportPutsThemInItsRange() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/d"));
        Path f = Files.writeString(src.resolve("f"), "x");
        Syscalls.lchown(f.toString(), (int) A.uid() + 5, (int) A.gid() + 6);
        Syscalls.lsetxattr(f.toString(), "system.posix_acl_access", accessAcl(A.uid() + 1000, A.gid() + 42));
        Syscalls.lsetxattr(src.toString(), "system.posix_acl_default", accessAcl(A.uid() + 33, A.gid() + 44));
        java.io.ByteArrayOutputStream tar = new java.io.ByteArrayOutputStream();
        TreeClones.exportArchive("config.json", "{}".getBytes(), dir.resolve("src"), "upper", tar, A);

        java.util.Map<String, byte[]> seen = new java.util.HashMap<>();
        try (var in = new dev.hull.image.unpack.XattrTarInputStream(new java.io.ByteArrayInputStream(tar.toByteArray()))) {
            for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                String name = e.getName();
                in.xattrs().forEach((k, v) -> seen.put(name + " " + k, v));
            }
        }
        assertThat(seen.get("upper/d/f system.posix_acl_access")).as("as the machine sees it")
                .isEqualTo(accessAcl(1000, 42));
        assertThat(seen.get("upper/d/ system.posix_acl_default")).isEqualTo(accessAcl(33, 44));

        Path dst = Files.createDirectories(dir.resolve("dst"));
        TreeClones.importArchive(new java.io.ByteArrayInputStream(tar.toByteArray()), "config.json", "upper",
                config -> new TreeClones.Destination(dst, B), null);
        Path g = dst.resolve("d/f");
        assertThat(Files.getAttribute(g, "unix:uid")).isEqualTo((int) B.uid() + 5);
        assertThat(Files.getAttribute(g, "unix:gid")).isEqualTo((int) B.gid() + 6);
        assertThat(Syscalls.lgetxattr(g.toString(), "system.posix_acl_access"))
                .isEqualTo(accessAcl(B.uid() + 1000, B.gid() + 42));
        assertThat(Syscalls.lgetxattr(dst.resolve("d").toString(), "system.posix_acl_default"))
                .isEqualTo(accessAcl(B.uid() + 33, B.gid() + 44));
    }

    @Test
    void anIdOutsideTheRangeIsNotMoved() {
        assertThat(IdShift.uidIn(A, IdShift.HOST, A.uid() + 5)).isEqualTo(5);
        assertThat(IdShift.uidIn(A, IdShift.HOST, 0)).isEqualTo(0);
        assertThat(IdShift.uidIn(A, IdShift.HOST, A.uid() + 65536)).isEqualTo(A.uid() + 65536);
        assertThat(IdShift.gidIn(IdShift.HOST, B, 70000)).isEqualTo(70000);
        assertThat(IdShift.gidIn(IdShift.HOST, B, 7)).isEqualTo(B.gid() + 7);
    }
}
