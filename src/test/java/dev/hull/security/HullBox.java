package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.cli.HullCommand;
import dev.hull.cli.RunArgs;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.engine.MonitorStatus;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.SnapshotStore;
import dev.hull.image.archive.ImageArchives;
import dev.hull.linux.Syscalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Assumptions;

/**
 * The escape tests' engine fixture: a private store (HULL_HOME/HULL_STATE in a temp dir of the
 * test's), containers run in-process through the {@link Engine} with {@code hull run}'s flags parsed
 * by the real command line, hostile images made from the built-in busybox plus one crafted layer
 * (and config), and a {@link Canary} next to the store that every attack aims at. Containers get
 * {@code --network none} unless the arguments name a network (no bridge, no nftables: faster, and
 * not what these tests are about).
 */
final class HullBox implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final Path dir;
    final Engine engine;
    final HullCommand hull;
    final Canary canary;
    private final List<String> made = new ArrayList<>();
    private Path helper;

    HullBox(String name) throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-escape-" + name + "-");
        engine = new Engine(dir.resolve("home"), dir.resolve("state"));
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of());
        engine.images().getOrBuildBuiltin("busybox");
        canary = new Canary(dir.resolve("canary"));
    }

    /** What the container printed and how it ended. */
    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    static CreateOptions parse(String... args) throws Exception {
        boolean network = false;
        for (String a : args) {
            network |= a.equals("--network") || a.startsWith("--network=") || a.equals("--net") || a.startsWith("--net=");
        }
        List<String> all = new ArrayList<>();
        if (!network) {
            all.add("--network=none");
        }
        all.addAll(List.of(args));
        return RunArgs.parse(all.toArray(String[]::new));
    }

    /** {@code hull run ARGS} in the foreground, in-process, stdin from /dev/null. */
    Result run(String... args) throws Exception {
        CreateOptions o = parse(args);
        Path out = Files.createTempFile(dir, "out-", "");
        Path err = Files.createTempFile(dir, "err-", "");
        int[] fds = {Syscalls.open("/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0),
            Syscalls.open(out.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0),
            Syscalls.open(err.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0)};
        try {
            Engine.Run r = engine.run(o, false, new Engine.Attach(fds, pid -> { }));
            if (!o.autoRemove) {
                made.add(r.container().id());
            }
            return new Result(r.exitCode(), Files.readString(out), Files.readString(err));
        } finally {
            for (int fd : fds) {
                Syscalls.close(fd);
            }
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** {@link #runOrRefusal} as a caller with these environment variables set (HULL_SNAPSHOTTER=copy ...). */
    Object runOrRefusalWithEnv(Map<String, String> env, String... args) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(System.getenv());
        all.putAll(env);
        return dev.hull.runtime.Caller.with(new dev.hull.runtime.Caller(dir, all), () -> runOrRefusal(args));
    }

    /** Runs, asserts exit 0, returns stdout. */
    String output(String... args) throws Exception {
        Result r = run(args);
        assertThat(r.exit()).as("hull run %s: %s", String.join(" ", args), r).isZero();
        return r.out();
    }

    /**
     * Runs; the container's {@link Result}, or the exception with which Hull refused to make it (a
     * RuntimeError, or an IOException of the image's layers).
     */
    Object runOrRefusal(String... args) throws Exception {
        try {
            return run(args);
        } catch (dev.hull.runtime.RuntimeError | IOException e) {
            return e;
        }
    }

    /** {@code hull run -d ARGS}: the id, once its monitor has recorded the start (removed at close). */
    String detached(String... args) throws Exception {
        Engine.Run r = engine.run(parse(args), true, null);
        String id = r.container().id();
        made.add(id);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (MonitorStatus.read(engine.containers().statusFile(id)) == null) {
            assertThat(System.nanoTime()).as("the monitor of %s recorded a start within 10 s", id).isLessThan(deadline);
            Thread.sleep(5);
        }
        return id;
    }

    /** The host pid of a running container's init. */
    int pid(String id) throws Exception {
        return engine.runtimeRecord(info(id)).pid();
    }

    /** Waits (up to 10 s) until the running container has made the file at path (a marker its script writes). */
    void awaitMarker(String id, String path) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        Path p = Path.of("/proc/" + pid(id) + "/root" + path);
        while (!Files.exists(p)) {
            assertThat(System.nanoTime()).as("container %s made %s within 10 s", id, path).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    /** {@code hull rm -f REF} (name or id). */
    void remove(String ref) throws Exception {
        String id = info(ref).id();
        engine.remove(id, true);
        made.remove(id);
    }

    /** The container named or numbered ref. */
    ContainerInfo info(String ref) throws Exception {
        return engine.containers().resolve(ref);
    }

    // ------------------------------------------------------------------ hostile images

    /** A layer tar built entry by entry (no validation: it may be as hostile as the test wants). */
    static final class Layer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes);

        Layer() {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        }

        private Layer add(TarArchiveEntry e, byte[] content) {
            e.setModTime(FileTime.fromMillis(1_700_000_000_000L));
            try {
                tar.putArchiveEntry(e);
                if (content != null) {
                    tar.write(content);
                }
                tar.closeArchiveEntry();
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
            return this;
        }

        Layer dir(String name) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_DIR, true);
            e.setMode(040755);
            return add(e, null);
        }

        /** A directory entry for each component of the absolute path p (the image's own copy of a host path). */
        Layer dirs(String p) {
            StringBuilder b = new StringBuilder();
            for (String part : p.substring(1).split("/")) {
                b.append(b.length() == 0 ? "" : "/").append(part);
                dir(b.toString());
            }
            return this;
        }

        Layer file(String name, String content) {
            return file(name, content, 0644);
        }

        Layer file(String name, String content, int mode) {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
            e.setMode(0100000 | mode);
            e.setSize(data.length);
            return add(e, data);
        }

        Layer symlink(String name, String target) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK, true);
            e.setLinkName(target);
            e.setMode(0120777);
            return add(e, null);
        }

        Layer hardlink(String name, String target) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK, true);
            e.setLinkName(target);
            return add(e, null);
        }

        /** A device node: type 'b' or 'c'. */
        Layer device(String name, char type, int major, int minor) {
            TarArchiveEntry e = new TarArchiveEntry(name, type == 'b' ? TarConstants.LF_BLK : TarConstants.LF_CHR, true);
            e.setMode((type == 'b' ? 060000 : 020000) | 0666);
            e.setDevMajor(major);
            e.setDevMinor(minor);
            return add(e, null);
        }

        byte[] bytes() {
            try {
                tar.finish();
                tar.close();
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
            return bytes.toByteArray();
        }
    }

    /**
     * A docker-archive (what {@code docker save} writes) named tag: the built-in busybox image's
     * layer, then layer, with busybox's config where configFields (Entrypoint, WorkingDir, User ...)
     * replace their namesakes in "config".
     */
    Path dockerArchive(String tag, Layer layer, Map<String, Object> configFields) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>(busyboxArchive());
        ObjectNode manifest = (ObjectNode) JSON.readTree(entries.remove("manifest.json")).get(0);
        entries.remove("repositories");
        ObjectNode config = (ObjectNode) JSON.readTree(entries.remove(manifest.get("Config").asText()));
        byte[] tar = layer.bytes();
        String layerName = "hostile/layer.tar";
        entries.put(layerName, tar);
        ((ArrayNode) config.get("rootfs").get("diff_ids")).add(Digest.sha256(tar).toString());
        ObjectNode c = config.has("config") ? (ObjectNode) config.get("config") : config.putObject("config");
        configFields.forEach((k, v) -> c.set(k, JSON.valueToTree(v)));
        byte[] configBytes = JSON.writeValueAsBytes(config);
        String configName = Digest.sha256(configBytes).hex() + ".json";
        entries.put(configName, configBytes);
        manifest.put("Config", configName);
        manifest.putArray("RepoTags").add(tag);
        ((ArrayNode) manifest.get("Layers")).add(layerName);
        entries.put("manifest.json", JSON.writeValueAsBytes(JSON.createArrayNode().add(manifest)));
        Path out = dir.resolve("archive-" + tag.replaceAll("[^a-zA-Z0-9]", "_") + "-" + System.nanoTime() + ".tar");
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(Files.newOutputStream(out))) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : entries.entrySet()) {
                TarArchiveEntry te = new TarArchiveEntry(e.getKey(), true);
                te.setSize(e.getValue().length);
                te.setModTime(FileTime.fromMillis(0));
                t.putArchiveEntry(te);
                t.write(e.getValue());
                t.closeArchiveEntry();
            }
        }
        return out;
    }

    private Map<String, byte[]> busyboxEntries;

    /** The built-in busybox image as {@code hull save} writes it, entry by entry (made once). */
    private synchronized Map<String, byte[]> busyboxArchive() throws IOException {
        if (busyboxEntries == null) {
            ImageRecord busybox = engine.images().getOrBuildBuiltin("busybox");
            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            ImageArchives.saveDockerArchive(List.of(busybox), List.of(List.of("busybox:latest")),
                    engine.images().store(), saved);
            Map<String, byte[]> entries = new LinkedHashMap<>();
            try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(saved.toByteArray()))) {
                for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                    if (!e.isDirectory()) {
                        entries.put(e.getName(), in.readAllBytes());
                    }
                }
            }
            busyboxEntries = entries;
        }
        return busyboxEntries;
    }

    /** What {@code hull load -i ARCHIVE} does, in-process: loads and unpacks (a hostile layer fails here). */
    List<ImageRecord> load(Path archive) throws IOException {
        return dev.hull.engine.ImageFiles.load(engine, archive, null, null); // hull load's own code
    }

    /** Builds and loads busybox + layer as tag; returns tag. */
    String image(String tag, Layer layer, Map<String, Object> configFields) throws IOException {
        load(dockerArchive(tag, layer, configFields));
        return tag;
    }

    String image(String tag, Layer layer) throws IOException {
        return image(tag, layer, Map.of());
    }

    // ------------------------------------------------------------------ the static helper

    /**
     * A directory holding {@code escape-helper}, compiled (gcc -static) from the test resource
     * escape-helper.c: the syscalls busybox has no applet for. Skips the test without gcc or a
     * static libc. Mount it with {@code -v DIR:/helper:ro}.
     */
    synchronized Path helperDir() throws Exception {
        if (helper == null) {
            Path d = Files.createDirectories(dir.resolve("helper"));
            Path src = d.resolve("escape-helper.c");
            try (InputStream in = HullBox.class.getResourceAsStream("escape-helper.c")) {
                Files.write(src, in.readAllBytes());
            }
            Path bin = d.resolve("escape-helper");
            Process p;
            try {
                p = new ProcessBuilder("gcc", "-static", "-O1", "-o", bin.toString(), src.toString())
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                Assumptions.abort("gcc is not installed (the escape helper is a static C program): " + e.getMessage());
                throw e;
            }
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            Assumptions.assumeTrue(p.exitValue() == 0, "gcc -static could not build the escape helper (static libc,"
                    + " libc6-dev, missing?):\n" + log);
            Files.delete(src);
            helper = d;
        }
        return helper;
    }

    /** The -v argument that puts the helper at /helper/escape-helper, read-only. */
    String helperVolume() throws Exception {
        return helperDir() + ":/helper:ro";
    }

    @Override
    public void close() throws Exception {
        for (String id : List.copyOf(made)) {
            try {
                engine.remove(id, true);
            } catch (Exception e) {
                System.err.println("cleanup of " + id + ": " + e);
            }
        }
        SnapshotStore.deleteTree(dir);
    }
}
