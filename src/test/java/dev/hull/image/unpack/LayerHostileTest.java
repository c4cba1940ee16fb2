package dev.hull.image.unpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile layers: each is rejected with a message naming the layer and the entry, and nothing outside
 * the target changes: a sentinel directory and file next to it (what the attacks aim at) are compared
 * before and after, and no new file appears anywhere in the temp directory outside the target.
 */
class LayerHostileTest {
    private static final String WHAT = "image evil.example/x:6 layer sha256:bad0";
    private static final UnpackLimits LIMITS = new UnpackLimits(1L << 30, 1000, 0);

    @TempDir
    Path tmp;
    private Path target, sentinel, outsideFile;
    private Map<String, String> before;

    @BeforeEach
    void setUp() throws IOException {
        target = Files.createDirectory(tmp.resolve("target"));
        sentinel = Files.createDirectory(tmp.resolve("sentinel-dir"));
        Files.writeString(sentinel.resolve("secret"), "original");
        outsideFile = Files.writeString(tmp.resolve("outside-file"), "outside");
        before = snapshotOutsideTarget();
    }

    @AfterEach
    void outsideIsUntouched() throws IOException {
        assertThat(snapshotOutsideTarget()).isEqualTo(before);
        assertThat((int) Files.getAttribute(outsideFile, "unix:nlink")).as("no hard link to the outside file").isEqualTo(1);
    }

