package dev.hull.build;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.build.Dockerfile.Instruction;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerResources;
import dev.hull.engine.ContainerStore;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.SnapshotStore;
import dev.hull.image.unpack.Compression;
import dev.hull.image.unpack.LayerFlattener;
import dev.hull.runtime.RuntimeError;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Images from containers and tars, and a container's files as a tar: {@code hull commit} (the
 * container's upper layer, or on the copy snapshotter what its copy changed, as a new layer on its
 * image, the container's command, entrypoint, env, working dir, user and labels in the config, then
 * the --change instructions; a running container is paused meanwhile, as docker does), {@code hull export} (its whole filesystem, image layers and
 * changes merged, as one tar; a running container is paused meanwhile too, as its files are read by
 * host paths) and {@code hull import} (a tar, plain or compressed, as the one layer of
 * an image, with --change).
 */
public final class ContainerImages {
    /** The instructions --change takes (docker's list). */
    private static final Set<String> CHANGES = Set.of("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER",
            "VOLUME", "WORKDIR", "STOPSIGNAL", "HEALTHCHECK", "SHELL");
    private final Engine engine;
    private final ImageService images;

    public ContainerImages(Engine engine) {
        this.engine = engine;
        this.images = engine.images();
    }

    /** What commit and import record besides the layer: -m, -a, -c. */
    public record Meta(String message, String author, List<String> changes) {}

    public ImageRecord commit(String container, String ref, Meta meta) throws BuildException, IOException, RuntimeError {
        List<String> tags = ref == null ? List.of() : Builder.tags(List.of(ref));
        ContainerInfo info = engine.containers().resolve(container);
        Path tmp = tmp();
        try (Closeable frozen = freeze(info); Closeable lease = images.lease();
                ContainerStore.Locked locked = engine.containers().lock(info)) {
            info = locked.info();
            ImageRecord base = images.get(info.imageId());
            Stage s = new Stage(null, 0);
            s.load(images.store().content(), base.id(), base.layers(), base.diffIds());
            fromContainer(s, info.options());
            changes(s, meta.changes());
            if (meta.author() != null) {
                s.config.put("author", meta.author());
            }
            Path dir = engine.containers().dir(info.id());
            LayerTar tar = "overlay".equals(info.snapshotter())
                    ? UpperDiff.read(dev.hull.engine.ContainerDisks.upper(dir), dir.resolve("config.json"), images.unpack(base))
                    : UpperDiff.fromChanges(dir.resolve("rootfs"), dir.resolve("config.json"),
                            dev.hull.engine.ContainerChanges.of(engine, info)); // the copy against its image
            s.commit(images.store().content(), String.join(" ", info.args() == null ? List.of() : info.args()), meta.message(),
                    tar.store(images.store().content(), tmp, null), null);
            return s.save(images, tags);
        } finally {
            SnapshotStore.deleteTree(tmp);
        }
    }

    /**
     * Freezes a running container until the result is closed (a no-op for one that is not running).
     * commit and export read its files by host paths: a process of it renaming a directory and a
     * symlink to a host path in and out of one name while they walk would have them read the host's
     * files (CVE-2018-15664's class), so none may run meanwhile.
     */
    private Closeable freeze(ContainerInfo info) throws IOException, RuntimeError {
        if (!engine.state(info).status().equals("running")) {
            return () -> { };
        }
        ContainerResources.pause(engine, info.id());
        return () -> {
            try {
                ContainerResources.unpause(engine, info.id());
            } catch (RuntimeError e) {
                throw new IOException("thawing container " + info.name() + ": " + e.getMessage(), e);
            }
        };
    }

    /** The container's configuration as docker commit keeps it: what run was given over the image's. */
    private static void fromContainer(Stage s, CreateOptions o) {
        if (o == null) {
            return;
        }
        ObjectNode cc = s.cc();
        if (!o.command.isEmpty()) {
            ArrayNode cmd = cc.putArray("Cmd");
            o.command.forEach(cmd::add);
        }
        if (o.entrypoint != null) {
            if (o.entrypoint.isEmpty()) {
                cc.remove("Entrypoint");
            } else {
                cc.putArray("Entrypoint").add(o.entrypoint);
            }
        }
        for (String e : o.env) {
            int eq = e.indexOf('=');
            if (eq > 0) {
                s.setEnv(e.substring(0, eq), e.substring(eq + 1));
            }
        }
        if (o.workdir != null && !o.workdir.isEmpty()) {
            cc.put("WorkingDir", o.workdir);
        }
        if (o.user != null && !o.user.isEmpty()) {
            cc.put("User", o.user);
        }
        if (!o.labels.isEmpty()) {
            ObjectNode labels = MetaStep.labels(s);
            o.labels.forEach((k, v) -> {
                if (!k.equals("dev.hull.build")) {
                    labels.put(k, v);
                }
            });
        }
    }

