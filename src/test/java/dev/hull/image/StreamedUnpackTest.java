package dev.hull.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Unpacking a layer while its blob downloads ({@link SnapshotStore#streamLayer}): the snapshot is
 * kept only when the blob was stored whole with the right digest, never from bytes that failed
 * the digest check even if they unpack to the right diff id.
 */
class StreamedUnpackTest {
    private Path home;
    private ImageService images;

    @BeforeEach
    void setUp() throws IOException {
        home = Files.createTempDirectory(Path.of("/tmp"), "hull-stream-");
        images = new ImageService(home);
    }

    @AfterEach
    void tearDown() throws IOException {
        SnapshotStore.deleteTree(home);
    }

    private static byte[] layerTar() throws IOException {
        return ImageFixtures.tar(Map.of("etc/", "", "etc/hello", "streamed layer\n", "bin/x", "#!/bin/sh\n"));
    }

    /** A record whose one layer blob is not in the store (as before its download). */
    private ImageRecord undownloaded() throws IOException {
        ImageRecord r = ImageFixtures.image(images.store(), null, null, List.of(layerTar()), null);
        images.store().content().delete(r.layers().get(0).parsedDigest());
        return r;
    }

    private static void waitForStreamThreads() throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().equals("hull-pull-stream"))) {
            assertThat(System.nanoTime()).as("the streaming unpack ends").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private List<String> tempDirs() throws IOException {
        try (var s = Files.list(images.snapshots().dir())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".tmp-")).toList();
        }
    }

    private void download(Descriptor layer, byte[] bytes, long expectedSize, ContentStore.Tee tee)
            throws IOException {
        try (ContentStore.Writer w = images.store().content().writer(layer.parsedDigest(), expectedSize)) {
            w.tee(tee);
            OutputStream out = w.stream();
            for (int off = 0; off < bytes.length; off += 7) { // many small writes, as a download makes
                out.write(bytes, off, Math.min(7, bytes.length - off));
            }
            w.commit();
        }
    }

    @Test
    void verifiedDownloadIsUnpackedWhileItArrives() throws Exception {
        ImageRecord r = undownloaded();
        Descriptor layer = r.layers().get(0);
        ContentStore.Tee tee = images.snapshots().streamLayer(r, 0, "test layer");
        assertThat(tee).isNotNull();
        download(layer, ImageFixtures.gzip(layerTar()), layer.size(), tee);
        waitForStreamThreads();

        SnapshotRecord s = images.store().read().snapshots.get(r.chainIds().get(0));
        assertThat(s).as("snapshot made from the streamed bytes, no unpack from the blob asked").isNotNull();
        Path dir = images.snapshots().dir().resolve(s.dir());
        assertThat(Files.readString(dir.resolve("etc/hello"))).isEqualTo("streamed layer\n");
        assertThat(tempDirs()).isEmpty();
        assertThat(images.snapshots().streamLayer(r, 0, "test layer")).as("nothing to stream once unpacked").isNull();
    }

    @Test
    void bytesFailingTheDigestAreNeverKeptEvenWithTheRightDiffId() throws Exception {
        ImageRecord r = undownloaded();
        Descriptor layer = r.layers().get(0);
        // the same tar compressed otherwise: unpacks to the right diff id, but is not the blob asked for
        ByteArrayOutputStream other = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(other) {
            {
                def.setLevel(Deflater.NO_COMPRESSION);
            }
        }) {
            z.write(layerTar());
        }
        byte[] impostor = other.toByteArray();
        assertThat(Digest.sha256(impostor).toString()).isNotEqualTo(layer.digest());

        ContentStore.Tee tee = images.snapshots().streamLayer(r, 0, "test layer");
        assertThat(tee).isNotNull();
        IOException failed = null;
        try {
            download(layer, impostor, -1, tee);
        } catch (IOException e) {
            failed = e;
        }
        assertThat(failed).as("the blob's digest check").isNotNull().hasMessageContaining("digest");
        waitForStreamThreads();

        assertThat(images.store().read().snapshots).as("no snapshot from unverified bytes").isEmpty();
        assertThat(tempDirs()).as("the streamed unpack is deleted").isEmpty();
        assertThat(images.store().content().has(layer.parsedDigest())).isFalse();

        // the real blob then unpacks as usual
        tee = images.snapshots().streamLayer(r, 0, "test layer");
        download(layer, ImageFixtures.gzip(layerTar()), layer.size(), tee);
        waitForStreamThreads();
        Path dir = images.snapshots().prepareLayer(r, 0, "test layer");
        assertThat(Files.readString(dir.resolve("etc/hello"), StandardCharsets.UTF_8)).isEqualTo("streamed layer\n");
    }

    @Test
    void interruptedDownloadLeavesNoSnapshot() throws Exception {
        ImageRecord r = undownloaded();
        Descriptor layer = r.layers().get(0);
        byte[] gz = ImageFixtures.gzip(layerTar());
        ContentStore.Tee tee = images.snapshots().streamLayer(r, 0, "test layer");
        try (ContentStore.Writer w = images.store().content().writer(layer.parsedDigest(), layer.size())) {
            w.tee(tee);
            w.stream().write(gz, 0, gz.length - 1); // all but the last byte, then the connection drops
        }
        waitForStreamThreads();
        assertThat(images.store().read().snapshots).isEmpty();
        assertThat(tempDirs()).isEmpty();
    }
}
