package dev.hull.engine;

import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.Reference;
import dev.hull.image.archive.ImageArchives;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Images as files, for every front door ({@code hull load/save}, the Docker API's
 * /images/load and /images/get): a stream loaded (kept in the store's tmp/ while it is read, under
 * a lease so no prune takes its blobs), images saved as a docker-archive.
 */
public final class ImageFiles {
    private ImageFiles() {}

    /** Loads the archive (file or OCI layout directory) at source, or the one read from in (source null). */
    public static List<ImageRecord> load(Engine engine, Path source, InputStream in, String name) throws IOException {
        ImageService images = engine.images();
        Path tmp = null;
        java.util.Set<String> before = new java.util.HashSet<>(images.store().read().images.keySet());
        List<ImageRecord> loaded = List.of();
        boolean unpacked = false;
        try (Closeable lease = images.lease()) {
            if (source == null) {
                Path dir = Files.createDirectories(images.store().home().resolve("tmp"));
                tmp = Files.createTempFile(dir, "load-", ".tar");
                Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                source = tmp;
            }
            loaded = ImageArchives.load(source, images.store(), name);
            for (ImageRecord r : loaded) {
                images.unpack(r);
            }
            unpacked = true;
            for (ImageRecord r : loaded) {
                String id = "sha256:" + r.id().replace("sha256:", "");
                engine.events().image("load", id, id, images.config(r)); // dockerd names it by its ID
            }
            return loaded;
        } catch (IOException | RuntimeException e) {
            if (!unpacked) { // refused (a hostile layer, a bad archive): the images it made and their blobs go
                try {
                    images.discard(loaded.stream().map(ImageRecord::id).filter(id -> !before.contains(id)).toList());
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** The images names name (the built-in busybox made on first use) and the tags to write for each. */
    public record Selection(List<ImageRecord> images, List<List<String>> tags) {}

    public static Selection select(Engine engine, List<String> names) throws IOException {
        List<ImageRecord> records = new ArrayList<>();
        List<List<String>> tags = new ArrayList<>();
        for (String n : names) {
            records.add(engine.images().getOrBuildBuiltin(n));
            boolean byName = !n.matches("(sha256:)?[0-9a-f]{4,64}");
            tags.add(byName ? List.of(Reference.parse(n).toString()) : null);
        }
        return new Selection(records, tags);
    }

    /** {@code docker save}: the images as a docker-archive on out. */
    public static void saveDockerArchive(Engine engine, Selection s, OutputStream out) throws IOException {
        ImageArchives.saveDockerArchive(s.images(), s.tags(), engine.images().store(), out);
    }
}