    /** Applies --change instructions ("CMD [\"sh\"]", "ENV A=1", ...) to s's config. */
    static void changes(Stage s, List<String> changes) throws BuildException {
        for (String c : changes) {
            Dockerfile df = Dockerfile.parse("--change", c);
            for (Instruction in : df.instructions()) {
                if (!CHANGES.contains(in.keyword())) {
                    throw new BuildException("--change " + c + ": " + in.keyword() + " cannot be a change (use "
                            + String.join(", ", new java.util.TreeSet<>(CHANGES)) + ")");
                }
                MetaStep.apply(s, in, new Words(df.escape()), s.vars());
            }
        }
    }

    /** Writes the container's filesystem (its image's layers with its changes on top) to out as a tar. */
    public void export(String container, OutputStream out) throws BuildException, IOException, RuntimeError {
        ContainerInfo info = engine.containers().resolve(container);
        Path tmp = tmp();
        try (Closeable frozen = freeze(info); Closeable lease = images.lease();
                ContainerStore.Locked locked = engine.containers().lock(info)) {
            info = locked.info();
            Path dir = engine.containers().dir(info.id());
            Path root;
            if ("overlay".equals(info.snapshotter())) {
                List<Path> layers = new ArrayList<>(images.unpack(images.get(info.imageId())));
                layers.add(dev.hull.engine.ContainerDisks.upper(dir)); // on its disk with --storage-opt size
                root = Files.createDirectory(tmp.resolve("root"));
                LayerFlattener.flatten(layers, root);
            } else {
                root = dir.resolve("rootfs");
            }
            UpperDiff.read(root, dir.resolve("config.json"), List.of()).write(out, null);
            out.flush();
        } finally {
            SnapshotStore.deleteTree(tmp);
        }
    }

    /** A tar (plain or compressed) as the one layer of a new image; source names it in the history's comment. */
    public ImageRecord importTar(InputStream in, String source, String ref, Meta meta)
            throws BuildException, IOException {
        List<String> tags = ref == null ? List.of() : Builder.tags(List.of(ref));
        Path tmp = tmp();
        try (Closeable lease = images.lease()) {
            Path tar = tmp.resolve("import.tar");
            try (InputStream plain = Compression.decompressAny(new BufferedInputStream(in, 1 << 16))) {
                Files.copy(plain, tar);
            }
            checkTar(tar, source);
            Stage s = new Stage(null, 0);
            s.scratch();
            changes(s, meta.changes());
            if (meta.author() != null) {
                s.config.put("author", meta.author());
            }
            String comment = meta.message() != null ? meta.message() : "Imported from " + source;
            s.commit(images.store().content(), "", comment, LayerTar.storeTar(images.store().content(), tar, tmp), null);
            ImageRecord r = s.save(images, tags);
            String id = dev.hull.engine.ImageEvents.sha(r.id());
            for (String t : tags) { // dockerd's: the tag, then the import
                dev.hull.engine.ImageEvents.record(engine, "tag", id, dev.hull.image.Reference.parse(t).familiar(), r);
            }
            dev.hull.engine.ImageEvents.record(engine, "import", id, id, r);
            return r;
        } finally {
            SnapshotStore.deleteTree(tmp);
        }
    }

    /** An error unless tar is a tar archive with at least one entry. */
    private static void checkTar(Path tar, String source) throws BuildException, IOException {
        int n = 0;
        try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(Files.newInputStream(tar))) {
            while (in.getNextEntry() != null) {
                n++;
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new BuildException(source + " is not a tar archive: " + e.getMessage());
        }
        if (n == 0) {
            throw new BuildException(source + " is not a tar archive (no entries)");
        }
    }

    private Path tmp() throws IOException {
        Path root = Files.createDirectories(engine.home().resolve("tmp"));
        return Files.createTempDirectory(root, "commit-");
    }
}
