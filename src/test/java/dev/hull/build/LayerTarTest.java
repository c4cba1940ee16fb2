package dev.hull.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layer tars: parents first, opaque markers, whiteouts, hard links, clamped times, the same bytes every time. */
class LayerTarTest {
    @TempDir
    Path tmp;

    private LayerTar tree(long mtime) throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "data");
        LayerTar t = new LayerTar(rel -> new LayerTar.Entry(LayerTar.Type.DIR, 0755, 0, 0, 0));
        // put in an order unlike the output's
        LayerTar.Entry file = new LayerTar.Entry(LayerTar.Type.FILE, 0644, 1000, 1000, mtime);
        file.content = f;
        file.size = 4;
        file.inode = "1:1";
        LayerTar.Entry twin = new LayerTar.Entry(LayerTar.Type.FILE, 0644, 1000, 1000, mtime);
        twin.content = f;
        twin.size = 4;
        twin.inode = "1:1";
        t.put("z/b", twin);
        t.put("z/a", file);
        LayerTar.Entry opaque = new LayerTar.Entry(LayerTar.Type.DIR, 0700, 0, 0, mtime);
        opaque.opaque = true;
        t.put("o", opaque);
        t.put("o/new", new LayerTar.Entry(LayerTar.Type.DIR, 0755, 0, 0, mtime));
        t.put("etc/gone", new LayerTar.Entry(LayerTar.Type.WHITEOUT, 0, 0, 0, mtime));
        LayerTar.Entry link = new LayerTar.Entry(LayerTar.Type.SYMLINK, 0777, 0, 0, mtime);
        link.link = "/z/a";
        t.put("l", link);
        return t;
    }

    private static List<String> list(byte[] tar) throws Exception {
        List<String> out = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                out.add(e.getName() + (e.isLink() ? " link " + e.getLinkName() : "")
                        + (e.isSymbolicLink() ? " -> " + e.getLinkName() : "") + " " + Integer.toOctalString(e.getMode())
                        + " " + e.getLongUserId() + " " + e.getModTime().getTime() / 1000 + " '" + e.getUserName() + "'");
            }
        }
        return out;
    }

    @Test
    void entriesComeParentsFirstSortedWithWhiteoutsOpaqueMarkersAndHardLinks() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tree(1_800_000_000L).write(out, 1_700_000_000L);
        assertThat(list(out.toByteArray())).containsExactly(
                "etc/ 40755 0 0 ''",
                "etc/.wh.gone 100000 0 0 ''",
                "l -> /z/a 120777 0 1700000000 ''",
                "o/ 40700 0 1700000000 ''",
                "o/.wh..wh..opq 100000 0 0 ''",
                "o/new/ 40755 0 1700000000 ''",
                "z/ 40755 0 0 ''",
                "z/a 100644 1000 1700000000 ''",
                "z/b link z/a 100644 1000 1700000000 ''");
    }

    @Test
    void theSameTreeGivesTheSameBytesAndTimesBeforeTheEpochStay() throws Exception {
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        tree(1_000).write(a, 1_700_000_000L);
        tree(1_000).write(b, 1_700_000_000L);
        assertThat(a.toByteArray()).isEqualTo(b.toByteArray());
        assertThat(list(a.toByteArray())).contains("z/a 100644 1000 1000 ''");
    }

    @Test
    void storedLayersDiffIdSizeAndBlobAreTheTarsBytes() throws Exception {
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        tree(1_000).write(plain, null);
        dev.hull.image.ContentStore content = new dev.hull.image.ContentStore(Files.createDirectories(tmp.resolve("cs")));
        Path work = Files.createDirectories(tmp.resolve("work"));
        LayerTar.Stored st = tree(1_000).store(content, work, null);
        assertThat(st.diffId()).isEqualTo(dev.hull.image.Digest.sha256(plain.toByteArray()).toString());
        assertThat(st.tarSize()).isEqualTo(plain.size());
        byte[] blob = content.read(st.descriptor().parsedDigest());
        assertThat((long) blob.length).isEqualTo(st.descriptor().size());
        try (var in = new java.util.zip.GZIPInputStream(new ByteArrayInputStream(blob))) {
            assertThat(in.readAllBytes()).as("the blob is the tar, gzip'ed").isEqualTo(plain.toByteArray());
        }
        Path tarFile = Files.write(tmp.resolve("layer.tar"), plain.toByteArray());
        LayerTar.Stored again = LayerTar.storeTar(content, tarFile, work);
        assertThat(again.diffId()).isEqualTo(st.diffId());
        assertThat(again.tarSize()).isEqualTo(st.tarSize());
        try (var files = Files.list(work)) {
            assertThat(files.toList()).as("no temp file left").isEmpty();
        }
    }
}
