package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.image.SnapshotStore;
import dev.hull.runtime.RuntimeError;
import dev.hull.testing.OwnedMounts;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * hull cp's engine (ContainerFiles) against real containers, one running (its root reached through
 * /proc/PID/root) and one stopped (its overlay mounted detached for the copy): docker's rules for
 * files, directories, "/." and trailing "/"; modes, times, owners; tar streams; and above all that
 * no symlink or ".." in the container ever reads or writes the host: the containers hold links to
 * a host file and a host directory (absolute, relative with many "..", through a directory), and
 * at the same paths inside them a decoy with different content.
 */
class ContainerFilesTest {
    static Path dir;
    static Engine engine;
    static ContainerFiles files;
    static Path hostDir;
    static Path hostSecret;
    static final String SECRET = "HOST SECRET\n";
    static final String DECOY = "container-decoy\n";
    static final Map<String, ContainerInfo> containers = new LinkedHashMap<>();
    static final ContainerFiles.Options PLAIN = new ContainerFiles.Options(false, false);
    static final ContainerFiles.Options FOLLOW = new ContainerFiles.Options(true, false);

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-cp-");
        engine = new Engine(dir.resolve("home"), dir.resolve("state"));
        files = new ContainerFiles(engine);
        hostDir = Files.createDirectory(dir.resolve("host"));
        hostSecret = hostDir.resolve("secret");
        Files.writeString(hostSecret, SECRET);
        // idempotent: the stopped container is started again by a test
        String setup = "mkdir -p /data/sub /existing && echo container-data > /data/sub/f && chmod 0640 /data/sub/f"
                + " && ln -f /data/sub/f /data/hard && ln -sfn sub/f /data/link"
                + " && ln -sfn " + hostSecret + " /evil-abs && ln -sfn " + hostSecret + " /evil-abs-w"
                + " && ln -sfn ../../../../../../../../../.." + hostSecret + " /evil-rel"
                + " && ln -sfn " + hostDir + " /evil-dir"
                + " && mkdir -p " + hostDir + " && printf '" + DECOY.replace("\n", "\\n") + "' > " + hostSecret
                + " && touch /ready";
        CreateOptions stopped = options("cp-stopped", setup);
        int code = engine.run(stopped, false, new Engine.Attach(null, pid -> { })).exitCode();
        assertThat(code).isZero();
        containers.put("stopped", engine.containers().resolve("cp-stopped"));
        CreateOptions running = options("cp-running", setup + " && exec sleep 100000");
        running.volumes.add("cpvol:/vol");
        engine.run(running, true, null);
        ContainerInfo r = engine.containers().resolve("cp-running");
        containers.put("running", r);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(Path.of("/proc/" + engine.runtimeRecord(r).pid() + "/root/ready"))) {
            assertThat(System.nanoTime()).as("the running container set up within 30 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    static CreateOptions options(String name, String script) {
        CreateOptions o = new CreateOptions();
        o.image = "busybox";
        o.name = name;
        o.command = List.of("sh", "-c", script);
        return o;
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            for (ContainerInfo c : containers.values()) {
                engine.remove(c.id(), true);
            }
        } finally {
            SnapshotStore.deleteTree(dir);
        }
    }

    /** The container's own file at path, seen from the host (test side only: paths the test made, no symlinks). */
    static Path inside(String state, String path) throws Exception {
        ContainerInfo c = containers.get(state);
        String rel = path.substring(1);
        if (state.equals("running")) {
            return Path.of("/proc/" + engine.runtimeRecord(c).pid() + "/root").resolve(rel);
        }
        return engine.containers().dir(c.id()).resolve("upper").resolve(rel);
    }

    static String ref(String state) {
        return containers.get(state).name();
    }

    static Path out(String name) throws Exception {
        return Files.createDirectories(dir.resolve("out").resolve(name));
    }

    static void hostUntouched() throws Exception {
        assertThat(Files.readString(hostSecret)).isEqualTo(SECRET);
        try (Stream<Path> s = Files.list(hostDir)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("secret");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"running", "stopped"})
    void copiesAFileOutKeepingModeAndTime(String state) throws Exception {
        Path o = out("file-" + state);
        ContainerFiles.Result r = files.copyOut(ref(state), "/data/sub/f", o + "/renamed", PLAIN);
        assertThat(r.bytes()).isEqualTo("container-data\n".length());
        Path copied = o.resolve("renamed");
        assertThat(Files.readString(copied)).isEqualTo("container-data\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copied))).isEqualTo("rw-r-----");
        assertThat(Files.getLastModifiedTime(copied)).isEqualTo(Files.getLastModifiedTime(inside(state, "/data/sub/f")));
        // into an existing directory: under its own name; an existing file is replaced
        files.copyOut(ref(state), "data/sub/f", o.toString(), PLAIN);
        assertThat(Files.readString(o.resolve("f"))).isEqualTo("container-data\n");
        Files.writeString(o.resolve("f"), "old and longer content");
        files.copyOut(ref(state), "/data/sub/f", o + "/f", PLAIN);
        assertThat(Files.readString(o.resolve("f"))).isEqualTo("container-data\n");
        // a symlink is copied as a symlink; -L copies what it points to (inside the container)
        files.copyOut(ref(state), "/data/link", o + "/link", PLAIN);
        assertThat(Files.readSymbolicLink(o.resolve("link"))).isEqualTo(Path.of("sub/f"));
        files.copyOut(ref(state), "/data/link", o + "/followed", FOLLOW);
        assertThat(Files.readString(o.resolve("followed"))).isEqualTo("container-data\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"running", "stopped"})
    void copiesDirectoriesOutByDockersRules(String state) throws Exception {
        Path o = out("dir-" + state);
        // DEST missing: made, with SRC's content
        files.copyOut(ref(state), "/data", o + "/made", PLAIN);
        assertThat(Files.readString(o.resolve("made/sub/f"))).isEqualTo("container-data\n");
        assertThat(Files.isSymbolicLink(o.resolve("made/link"))).isTrue();
        // hard links within the copy stay hard links
        assertThat(Files.getAttribute(o.resolve("made/hard"), "unix:ino"))
                .isEqualTo(Files.getAttribute(o.resolve("made/sub/f"), "unix:ino"));
        // DEST a directory: SRC goes into it; SRC/. : its content does
        Files.createDirectories(o.resolve("into"));
        files.copyOut(ref(state), "/data", o + "/into", PLAIN);
        assertThat(o.resolve("into/data/sub/f")).exists();
        Files.createDirectories(o.resolve("content"));
        files.copyOut(ref(state), "/data/.", o + "/content", PLAIN);
        assertThat(o.resolve("content/sub/f")).exists();
        assertThat(o.resolve("content/data")).doesNotExist();
        // a directory onto a file, a file where a directory is meant: errors
        Files.writeString(o.resolve("plain"), "x");
        assertThatThrownBy(() -> files.copyOut(ref(state), "/data", o + "/plain", PLAIN))
                .isInstanceOf(RuntimeError.class).hasMessageContaining("cannot copy a directory to a file");
        assertThatThrownBy(() -> files.copyOut(ref(state), "/data/sub/f/", o + "/x", PLAIN))
                .isInstanceOf(RuntimeError.class).hasMessageContaining("not a directory");
        assertThatThrownBy(() -> files.copyOut(ref(state), "/data/sub/f", o + "/missing/", PLAIN))
                .isInstanceOf(RuntimeError.class).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> files.copyOut(ref(state), "/no/such", o + "/x", PLAIN))
                .isInstanceOf(RuntimeError.class).hasMessageContaining("no such file or directory");
        assertThat(o.resolve("x")).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {"running", "stopped"})
    void copiesFilesAndDirectoriesInOwnedByRootUnlessArchive(String state) throws Exception {
        Path src = out("in-src-" + state);
        Files.createDirectories(src.resolve("tree/deep"));
        Files.writeString(src.resolve("tree/deep/g"), "from the host\n");
        Path exe = Files.writeString(src.resolve("tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-x--x"));
        Files.setAttribute(exe, "unix:uid", 1234);
        Files.setLastModifiedTime(exe, FileTime.fromMillis(1_600_000_000_000L));
        String to = "/existing/" + state;
        files.copyIn(src.resolve("tool").toString(), ref(state), "/existing/", PLAIN);
        Path tool = inside(state, "/existing/tool");
        assertThat(Files.readString(tool)).isEqualTo("#!/bin/sh\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tool))).isEqualTo("rwxr-x--x");
        assertThat(Files.getAttribute(tool, "unix:uid")).isEqualTo(0);
        assertThat(Files.getLastModifiedTime(tool).toMillis()).isEqualTo(1_600_000_000_000L);
        files.copyIn(src.resolve("tool").toString(), ref(state), "/existing/kept-owner",
                new ContainerFiles.Options(false, true));
        assertThat(Files.getAttribute(inside(state, "/existing/kept-owner"), "unix:uid")).isEqualTo(1234);
        // a directory to a new path, then into it again (SRC goes inside), then its content (SRC/.)
        files.copyIn(src.resolve("tree").toString(), ref(state), to, PLAIN);
        assertThat(Files.readString(inside(state, to + "/deep/g"))).isEqualTo("from the host\n");
        files.copyIn(src.resolve("tree").toString(), ref(state), to, PLAIN);
        assertThat(Files.readString(inside(state, to + "/tree/deep/g"))).isEqualTo("from the host\n");
        files.copyIn(src.resolve("tree") + "/.", ref(state), to + "/tree/deep", PLAIN);
        assertThat(inside(state, to + "/tree/deep/deep/g")).exists();
        // and back out: the same bytes
        Path back = out("in-back-" + state);
        files.copyOut(ref(state), to + "/deep/g", back + "/g", PLAIN);
        assertThat(Files.readString(back.resolve("g"))).isEqualTo("from the host\n");
        assertThatThrownBy(() -> files.copyIn(src.resolve("tool").toString(), ref(state), "/no/such/dir/x", PLAIN))
                .isInstanceOf(RuntimeError.class).hasMessageContaining("does not exist");
    }

    @ParameterizedTest
    @ValueSource(strings = {"running", "stopped"})
    void containerSymlinksAndDotDotNeverReadTheHost(String state) throws Exception {
        Path o = out("escape-out-" + state);
        // an absolute link to the host file's path: followed inside the container, to the decoy
        files.copyOut(ref(state), "/evil-abs", o + "/abs", FOLLOW);
        assertThat(Files.readString(o.resolve("abs"))).isEqualTo(DECOY);
        // a relative link climbing far above the root stops at the container's root
        files.copyOut(ref(state), "/evil-rel", o + "/rel", FOLLOW);
        assertThat(Files.readString(o.resolve("rel"))).isEqualTo(DECOY);
        // a link on the way (a directory link to the host directory's path)
        files.copyOut(ref(state), "/evil-dir/secret", o + "/via-dir", PLAIN);
        assertThat(Files.readString(o.resolve("via-dir"))).isEqualTo(DECOY);
        files.copyOut(ref(state), "/evil-dir/", o + "/dir", PLAIN);
        assertThat(Files.readString(o.resolve("dir/secret"))).isEqualTo(DECOY);
        // .. in the path given
        files.copyOut(ref(state), "../../../.." + hostSecret, o + "/dotdot", PLAIN);
        assertThat(Files.readString(o.resolve("dotdot"))).isEqualTo(DECOY);
        // without -L the link itself comes out: a symlink, no content read
        files.copyOut(ref(state), "/evil-abs", o + "/link", PLAIN);
        assertThat(Files.isSymbolicLink(o.resolve("link"))).isTrue();
        // /proc's magic links are not followed (running: the container's own /proc; stopped: none)
        assertThatThrownBy(() -> files.copyOut(ref(state), "/proc/1/root/etc/passwd", o + "/proc", PLAIN))
                .isInstanceOf(RuntimeError.class);
        try (var tar = new ByteArrayOutputStream()) {
            files.exportTar(ref(state), "/evil-dir/.", tar, PLAIN);
            assertThat(tarEntries(tar.toByteArray())).containsEntry("secret", DECOY);
        }
        assertThat(Files.readString(hostSecret)).isEqualTo(SECRET);
        hostUntouched();
    }

    @ParameterizedTest
    @ValueSource(strings = {"running", "stopped"})
    void copyingInThroughContainerSymlinksNeverWritesTheHost(String state) throws Exception {
        Path src = out("escape-in-" + state);
        Path payload = Files.writeString(src.resolve("payload"), "PAYLOAD\n");
        // onto a link to the host file: the link is replaced, the host file is not written
        files.copyIn(payload.toString(), ref(state), "/evil-abs-w", PLAIN);
        assertThat(Files.isSymbolicLink(inside(state, "/evil-abs-w"))).isFalse();
        assertThat(Files.readString(inside(state, "/evil-abs-w"))).isEqualTo("PAYLOAD\n");
        // into a link to the host directory: lands in the container's directory of that name
        files.copyIn(payload.toString(), ref(state), "/evil-dir/", PLAIN);
        files.copyIn(payload.toString(), ref(state), "/evil-dir/named", PLAIN);
        files.copyIn(payload.toString(), ref(state), "/../../.." + hostDir + "/dotdot", PLAIN);
        assertThat(Files.readString(inside(state, hostDir + "/payload"))).isEqualTo("PAYLOAD\n");
        assertThat(Files.readString(inside(state, hostDir + "/named"))).isEqualTo("PAYLOAD\n");
        assertThat(Files.readString(inside(state, hostDir + "/dotdot"))).isEqualTo("PAYLOAD\n");
        // a tar with .. or a path through a container symlink is refused, naming the entry
        byte[] dotdot = tar(Map.of("../../../../../../.." + hostDir + "/tar-dotdot", "X"));
        assertThatThrownBy(() -> files.importTar(new ByteArrayInputStream(dotdot), ref(state), "/", PLAIN))
                .hasMessageContaining("..");
        byte[] throughLink = tar(Map.of("evil-dir/tar-link", "X"));
        assertThatThrownBy(() -> files.importTar(new ByteArrayInputStream(throughLink), ref(state), "/", PLAIN))
                .hasMessageContaining("symlink");
        // an absolute name counts from the destination
        files.importTar(new ByteArrayInputStream(tar(Map.of(hostDir + "/tar-abs", "X"))), ref(state), "/", PLAIN);
        assertThat(Files.readString(inside(state, hostDir + "/tar-abs"))).isEqualTo("X");
        hostUntouched();
    }

    @ParameterizedTest
    @ValueSource(strings = {"running", "stopped"})
    void tarStreamsOutAndIn(String state) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ContainerFiles.Result r = files.exportTar(ref(state), "/data", bytes, PLAIN);
        assertThat(r.bytes()).isEqualTo("container-data\n".length());
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                names.add(e.getName() + (e.isLink() ? "=>" + e.getLinkName() : e.isSymbolicLink() ? "->"
                        + e.getLinkName() : ""));
            }
        }
        assertThat(names).containsExactly("data/", "data/hard", "data/link->sub/f", "data/sub/", "data/sub/f=>data/hard");
        // the same stream back in, elsewhere: hard link and symlink kept, missing parents made
        String to = "/imported-" + state;
        files.importTar(new ByteArrayInputStream(bytes.toByteArray()), ref(state), "/existing", PLAIN);
        files.importTar(new ByteArrayInputStream(tar(Map.of("a/b/c", "deep"))), ref(state), "/existing", PLAIN);
        assertThat(Files.readString(inside(state, "/existing/a/b/c"))).isEqualTo("deep");
        assertThat(Files.readString(inside(state, "/existing/data/sub/f"))).isEqualTo("container-data\n");
        assertThat(Files.getAttribute(inside(state, "/existing/data/sub/f"), "unix:nlink")).isEqualTo(2);
        assertThat(Files.readSymbolicLink(inside(state, "/existing/data/link"))).isEqualTo(Path.of("sub/f"));
        assertThatThrownBy(() -> files.importTar(new ByteArrayInputStream(bytes.toByteArray()), ref(state), to, PLAIN))
                .isInstanceOf(RuntimeError.class).hasMessageContaining("must be a directory");
    }

    @Test
    void aRunningContainersVolumesAreReachable() throws Exception {
        Path src = Files.writeString(out("vol").resolve("v"), "into the volume\n");
        files.copyIn(src.toString(), "cp-running", "/vol/", PLAIN);
        assertThat(Files.readString(engine.volumes().mountpoint("cpvol", false).resolve("v")))
                .isEqualTo("into the volume\n");
    }

    @Test
    void copiesOfAStoppedContainerLeaveNoMountAndNoDescriptor() throws Exception {
        // the mounts compared are this test's (in its store or naming the container): others on the host come and go
        List<Path> own = List.of(dir);
        List<String> ids = List.of(containers.get("stopped").id());
        List<String> mountsBefore = OwnedMounts.owned(own, ids);
        long fdsBefore = openFds();
        Path o = out("leaks");
        for (int i = 0; i < 5; i++) {
            files.copyOut("cp-stopped", "/data", o + "/d" + i, PLAIN);
            files.copyIn(o + "/d" + i, "cp-stopped", "/existing/", PLAIN);
            assertThatThrownBy(() -> files.copyOut("cp-stopped", "/no/such", o + "/x", PLAIN))
                    .isInstanceOf(RuntimeError.class);
        }
        assertThat(OwnedMounts.owned(own, ids)).as("mounts in %s or naming the container", dir).isEqualTo(mountsBefore);
        assertThat(openFds()).isLessThanOrEqualTo(fdsBefore);
        assertThat(inside("stopped", "/existing/d4/sub/f")).exists();
        // the container starts afterwards with what was copied in (its overlay is free again)
        assertThat(engine.start("cp-stopped", new Engine.Attach(null, pid -> { }))).isZero();
    }

    static long openFds() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    static byte[] tar(Map<String, String> entries) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                TarArchiveEntry t = new TarArchiveEntry(e.getKey(), TarConstants.LF_NORMAL, true);
                byte[] data = e.getValue().getBytes(StandardCharsets.UTF_8);
                t.setSize(data.length);
                t.setMode(0100644);
                out.putArchiveEntry(t);
                out.write(data);
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    static Map<String, String> tarEntries(byte[] tar) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                out.put(e.getName(), e.isFile() ? new String(in.readAllBytes(), StandardCharsets.UTF_8) : "");
            }
        }
        return out;
    }
}
