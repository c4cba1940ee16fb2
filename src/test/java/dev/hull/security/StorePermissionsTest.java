package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.cli.HullCommand;
import dev.hull.image.BusyboxRootfs;
import dev.hull.image.ImageFixtures;
import dev.hull.image.ImageStore;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.executor.ExecutorSession;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, item 3 (the CVE-2021-41091 class): no local user may become root through what Hull
 * keeps on disk or the sockets it listens on. Attacked as a real unprivileged user made here
 * (useradd), with a canary: a static binary that prints its euid and, when it is root, creates a
 * file in a root-only directory this test owns. Containers and images plant it setuid-root in a
 * container's writable layer, an image's snapshot and a volume; the user then runs it through the
 * host path. Hull's stores live in a fresh directory under /tmp that everyone may traverse (0755),
 * so only the modes Hull gives its own roots stand between the user and the binary, as with the
 * real /var/lib/hull under /var/lib.
 */
class StorePermissionsTest {
    static String user;
    static String member;
    static String group;
    static Path tmp;
    static Path canary;
    static Path trap;
    static Path src;
    static Path home;
    static Path state;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(uid() == 0, "needs root (it makes users and runs containers)");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd")),
                "useradd is missing (Debian's passwd package): this test attacks Hull as a real unprivileged user");
        byte[] random = new byte[3];
        new java.security.SecureRandom().nextBytes(random);
        String suffix = HexFormat.of().formatHex(random);
        user = "hullt-" + suffix;
        member = "hullm-" + suffix;
        group = "hullg-" + suffix;
        must("useradd", "-M", "-s", "/usr/sbin/nologin", user);
        must("groupadd", group);
        must("useradd", "-M", "-s", "/usr/sbin/nologin", "-G", group, member);

        tmp = Files.createTempDirectory(Path.of("/tmp"), "hull-perm-");
        chmod(tmp, "rwxr-xr-x"); // traversable by everyone, like /var/lib and /run
        trap = Files.createDirectory(tmp.resolve("trap")); // root only: only euid 0 can create files here
        chmod(trap, "rwx------");
        src = Files.createDirectory(tmp.resolve("src"));
        chmod(src, "rwxr-xr-x");
        canary = src.resolve("canary");
        Path c = src.resolve("canary.c");
        Files.writeString(c, """
                #include <fcntl.h>
                #include <stdio.h>
                #include <unistd.h>
                int main(int argc, char **argv) {
                    printf("euid=%d\\n", (int) geteuid());
                    fflush(stdout);
                    if (argc > 1) {
                        int fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL, 0600);
                        if (fd >= 0) { printf("wrote %s\\n", argv[1]); close(fd); }
                    }
                    return 0;
                }
                """);
        Result cc = exec(List.of("gcc", "-static", "-O", "-o", canary.toString(), c.toString()));
        assertThat(cc.exit()).as("compiling the canary: %s", cc).isZero();

        home = tmp.resolve("home");
        state = tmp.resolve("state");
        hull = new HullCommand(home, state, Map.of());
        HullCommand.Result r = hull.run("images", "-q", "busybox"); // makes the built-in image
        assertThat(r.exit()).as("%s", r).isZero();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (tmp != null) {
            for (Map.Entry<Path, Path> store : Map.of(home, state, tmp.resolve("home-old"),
                    tmp.resolve("home-old-state")).entrySet()) {
                Path h = store.getKey();
                if (Files.isDirectory(h)) {
                    HullCommand hc = new HullCommand(h, store.getValue(), Map.of());
                    for (String id : hc.run("ps", "-a", "-q", "--no-trunc").out().split("\n")) {
                        if (!id.isBlank()) {
                            hc.run("rm", "-f", id);
                        }
                    }
                }
            }
            SnapshotStore.deleteTree(tmp);
        }
        for (String u : new String[] {user, member}) {
            if (u != null) {
                exec(List.of("userdel", "-r", u)); // -r: also its mail spool; no home was made
            }
        }
        if (group != null) {
            exec(List.of("groupdel", group));
        }
    }

    // ------------------------------------------------------------------ setuid binaries in the store

    @Test
    void aSetuidBinaryInAContainersWritableLayerDoesNotRunAsRootForOthers() throws Exception {
        HullCommand.Result r = hull.run("run", "--name", "planter-upper", "--network", "none", "-v", src + ":/src:ro",
                "busybox", "sh", "-c", "cp /src/canary /canary-upper && chmod 4755 /canary-upper");
        assertThat(r.exit()).as("%s", r).isZero();
        Path planted = find(home.resolve("containers"), "canary-upper");
        assertPlantedSetuidRoot(planted); // in containers/ID/upper (or rootfs/ with the copy snapshotter)

        assertNotRootThrough(planted, "upper");
        assertThat(mode(home)).as("HULL_HOME").isEqualTo("rwx------");
        assertThat(mode(home.resolve("containers"))).as("HULL_HOME/containers").isEqualTo("rwx------");
        assertThat(mode(state)).as("HULL_STATE (search only: see StateStore.ROOT_MODE)").isEqualTo("rwx--x--x");
    }

    @Test
    void aSetuidBinaryAnImageShipsDoesNotRunAsRootForOthers() throws Exception {
        TarArchiveEntry e = new TarArchiveEntry("canary-image");
        e.setMode(0104755);
        e.setIds(0, 0);
        byte[] bin = Files.readAllBytes(canary);
        e.setSize(bin.length);
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(tar)) {
            TarArchiveEntry dir = new TarArchiveEntry("tmp/", TarConstants.LF_DIR);
            dir.setMode(041777);
            out.putArchiveEntry(dir);
            out.closeArchiveEntry();
            out.putArchiveEntry(e);
            out.write(bin);
            out.closeArchiveEntry();
        }
        String image = "localhost/hull-perm/suid:1";
        ImageFixtures.image(new ImageStore(home), image,
                ImageFixtures.config(List.of("/canary-image"), List.of(), List.of(), null, null),
                List.of(tar.toByteArray()), null);
        HullCommand.Result r = hull.run("create", "--name", "planter-image", "--network", "none", image);
        assertThat(r.exit()).as("%s", r).isZero(); // unpacks the layer into a snapshot
        Path planted = find(home.resolve("snapshots"), "canary-image");
        assertPlantedSetuidRoot(planted);

        assertNotRootThrough(planted, "snapshot");
        assertThat(mode(home.resolve("snapshots"))).as("HULL_HOME/snapshots").isEqualTo("rwx------");
    }

    @Test
    void aSetuidBinaryInAVolumeDoesNotRunAsRootForOthers() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "--network", "none", "-v", "planted:/v", "-v", src + ":/src:ro",
                "busybox", "sh", "-c", "cp /src/canary /v/canary-volume && chmod 4755 /v/canary-volume");
        assertThat(r.exit()).as("%s", r).isZero();
        Path planted = home.resolve("volumes/planted/_data/canary-volume");
        assertPlantedSetuidRoot(planted);

        assertNotRootThrough(planted, "volume");
        assertThat(mode(home.resolve("volumes"))).as("HULL_HOME/volumes").isEqualTo("rwx------");
    }

    // ------------------------------------------------------------------ stores made by an older Hull

    @Test
    void aStoreWithOpenRootsIsClosedByTheNextCommand() throws Exception {
        Path old = tmp.resolve("home-old");
        Path oldState = tmp.resolve("home-old-state");
        HullCommand hc = new HullCommand(old, oldState, Map.of());
        HullCommand.Result r = hc.run("run", "--name", "old", "--network", "none", "-v", "oldvol:/v",
                "-v", src + ":/src:ro", "busybox", "sh", "-c", "cp /src/canary /canary-old && chmod 4755 /canary-old");
        assertThat(r.exit()).as("%s", r).isZero();
        Path planted = find(old.resolve("containers"), "canary-old");
        assertPlantedSetuidRoot(planted);
        // What an older Hull left: every root 0755.
        List<Path> roots = List.of(old, old.resolve("containers"), old.resolve("snapshots"), old.resolve("volumes"),
                oldState);
        for (Path p : roots) {
            chmod(p, "rwxr-xr-x");
        }
        // The canary works: through open roots the user does become root (so the checks here mean something).
        Result open = asUser(user, planted.toString(), trap.resolve("pwned-open").toString());
        assertThat(open.out()).as("%s", open).contains("euid=0");
        assertThat(trap.resolve("pwned-open")).exists();
        Files.delete(trap.resolve("pwned-open"));

        r = hc.run("ps", "-a"); // any command
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(mode(old)).as("HULL_HOME").isEqualTo("rwx------");
        assertThat(mode(old.resolve("containers"))).isEqualTo("rwx------");
        assertThat(mode(old.resolve("snapshots"))).isEqualTo("rwx------");
        assertThat(mode(old.resolve("volumes"))).isEqualTo("rwx------");
        assertThat(mode(oldState)).isEqualTo("rwx--x--x");
        assertNotRootThrough(planted, "old");
    }

    // ------------------------------------------------------------------ hull-runtime's state

    @Test
    void runtimeStateIsRootsAndContainersInUserNamespacesStillStart() throws Exception {
        Path root = tmp.resolve("rt-root");
        Path rootfs = BusyboxRootfs.ensure(tmp.resolve("rootfs-elsewhere")); // outside the state root, 0755
        Path out = Files.createDirectory(tmp.resolve("rt-out"));
        chmod(out, "rwxrwxrwx");
        Path bundle = bundle("rt-bundle", rootfs, out, "touch /out/ran", false);
        String id = "perm-" + ProcessHandle.current().pid();
        HullCommand.Result r = hull.run("runtime", "--root", root.toString(), "create", "--bundle", bundle.toString(), id);
        assertThat(r.exit()).as("%s", r).isZero();
        try {
            Path fifo = root.resolve(id).resolve("exec.fifo");
            // Whoever can write a byte into the exec fifo starts the container: nobody but root may.
            Result w = asUser(user, "/bin/sh", "-c", "printf 0 > " + fifo + " && echo WROTE");
            assertThat(w.out()).as("%s", w).doesNotContain("WROTE");
            assertThat(Files.getPosixFilePermissions(fifo)).as("exec.fifo")
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(mode(root.resolve(id).resolve("state.json"))).as("state.json").isEqualTo("rw-------");
            assertThat(mode(root.resolve(id))).as("the container's state directory").isEqualTo("rwx--x--x");
            assertThat(mode(root)).as("the state root").isEqualTo("rwx--x--x");
            Result ls = asUser(user, "/bin/ls", root.toString());
            assertThat(ls.exit()).as("listing the state root: %s", ls).isNotZero();

            // A root an older Hull made 0755 is closed by the next command.
            chmod(root, "rwxr-xr-x");
            r = hull.run("runtime", "--root", root.toString(), "list");
            assertThat(r.exit()).as("%s", r).isZero();
            assertThat(mode(root)).as("the state root after list").isEqualTo("rwx--x--x");
        } finally {
            hull.run("runtime", "--root", root.toString(), "delete", "--force", id);
        }

        // 0711 and not 0700: the init of a container in a user namespace opens its exec fifo by path as
        // an unprivileged host uid. It still starts, with its rootfs elsewhere.
        Path usernsOut = Files.createDirectory(tmp.resolve("rt-out-userns"));
        chmod(usernsOut, "rwxrwxrwx");
        Path userns = bundle("rt-bundle-userns", rootfs, usernsOut, "id -u > /out/ran", true);
        r = hull.run("runtime", "--root", root.toString(), "run", "--bundle", userns.toString(), id + "-userns");
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(Files.readString(usernsOut.resolve("ran")).strip()).isEqualTo("0");
        assertThat(Files.getAttribute(usernsOut.resolve("ran"), "unix:uid")).isEqualTo(100000);
    }

    // ------------------------------------------------------------------ the warm server's socket

    @Test
    void theWarmServerTakesNoCommandFromOtherUsers() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("sock-default"));
        chmod(dir, "rwx--x--x"); // as /run/hull: others may reach the socket, its mode decides
        Path sock = dir.resolve("runtime.sock");
        Process server = startServer(sock, null);
        try {
            boolean hullGroup = exec(List.of("getent", "group", "hull")).exit() == 0;
            assertThat(mode(sock)).as("socket mode").isEqualTo(hullGroup ? "rw-rw----" : "rw-------");
            assertThat(Files.getAttribute(sock, "unix:uid")).isEqualTo(0);

            // root through the client: the server works
            assertThat(throughServer(null, sock, "by-root").exit()).isZero();
            assertThat(home.resolve("volumes/by-root")).isDirectory();

            // another user cannot connect (EACCES): the client falls back to a JVM of the user's own
            Result denied = throughServer(user, sock, "pwned-mode");
            assertThat(denied.out()).as("%s", denied).contains("COLD-FALLBACK");
            assertThat(home.resolve("volumes/pwned-mode")).doesNotExist();

            // a socket others can connect to (changed by hand, or reached in the moment between bind and
            // chmod): the server itself refuses them, by their credentials
            chmod(sock, "rw-rw-rw-");
            Result refused = throughServer(user, sock, "pwned-peer");
            assertThat(refused.exit()).as("%s", refused).isEqualTo(125);
            assertThat(refused.err()).contains("permission denied").contains("uid ");
            assertThat(home.resolve("volumes/pwned-peer")).doesNotExist();
        } finally {
            stopServer(server);
        }
    }

    @Test
    void theWarmServersGroupMayUseItAndNobodyElse() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("sock-group"));
        chmod(dir, "rwx--x--x");
        Path sock = dir.resolve("runtime.sock");
        Process server = startServer(sock, group);
        try {
            assertThat(mode(sock)).as("socket mode").isEqualTo("rw-rw----");
            assertThat(Files.getAttribute(sock, "unix:uid")).isEqualTo(0);
            int gid = Integer.parseInt(exec(List.of("getent", "group", group)).out().split(":")[2]);
            assertThat(Files.getAttribute(sock, "unix:gid")).isEqualTo(gid);

            // a member of the group: docker's model, the group may drive Hull
            Result ok = throughServer(member, sock, "by-member");
            assertThat(ok.exit()).as("%s", ok).isZero();
            assertThat(home.resolve("volumes/by-member")).isDirectory();

            // anyone else: not by the socket's mode, and not by the server either
            Result denied = throughServer(user, sock, "pwned-group-mode");
            assertThat(denied.out()).as("%s", denied).contains("COLD-FALLBACK");
            chmod(sock, "rw-rw-rw-");
            Result refused = throughServer(user, sock, "pwned-group-peer");
            assertThat(refused.exit()).as("%s", refused).isEqualTo(125);
            assertThat(refused.err()).contains("permission denied").contains("members of group " + group);
            assertThat(home.resolve("volumes/pwned-group-mode")).doesNotExist();
            assertThat(home.resolve("volumes/pwned-group-peer")).doesNotExist();
        } finally {
            stopServer(server);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** As root: the planted file is there, setuid and owned by root (the attack has its material). */
    static void assertPlantedSetuidRoot(Path planted) throws IOException {
        assertThat(planted).isRegularFile();
        assertThat(Files.getAttribute(planted, "unix:uid")).isEqualTo(0);
        assertThat((Integer) Files.getAttribute(planted, "unix:mode") & 04000).as("setuid bit").isNotZero();
    }

    /** The unprivileged user runs the planted binary by its host path: it must not run as root. */
    static void assertNotRootThrough(Path planted, String what) throws Exception {
        Path pwned = trap.resolve("pwned-" + what);
        Result r = asUser(user, planted.toString(), pwned.toString());
        assertThat(pwned).as("a file only euid 0 can create; %s", r).doesNotExist();
        assertThat(r.out()).as("%s", r).doesNotContain("euid=0");
        assertThat(r.exit()).as("%s", r).isNotZero(); // it cannot even reach it
    }

    static Path find(Path under, String name) throws IOException {
        try (Stream<Path> s = Files.walk(under)) {
            Optional<Path> p = s.filter(f -> f.getFileName().toString().equals(name)).findFirst();
            assertThat(p).as("%s under %s", name, under).isPresent();
            return p.get();
        }
    }

    /** A bundle running script (sh -c) in rootfs, with out bound on /out; in a user namespace if asked. */
    static Path bundle(String name, Path rootfs, Path out, String script, boolean userns) throws IOException {
        Path b = Files.createDirectory(tmp.resolve(name));
        chmod(b, "rwxr-xr-x");
        ObjectNode config = DefaultSpec.create(false);
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        ArrayNode args = process.putArray("args");
        args.add("sh").add("-c").add(script);
        ((ObjectNode) config.get("root")).put("path", rootfs.toString()).put("readonly", true);
        ArrayNode mounts = (ArrayNode) config.get("mounts");
        ObjectNode m = mounts.addObject();
        m.put("destination", "/out").put("type", "bind").put("source", out.toString());
        m.putArray("options").add("rbind").add("rw");
        if (userns) {
            for (int i = mounts.size() - 1; i >= 0; i--) {
                if (mounts.get(i).path("destination").asText().equals("/sys/fs/cgroup")) {
                    mounts.remove(i); // cgroup v1 cannot be mounted in a user namespace
                }
            }
            ObjectNode linux = (ObjectNode) config.get("linux");
            ((ArrayNode) linux.get("namespaces")).addObject().put("type", "user");
            for (String f : new String[] {"uidMappings", "gidMappings"}) {
                linux.putArray(f).addObject().put("containerID", 0).put("hostID", 100000).put("size", 65536);
            }
        }
        Files.write(b.resolve("config.json"), new ObjectMapper().writeValueAsBytes(config));
        return b;
    }

    /** hull system service on sock (with --group when group is given), up once its socket exists. */
    static Process startServer(Path sock, String group) throws Exception {
        List<String> args = new ArrayList<>(List.of("system", "service", "--socket", sock.toString()));
        if (group != null) {
            args.addAll(List.of("--group", group));
        }
        Path log = tmp.resolve(sock.getParent().getFileName() + ".log");
        Process p = hull.builder(args.toArray(String[]::new)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(sock) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Files.exists(sock)).as("server socket; server output:%n%s", Files.readString(log)).isTrue();
        return p;
    }

    static void stopServer(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
        }
    }

    /**
     * {@code hull volume create NAME} through sock with the client bin/hull runs (hull-executor
     * --client), as user (null: root); the cold launcher only says that the client fell back to it.
     */
    static Result throughServer(String user, Path sock, String volume) throws Exception {
        Path bin = tmp.resolve("bin");
        if (!Files.isDirectory(bin)) {
            Files.createDirectory(bin);
            chmod(bin, "rwxr-xr-x");
            Files.copy(ExecutorSession.binary(), bin.resolve("hull-executor"));
            chmod(bin.resolve("hull-executor"), "rwxr-xr-x");
            Files.writeString(bin.resolve("cold"), "#!/bin/sh\necho COLD-FALLBACK\nexit 97\n");
            chmod(bin.resolve("cold"), "rwxr-xr-x");
        }
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/env", "HULL_HOME=" + home, "HULL_STATE=" + state,
                bin.resolve("hull-executor").toString(), "--client", "--program", "hull", sock.toString(),
                bin.resolve("cold").toString(), "volume", "create", volume));
        if (user != null) {
            cmd.addAll(0, List.of("runuser", "-u", user, "--"));
        }
        return exec(cmd);
    }

    record Result(int exit, String out, String err) {}

    static Result asUser(String user, String... cmd) throws Exception {
        List<String> c = new ArrayList<>(List.of("runuser", "-u", user, "--"));
        c.addAll(List.of(cmd));
        return exec(c);
    }

    static Result exec(List<String> cmd) throws Exception {
        Path out = Files.createTempFile("hull-perm-", ".out");
        Path err = Files.createTempFile("hull-perm-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).directory(new java.io.File("/"))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(cmd + " did not finish in 300 s");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static void must(String... cmd) throws Exception {
        Result r = exec(List.of(cmd));
        assertThat(r.exit()).as("%s: %s", String.join(" ", cmd), r).isZero();
    }

    static void chmod(Path p, String perms) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    static int uid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }
}