    /**
     * Every path under tmp except what is in target, with its type, mode, owner, mtime and content
     * (not the mtimes of tmp and target: the tests remake target).
     */
    private Map<String, String> snapshotOutsideTarget() throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> all = Files.walk(tmp)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (p.startsWith(target) && !p.equals(target)) {
                    continue;
                }
                String desc = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) + " "
                        + Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) + " "
                        + (p.equals(target) || p.equals(tmp) ? "" : Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS));
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    desc += " " + Files.readString(p);
                }
                m.put(tmp.relativize(p).toString(), desc);
            }
        }
        return m;
    }

    private void assertRejected(byte[] layer, String entry) {
        assertRejected(layer, entry, LIMITS);
    }

    /** Rejected, naming WHAT and entry; then target is emptied (as the caller would) for the next attempt. */
    private void assertRejected(byte[] layer, String entry, UnpackLimits limits) {
        assertThatThrownBy(() -> new LayerUnpacker(true).unpack(new ByteArrayInputStream(layer), target, limits, WHAT))
                .isInstanceOf(LayerException.class)
                .hasMessageContaining(WHAT)
                .hasMessageContaining("\"" + entry + "\"");
        try {
            assertThat(snapshotOutsideTarget()).as("outside target after " + entry).isEqualTo(before);
            Fs.deleteTree(target);
            Files.createDirectory(target);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void dotDotAnywhereIsRejected() {
        assertRejected(new TarBuilder().file("../escape", "x", 0644).bytes(), "../escape");
        assertRejected(new TarBuilder().file("a/../../escape", "x", 0644).bytes(), "a/../../escape");
        assertRejected(new TarBuilder().file("/../escape", "x", 0644).bytes(), "/../escape");
        assertRejected(new TarBuilder().dir("ok", 0755).file("ok/..", "x", 0644).bytes(), "ok/..");
    }

    @Test
    void writingThroughASymlinkedDirectoryIsRejected() {
        assertRejected(new TarBuilder().symlink("evil", sentinel.toString()).file("evil/pwned", "x", 0644).bytes(),
                "evil/pwned");
    }

    @Test
    void writingThroughARelativeSymlinkUpIsRejected() {
        assertRejected(new TarBuilder().symlink("evil", "..").file("evil/pwned", "x", 0644).bytes(), "evil/pwned");
        assertThat(tmp.resolve("pwned")).doesNotExist();
    }

    @Test
    void aChainOfSymlinkedDirectoriesIsRejected() {
        assertRejected(new TarBuilder().dir("d", 0755).symlink("d/one", sentinel.toString()).symlink("two", "d/one")
                .file("two/pwned", "x", 0644).bytes(), "two/pwned");
        assertRejected(new TarBuilder().symlink("up", "..").symlink("up2", "up/sentinel-dir")
                .dir("up2/newdir", 0755).bytes(), "up2/newdir/");
    }

    @Test
    void directoriesAndDevicesAreNotMadeThroughSymlinksEither() {
        TarArchiveEntry fifo = TarBuilder.entry("evil/fifo", TarConstants.LF_FIFO);
        assertRejected(new TarBuilder().symlink("evil", sentinel.toString()).add(fifo, null).bytes(), "evil/fifo");
        assertRejected(new TarBuilder().symlink("evil", sentinel.toString()).file("evil/.wh.secret", "", 0).bytes(),
                "evil/.wh.secret");
        assertRejected(new TarBuilder().symlink("evil", sentinel.toString()).file("evil/.wh..wh..opq", "", 0).bytes(),
                "evil/.wh..wh..opq");
    }

    @Test
    void aWhiteoutOfDotDotIsRejectedAndDeletesNothing() {
        // ".wh..." would whiteout "..": the directory holding the target (every other layer)
        assertRejected(new TarBuilder().file(".wh...", "", 0).bytes(), ".wh...");
        assertRejected(new TarBuilder().dir("sub", 0755).file("sub/.wh...", "", 0).bytes(), "sub/.wh...");
        assertRejected(new TarBuilder().file(".wh..", "", 0).bytes(), ".wh..");
    }

    @Test
    void aDirectoryFullOfFilesReplacedByASymlinkIsNotWrittenThrough() {
        // many small files are created by worker threads; the symlink replacing their directory must wait for
        // them, and what comes after must still be refused
        TarBuilder t = new TarBuilder().dir("d", 0755);
        for (int i = 0; i < 300; i++) {
            t.file("d/f" + i, "content " + i, 0644);
        }
        t.symlink("d", sentinel.toString());
        for (int i = 0; i < 50; i++) {
            t.file("e/g" + i, "x", 0644);
        }
        t.file("d/pwned", "x", 0644);
        assertRejected(t.bytes(), "d/pwned");
    }

    @Test
    void aFileThatIsAlsoADirectoryIsRejectedWhileItsCreationIsPending() {
        TarBuilder t = new TarBuilder();
        for (int i = 0; i < 100; i++) {
            t.file("f" + i, "x", 0644);
        }
        assertRejected(t.file("a", "a file", 0644).file("a/b", "x", 0644).bytes(), "a/b");
    }

    @Test
    void hardLinksOutsideTheLayerAreRejected() {
        assertRejected(new TarBuilder().hardlink("h", "../outside-file").bytes(), "h");
        assertRejected(new TarBuilder().hardlink("h", outsideFile.toString()).bytes(), "h"); // made relative: not in the layer
        assertRejected(new TarBuilder().symlink("evil", tmp.toString()).hardlink("h", "evil/outside-file").bytes(), "h");
        assertRejected(new TarBuilder().symlink("evil", "..").hardlink("h", "evil/outside-file").bytes(), "h");
        assertRejected(new TarBuilder().file("a", "a", 0644).hardlink("h", "not-in-layer").bytes(), "h");
        assertRejected(new TarBuilder().dir("d", 0755).hardlink("h", "d").bytes(), "h");
    }

    @Test
    void aFileOverASymlinkReplacesTheLinkItself() throws IOException {
        new LayerUnpacker(true).unpack(new ByteArrayInputStream(new TarBuilder()
                .symlink("f", sentinel.resolve("secret").toString()).file("f", "new", 0600)
                .symlink("g", "../outside-file").dir("g", 0700)
                .symlink("h", sentinel.resolve("secret").toString()).hardlink("h", "f").bytes()), target, LIMITS, WHAT);

        assertThat(Files.isSymbolicLink(target.resolve("f"))).isFalse();
        assertThat(Files.readString(target.resolve("f"))).isEqualTo("new");
        assertThat(Files.isDirectory(target.resolve("g"), LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.readString(target.resolve("h"))).isEqualTo("new");
        assertThat(Files.readString(sentinel.resolve("secret"))).isEqualTo("original");
    }

    @Test
    void metadataIsNeverAppliedThroughASymlink() throws IOException {
        // the root entry's metadata goes to target; a symlink's owner and mtime to the link itself
        TarArchiveEntry link = TarBuilder.entry("l", TarConstants.LF_SYMLINK);
        link.setLinkName(sentinel.resolve("secret").toString());
        link.setIds(4242, 4242);
        new LayerUnpacker(true).unpack(new ByteArrayInputStream(new TarBuilder().add(link, null).bytes()), target,
                LIMITS, WHAT);
        assertThat(Files.getAttribute(target.resolve("l"), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(4242);
    }

    @Test
    void aGzipBombStopsAtTheLimitWithoutWritingItOut() throws IOException {
        long size = 300L << 20;
        ByteArrayOutputStream blob = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Compression.GZIP.compress(blob))) {
            TarArchiveEntry e = TarBuilder.entry("bomb", TarConstants.LF_NORMAL);
            e.setSize(size);
            tar.putArchiveEntry(e);
            byte[] chunk = new byte[1 << 20];
            Arrays.fill(chunk, (byte) 'A'); // not zeros, so a sparse write would not hide it
            for (long n = 0; n < size; n += chunk.length) {
                tar.write(chunk);
            }
            tar.closeArchiveEntry();
        }
        assertThat(blob.size()).as("compressed").isLessThan(2 << 20);
        long start = System.nanoTime();
        var unpacker = new LayerUnpacker(true);
        assertThatThrownBy(() -> unpacker.unpack(new ByteArrayInputStream(blob.toByteArray()), target,
                new UnpackLimits(64L << 20, 1000, 0), WHAT))
                .isInstanceOf(LayerException.class).hasMessageContaining(WHAT).hasMessageContaining("\"bomb\"")
                .hasMessageContaining("limit");
        assertThat((System.nanoTime() - start) / 1_000_000_000).as("seconds").isLessThan(20);
        assertThat(Files.size(target.resolve("bomb"))).as("written before the stop").isLessThanOrEqualTo(64L << 20);
    }

    @Test
    void tooManyEntriesAreRejected() {
        TarBuilder b = new TarBuilder();
        for (int i = 0; i < 20; i++) {
            b.file("f" + i, "x", 0644);
        }
        assertRejected(b.bytes(), "f10", new UnpackLimits(1L << 30, 10, 0));
    }

    @Test
    void tooLittleFreeSpaceIsRejected() {
        assertThatThrownBy(() -> new LayerUnpacker(true).unpack(new ByteArrayInputStream(
                new TarBuilder().file("f", "x", 0644).bytes()), target, new UnpackLimits(1L << 30, 10, Long.MAX_VALUE), WHAT))
                .isInstanceOf(LayerException.class).hasMessageContaining(WHAT).hasMessageContaining("free");
    }

    @Test
    void aTruncatedTarIsRejectedNamingTheEntry() {
        byte[] full = new TarBuilder().file("ok", "fine", 0644).file("big", "b".repeat(10_000), 0644).bytes();
        assertRejected(Arrays.copyOf(full, 5000), "big");
    }

    @Test
    void corruptCompressedDataIsRejected() throws IOException {
        byte[] gz = TarBuilder.compress(Compression.GZIP, new TarBuilder().file("f", "x".repeat(100_000), 0644).bytes());
        byte[] cut = Arrays.copyOf(gz, gz.length / 2);
        assertThatThrownBy(() -> new LayerUnpacker(true).unpack(new ByteArrayInputStream(cut), target, LIMITS, WHAT))
                .isInstanceOf(LayerException.class).hasMessageContaining(WHAT);
    }

    @Test
    void aNulInANameIsRejected() {
        byte[] pax = TarBuilder.paxRecord("path", "a\0b".getBytes(StandardCharsets.UTF_8));
        TarArchiveEntry e = new TarArchiveEntry("placeholder", TarConstants.LF_NORMAL, true);
        e.setModTime(java.nio.file.attribute.FileTime.fromMillis(0));
        assertRejected(new TarBuilder().rawPax(pax).add(e, new byte[0]).bytes(), "a\\0b");
    }

    @Test
    void aTargetThatIsNotEmptyIsRefused() throws IOException {
        Files.writeString(target.resolve("old"), "old");
        assertThatThrownBy(() -> new LayerUnpacker(true).unpack(new ByteArrayInputStream(
                new TarBuilder().file("f", "x", 0644).bytes()), target, LIMITS, WHAT))
                .isInstanceOf(LayerException.class).hasMessageContaining("not empty");
    }
}
