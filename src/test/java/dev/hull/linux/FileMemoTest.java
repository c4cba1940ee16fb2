package dev.hull.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The memo parses a file once while it stays the same, and again whenever a writer replaced it. */
class FileMemoTest {
    @TempDir
    Path tmp;

    private final AtomicInteger parses = new AtomicInteger();
    private final FileMemo<String> memo = new FileMemo<>(b -> {
        parses.incrementAndGet();
        return new String(b, StandardCharsets.UTF_8);
    });

    /** Replaced whole, as the store's writers do, and dated long ago (settled). */
    private static void replace(Path f, String text, long mtimeMillis) throws Exception {
        Path t = f.resolveSibling(f.getFileName() + ".tmp");
        Files.writeString(t, text);
        Files.setLastModifiedTime(t, FileTime.fromMillis(mtimeMillis));
        Files.move(t, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aSettledFileIsParsedOnceAndAReplacementIsSeen() throws Exception {
        Path f = tmp.resolve("status.json");
        long old = System.currentTimeMillis() - 60_000;
        replace(f, "running", old);
        assertThat(memo.read(f)).isEqualTo("running");
        assertThat(memo.read(f)).isEqualTo("running");
        assertThat(parses).hasValue(1);
        // same size, same timestamp: only the inode tells (a writer's rename)
        replace(f, "exited!", old);
        assertThat(memo.read(f)).isEqualTo("exited!");
        assertThat(parses).hasValue(2);
        Files.delete(f);
        assertThat(memo.read(f)).isNull();
    }

    @Test
    void aFreshFileIsReadAgainUntilItSettles() throws Exception {
        Path f = tmp.resolve("container.json");
        Files.writeString(f, "a"); // now: its timestamp could be shared with a next write in the same tick
        memo.read(f);
        memo.read(f);
        assertThat(parses).hasValue(2);
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        memo.read(f);
        memo.read(f);
        assertThat(parses).hasValue(3);
    }
}
