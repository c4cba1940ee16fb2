package dev.hull.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NewFile: a file made whole through its own descriptor, never through what was at its path. */
class NewFileTest {
    @TempDir
    Path tmp;

    @Test
    void contentOwnerModeXattrAndTimesGoToTheNewFile() throws Exception {
        Path p = tmp.resolve("f");
        byte[] data = "hello".getBytes(StandardCharsets.UTF_8);
        try (NewFile f = NewFile.create(p.toString())) {
            f.pwrite(data, 0, data.length, 0);
            if (Syscalls.getuid() == 0) {
                f.chown(1234, 5678);
            }
            f.chmod(04750);
            f.setxattr("user.note", new byte[] {1, 2, 3});
            f.setTimes(1_700_000_000L, 5);
        }
        assertThat(Files.readAllBytes(p)).isEqualTo(data);
        if (Syscalls.getuid() == 0) {
            assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1234);
            assertThat(Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(5678);
        }
        assertThat((int) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777)
                .as("chmod after chown keeps setuid").isEqualTo(04750);
        assertThat(Syscalls.lgetxattr(p.toString(), "user.note")).isEqualTo(new byte[] {1, 2, 3});
        assertThat(Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(FileTime.from(java.time.Instant.ofEpochSecond(1_700_000_000L, 5)));
    }

    @Test
    void aSymlinkOrFileAtThePathIsNeverWrittenThrough() throws Exception {
        Path outside = Files.writeString(tmp.resolve("outside"), "keep");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), outside);
        assertThatThrownBy(() -> NewFile.create(link.toString())).isInstanceOf(LinuxException.class)
                .satisfies(e -> assertThat(((LinuxException) e).errno()).isEqualTo(Errno.EEXIST));
        Path dangling = Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("would-be-made"));
        assertThatThrownBy(() -> NewFile.create(dangling.toString())).isInstanceOf(LinuxException.class);
        assertThat(tmp.resolve("would-be-made")).doesNotExist();
        assertThatThrownBy(() -> NewFile.create(outside.toString())).isInstanceOf(LinuxException.class);
        assertThat(Files.readString(outside)).isEqualTo("keep");
    }

    @Test
    void writesAtOffsetsLeaveHolesAndTruncateSetsTheLength() throws Exception {
        Path p = tmp.resolve("sparse");
        byte[] block = new byte[100_000]; // more than one scratch buffer's worth
        Arrays.fill(block, (byte) 'x');
        long length = 8L << 20;
        try (NewFile f = NewFile.create(p.toString())) {
            f.pwrite(block, 0, block.length, 1 << 20);
            f.truncate(length);
        }
        assertThat(Files.size(p)).isEqualTo(length);
        byte[] all = Files.readAllBytes(p);
        assertThat(Arrays.copyOfRange(all, 1 << 20, (1 << 20) + block.length)).isEqualTo(block);
        assertThat(all[0]).isZero();
        assertThat(all[(int) length - 1]).isZero();
        assertThat(AtFiles.allocated(p.toString())).as("the rest is holes").isLessThan(1L << 20);
    }
}
