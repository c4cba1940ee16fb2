package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hull.cli.HullCommand;
import dev.hull.cli.ServiceCommands;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.executor.ExecutorSession;
import dev.hull.service.WarmServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Host files a warm command names are opened with the caller's rights: a real unprivileged user
 * (useradd) in the service's group (groupadd) runs commands through the service (the static client,
 * as bin/hull does) naming a root-only file (0600 root) or a path in a root-only directory, and is
 * refused with a clear error and nothing of the file in its output; the same command with a file of
 * its own works. The service runs as root in this JVM, on a socket of the test's for the test's group.
 */
class CallerFilesTest {
    static String member;
    static String group;
    static Path tmp;
    static Path own;
    static Path rootDir;
    static Path sock;
    static Path bin;
    static WarmServer server;
    static HullCommand root;
    static String marker;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(StorePermissionsTest.uid() == 0, "needs root (it makes a user and a group, and runs the service)");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd")) && Files.isExecutable(Path.of("/usr/sbin/runuser")),
                "useradd and runuser are missing: this test acts as a real unprivileged user");
        byte[] random = new byte[3];
        new java.security.SecureRandom().nextBytes(random);
        String suffix = HexFormat.of().formatHex(random);
        marker = "ROOT-ONLY-" + suffix;
        group = "hullcf-" + suffix;
        member = "hullcm-" + suffix;
        StorePermissionsTest.must("groupadd", group);
        StorePermissionsTest.must("useradd", "-M", "-s", "/usr/sbin/nologin", "-G", group, member);

        tmp = Files.createTempDirectory(Path.of("/tmp"), "hull-cfiles-");
        chmod(tmp, "rwxr-xr-x");
        rootDir = Files.createDirectory(tmp.resolve("root-only")); // only root may create files here
        chmod(rootDir, "rwx------");
        own = Files.createDirectory(tmp.resolve("own"));
        StorePermissionsTest.must("chown", member + ":" + member, own.toString());
        bin = Files.createDirectory(tmp.resolve("bin"));
        chmod(bin, "rwxr-xr-x");
        Files.copy(ExecutorSession.binary(), bin.resolve("hull-executor"));
        chmod(bin.resolve("hull-executor"), "rwxr-xr-x");
        Files.writeString(bin.resolve("cold"), "#!/bin/sh\necho COLD-FALLBACK\nexit 97\n");
        chmod(bin.resolve("cold"), "rwxr-xr-x");

        root = new HullCommand(tmp.resolve("home"), tmp.resolve("state"), Map.of());
        HullCommand.Result r = root.run("images", "-q", "busybox"); // the built-in image
        assertThat(r.exit()).as("%s", r).isZero();

        Path run = Files.createDirectory(tmp.resolve("run"));
        chmod(run, "rwxr-xr-x");
        sock = run.resolve("hull.sock");
        server = WarmServer.bind(sock, group);
        Thread.ofPlatform().daemon().name("callerfiles-service").start(() -> {
            try {
                server.serve(new ServiceCommands());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        if (root != null) {
            for (String id : root.run("ps", "-aq", "--no-trunc").out().split("\n")) {
                if (!id.isBlank()) {
                    root.run("rm", "-f", id.strip());
                }
            }
        }
        try {
            if (root != null) { // a disk volume is mounted: removed by Hull, not by deleting the tree
                for (String v : root.run("volume", "ls", "-q").out().split("\n")) {
                    if (!v.isBlank()) {
                        root.run("volume", "rm", "-f", v.strip());
                    }
                }
            }
            if (tmp != null) {
                SnapshotStore.deleteTree(tmp);
            }
        } finally {
            if (member != null) {
                StorePermissionsTest.exec(List.of("userdel", member));
            }
            if (group != null) {
                StorePermissionsTest.exec(List.of("groupdel", group));
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** hull args through the service as the member, in its own directory. */
    static StorePermissionsTest.Result asMember(String... args) throws Exception {
        return asMember(List.of(), args);
    }

    /** The same with env (NAME=VALUE) in the command's environment. */
    static StorePermissionsTest.Result asMember(List<String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("runuser", "-u", member, "--", "/usr/bin/env",
                "HULL_HOME=" + tmp.resolve("home"), "HULL_STATE=" + tmp.resolve("state")));
        cmd.addAll(env);
        cmd.addAll(List.of(bin.resolve("hull-executor").toString(), "--client", "--program", "hull", sock.toString(),
                bin.resolve("cold").toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("hull-cfiles-", ".out");
        Path err = Files.createTempFile("hull-cfiles-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).directory(own.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(cmd + " did not finish in 300 s");
            }
            StorePermissionsTest.Result r = new StorePermissionsTest.Result(p.exitValue(), Files.readString(out),
                    Files.readString(err));
            assertThat(r.out()).as("ran through the service, not cold: %s", r).doesNotContain("COLD-FALLBACK");
            return r;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static void assertRefused(StorePermissionsTest.Result r, String file) {
        assertThat(r.exit()).as("refused: %s", r).isNotZero();
        assertThat(r.err()).as("%s", r).contains(file).containsIgnoringCase("permission denied")
                .contains("with your rights");
        assertThat(r.out() + r.err()).as("nothing of the root-only file shows").doesNotContain(marker);
    }

    static void assertWorks(StorePermissionsTest.Result r) {
        assertThat(r.exit()).as("%s", r).isZero();
    }

    /** A file of root's only (0600) with text. */
    static Path rootFile(String name, String text) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, text);
        chmod(f, "rw-------");
        return f;
    }

    /** A file of the member's own with text. */
    static Path ownFile(String name, String text) throws Exception {
        Path f = own.resolve(name);
        Files.writeString(f, text);
        StorePermissionsTest.must("chown", member + ":" + member, f.toString());
        return f;
    }

    static int owner(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    static int memberUid() throws Exception {
        return Integer.parseInt(StorePermissionsTest.exec(List.of("id", "-u", member)).out().strip());
    }

    static void chmod(Path p, String perms) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    // ------------------------------------------------------------------ build

    @Test
    void buildSecretIsReadWithTheCallersRights() throws Exception {
        Path ctx = Files.createDirectory(own.resolve("secret-ctx"));
        ownFile("secret-ctx/Dockerfile", "FROM busybox\nRUN --mount=type=secret,id=s grep -q OWN-SECRET /run/secrets/s\n");
        Path theirs = rootFile("secret-root", marker + " OWN-SECRET\n");
        assertRefused(asMember("build", "--network", "none", "--no-cache", "--secret", "id=s,src=" + theirs, ctx.toString()),
                theirs.toString());

        Path mine = ownFile("secret-own", "OWN-SECRET\n");
        assertWorks(asMember("build", "--network", "none", "--no-cache", "--secret", "id=s,src=" + mine, ctx.toString()));
    }

    @Test
    void buildDockerfileIsReadWithTheCallersRights() throws Exception {
        Path ctx = Files.createDirectory(own.resolve("df-ctx"));
        Path theirs = rootFile("Dockerfile.root", "FROM busybox\nLABEL x=" + marker + "\n");
        assertRefused(asMember("build", "--network", "none", "-f", theirs.toString(), ctx.toString()), theirs.toString());

        Path mine = ownFile("Dockerfile.own", "FROM busybox\nLABEL x=own\n");
        assertWorks(asMember("build", "--network", "none", "-f", mine.toString(), ctx.toString()));
    }

    @Test
    void buildIidfileAndOutputAreWrittenWithTheCallersRights() throws Exception {
        Path ctx = Files.createDirectory(own.resolve("iid-ctx"));
        ownFile("iid-ctx/Dockerfile", "FROM busybox\nLABEL x=iid\n");
        Path theirs = rootDir.resolve("iid");
        assertRefused(asMember("build", "--network", "none", "--iidfile", theirs.toString(), ctx.toString()),
                theirs.toString());
        assertThat(theirs).doesNotExist();
        Path theirDir = rootDir.resolve("out");
        assertRefused(asMember("build", "--network", "none", "--output", "type=local,dest=" + theirDir, ctx.toString()),
                "--output");
        assertThat(theirDir).doesNotExist();

        Path mine = own.resolve("iid");
        assertWorks(asMember("build", "--network", "none", "--iidfile", mine.toString(), ctx.toString()));
        assertThat(Files.readString(mine)).startsWith("sha256:");
        assertThat(owner(mine)).isEqualTo(memberUid());
    }

    @Test
    void buildContextIsReadWithTheCallersRights() throws Exception {
        Path ctx = Files.createDirectory(own.resolve("ctx-with-root-file"));
        StorePermissionsTest.must("chown", member + ":" + member, ctx.toString());
        ownFile("ctx-with-root-file/Dockerfile", "FROM busybox\nCOPY . /ctx/\nRUN cat /ctx/* > /dev/null\n");
        ownFile("ctx-with-root-file/mine", "own file\n");
        Path theirs = ctx.resolve("theirs");
        Files.writeString(theirs, marker);
        chmod(theirs, "rw-------"); // root's, in the member's context
        StorePermissionsTest.Result r = asMember("build", "--network", "none", "--no-cache", "-t",
                "localhost/cf/ctx:1", ctx.toString());
        assertThat(r.exit()).as("refused: %s", r).isNotZero();
        assertThat(r.err()).as("%s", r).contains("theirs").containsIgnoringCase("permission denied");
        assertThat(r.out() + r.err()).doesNotContain(marker);
        assertThat(root.run("images", "-q", "localhost/cf/ctx:1").out()).as("no image").isBlank();

        Files.delete(theirs);
        assertWorks(asMember("build", "--network", "none", "--no-cache", "-t", "localhost/cf/ctx:1", ctx.toString()));
    }

    // ------------------------------------------------------------------ containers

    @Test
    void cpWithAHostPathIsRefusedTarStreamsWork() throws Exception {
        assertWorks(asMember("create", "--network", "none", "--name", "cf-cp", "busybox"));
        Path theirs = rootFile("cp-root", marker);
        StorePermissionsTest.Result in = asMember("cp", theirs.toString(), "cf-cp:/x");
        assertThat(in.exit()).as("%s", in).isNotZero();
        assertThat(in.err()).as("%s", in).containsIgnoringCase("permission denied").contains("tar stream");
        StorePermissionsTest.Result out = asMember("cp", "cf-cp:/etc/passwd", rootDir.resolve("passwd").toString());
        assertThat(out.exit()).as("%s", out).isNotZero();
        assertThat(rootDir.resolve("passwd")).doesNotExist();
        StorePermissionsTest.Result tar = asMember("cp", "cf-cp:/etc/passwd", "-");
        assertWorks(tar);
        assertThat(tar.out()).contains("root:");
    }

    @Test
    void envFileLabelFileAndSeccompProfileAreReadWithTheCallersRights() throws Exception {
        Path theirs = rootFile("env-root", "X=" + marker + "\n");
        assertRefused(asMember("run", "--rm", "--network", "none", "--env-file", theirs.toString(), "busybox",
                "sh", "-c", "echo $X"), theirs.toString());
        assertRefused(asMember("create", "--network", "none", "--label-file", theirs.toString(), "busybox"),
                theirs.toString());
        Path profile = rootFile("seccomp-root.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
        assertRefused(asMember("create", "--network", "none", "--security-opt", "seccomp=" + profile, "busybox"),
                profile.toString());

        Path mine = ownFile("env-own", "X=own-value\n");
        StorePermissionsTest.Result r = asMember("run", "--rm", "--network", "none", "--env-file", mine.toString(),
                "busybox", "sh", "-c", "echo $X");
        assertWorks(r);
        assertThat(r.out()).contains("own-value");
    }

    @Test
    void cidfileIsWrittenWithTheCallersRights() throws Exception {
        Path theirs = rootDir.resolve("cid");
        StorePermissionsTest.Result r = asMember("create", "--network", "none", "--name", "cf-cid-root", "--cidfile",
                theirs.toString(), "busybox");
        assertRefused(r, theirs.toString());
        assertThat(theirs).doesNotExist();
        assertThat(root.run("ps", "-a", "--filter", "name=cf-cid-root", "-q").out()).as("no container left").isBlank();

        Path mine = own.resolve("cid");
        assertWorks(asMember("create", "--network", "none", "--name", "cf-cid-own", "--cidfile", mine.toString(),
                "busybox"));
        assertThat(owner(mine)).isEqualTo(memberUid());
    }

    @Test
    void anEncryptedVolumesKeyFileIsReadWithTheCallersRights() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no /dev/loop-control: no loop devices for a disk volume");
        assumeTrue(Files.exists(Path.of("/sys/fs/ext4/features/encryption")), "ext4 has no encryption here");
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        Path theirs = tmp.resolve("key-root");
        Files.write(theirs, key);
        chmod(theirs, "rw-------");
        StorePermissionsTest.Result r = asMember("volume", "create", "-o", "size=32m", "-o", "encrypt=true",
                "-o", "key-file=" + theirs, "cf-enc-root");
        assertRefused(r, theirs.toString());
        assertThat(root.run("volume", "ls", "-q").out()).as("no volume left").doesNotContain("cf-enc-root");

        Path mine = own.resolve("key-own");
        Files.write(mine, key);
        StorePermissionsTest.must("chown", member + ":" + member, mine.toString());
        chmod(mine, "rw-------");
        assertWorks(asMember("volume", "create", "-o", "size=32m", "-o", "encrypt=true", "-o", "key-file=" + mine,
                "cf-enc-own"));
        root.run("volume", "rm", "-f", "cf-enc-own");
    }

    @Test
    void aRegistriesFileNamedInTheEnvironmentIsReadWithTheCallersRights() throws Exception {
        Path theirs = rootFile("registries-root.json", marker + "\n");
        StorePermissionsTest.Result r = asMember(List.of("HULL_REGISTRIES=" + theirs), "pull",
                "127.0.0.1:9/cf/none:1");
        assertRefused(r, theirs.toString());
    }

    // ------------------------------------------------------------------ archives

    @Test
    void saveLoadAndImportUseTheCallersRights() throws Exception {
        Path theirOut = rootDir.resolve("busybox.tar");
        assertRefused(asMember("save", "-o", theirOut.toString(), "busybox"), theirOut.toString());
        assertThat(theirOut).doesNotExist();
        Path mine = own.resolve("busybox.tar");
        assertWorks(asMember("save", "-o", mine.toString(), "busybox"));
        assertThat(owner(mine)).isEqualTo(memberUid());

        Path theirs = tmp.resolve("busybox-root.tar");
        Files.copy(mine, theirs);
        chmod(theirs, "rw-------");
        assertRefused(asMember("load", "-i", theirs.toString()), theirs.toString());
        assertWorks(asMember("load", "-i", mine.toString()));

        Path rootTar = rootFile("import-root.tar", marker);
        assertRefused(asMember("import", rootTar.toString(), "localhost/cf/import:1"), rootTar.toString());
        root.ok("volume", "create", "cf-vol");
        assertRefused(asMember("volume", "import", "cf-vol", rootTar.toString()), rootTar.toString());
    }

    @Test
    void exportAndVolumeExportWriteWithTheCallersRights() throws Exception {
        assertWorks(asMember("create", "--network", "none", "--name", "cf-export", "busybox"));
        Path theirs = rootDir.resolve("export.tar");
        assertRefused(asMember("export", "-o", theirs.toString(), "cf-export"), theirs.toString());
        assertThat(theirs).doesNotExist();
        assertWorks(asMember("volume", "create", "cf-vol-export"));
        Path theirVol = rootDir.resolve("vol.tar");
        assertRefused(asMember("volume", "export", "-o", theirVol.toString(), "cf-vol-export"), theirVol.toString());
        assertThat(theirVol).doesNotExist();

        Path mine = own.resolve("export.tar");
        assertWorks(asMember("export", "-o", mine.toString(), "cf-export"));
        assertThat(owner(mine)).isEqualTo(memberUid());
    }
}
