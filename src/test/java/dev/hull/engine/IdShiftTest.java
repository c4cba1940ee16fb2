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

    @Test
    void anIdOutsideTheRangeIsNotMoved() {
        assertThat(IdShift.uidIn(A, IdShift.HOST, A.uid() + 5)).isEqualTo(5);
        assertThat(IdShift.uidIn(A, IdShift.HOST, 0)).isEqualTo(0);
        assertThat(IdShift.uidIn(A, IdShift.HOST, A.uid() + 65536)).isEqualTo(A.uid() + 65536);
        assertThat(IdShift.gidIn(IdShift.HOST, B, 70000)).isEqualTo(70000);
        assertThat(IdShift.gidIn(IdShift.HOST, B, 7)).isEqualTo(B.gid() + 7);
    }
}
