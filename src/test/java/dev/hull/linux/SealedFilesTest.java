package dev.hull.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The read-only views of the executor's binary, whoever holds them. */
class SealedFilesTest {
    @TempDir
    Path dir;

    /** This JVM's own empty layer directories for the overlay (named by its pid), left in java.io.tmpdir. */
    private static long ownEmptyLayers() throws Exception {
        String prefix = "hull-sealed-" + ProcessHandle.current().pid() + "-";
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix)).count();
        }
    }

    @Test
    void aReadOnlyOverlayShowsTheFileRefusesWritesAndLeavesNoDirectory() throws Exception {
        Assumptions.assumeTrue(Syscalls.getuid() == 0, "an overlay mount needs root (CAP_SYS_ADMIN)");
        Assumptions.assumeTrue(Files.readString(Path.of("/proc/filesystems")).contains("\toverlay\n"),
                "the kernel has no overlayfs");
        Path file = Files.writeString(dir.resolve("bin"), "not really an executable\n");
        long before = ownEmptyLayers();
        for (int i = 0; i < 3; i++) { // names never collide, each call cleans up after itself
            int fd = SealedFiles.readOnlyOverlay(file);
            try {
                Path view = Path.of("/proc/self/fd/" + fd);
                assertThat(Files.readString(view)).isEqualTo("not really an executable\n");
                // the overlay is read-only in its superblock: even root cannot write through it
                assertThatThrownBy(() -> Files.writeString(view, "changed")).isInstanceOf(java.io.IOException.class)
                        .hasMessageContaining("Read-only file system");
                assertThat(Files.readString(file)).isEqualTo("not really an executable\n");
            } finally {
                Syscalls.close(fd);
            }
        }
        assertThat(ownEmptyLayers()).as("empty layer directories left behind").isEqualTo(before);
    }

    @Test
    void aSealedMemfdHoldsACopyNobodyCanWrite() throws Exception {
        Path file = Files.writeString(dir.resolve("bin"), "a copy\n");
        int fd = SealedFiles.sealedMemfd(file, "hull-test");
        try {
            Path view = Path.of("/proc/self/fd/" + fd);
            assertThat(Files.readString(view)).isEqualTo("a copy\n");
            assertThatThrownBy(() -> Files.writeString(view, "changed")).isInstanceOf(java.io.IOException.class);
            assertThat(Files.readString(view)).isEqualTo("a copy\n");
        } finally {
            Syscalls.close(fd);
        }
    }
}
