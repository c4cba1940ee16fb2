package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import dev.hull.image.testing.RegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** hull save/load, login/logout/push/pull and run's implicit pull, as a user types them. */
class ImageCommandsTest {
    static Path dir;
    static HullCommand hull;
    static String busyboxId;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-image-cmds-");
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of());
        HullCommand.Result r = hull.run("run", "--rm", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isZero();
        busyboxId = hull.run("images", "-q", "--no-trunc", "busybox").out().strip();
        assertThat(busyboxId).startsWith("sha256:");
    }

    @AfterAll
    static void tearDown() throws Exception {
        SnapshotStore.deleteTree(dir);
    }

    HullCommand fresh(String name) {
        return new HullCommand(dir.resolve(name), dir.resolve("state"), Map.of());
    }

    @Test
    void saveThenLoadMovesAnImageWithoutARegistry() throws Exception {
        Path tar = dir.resolve("busybox.tar");
        HullCommand.Result r = hull.run("save", "-o", tar.toString(), "busybox");
        assertThat(r.exit()).as(r.toString()).isZero();
        HullCommand other = fresh("home-load");
        r = other.run("load", "-i", tar.toString());
        assertThat(r.out()).as(r.toString()).isEqualTo("Loaded image: busybox:latest\n");
        assertThat(other.run("images", "-q", "--no-trunc").out().strip()).isEqualTo(busyboxId);
        r = other.run("run", "--rm", "busybox", "echo", "loaded");
        assertThat(r.out()).as(r.toString()).isEqualTo("loaded\n");
        assertThat(r.err()).doesNotContain("making the built-in");

        // from stdin, and an OCI layout directory with a new name
        HullCommand third = fresh("home-stdin");
        r = third.runWithInput(tar, "load");
        assertThat(r.out()).as(r.toString()).contains("busybox:latest");
        Path layout = dir.resolve("layout");
        r = hull.run("save", "--format", "oci-dir", "-o", layout.toString(), "busybox");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(layout.resolve("oci-layout")).exists();
        r = third.run("load", "-i", layout.toString(), "--name", "tools/bb:oci");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(third.run("images", "-q", "--no-trunc", "tools/bb").out().strip()).isEqualTo(busyboxId);
    }

    @Test
    void aBrokenArchiveIsAClearErrorAndLoadsNothing() throws Exception {
        Path junk = dir.resolve("junk.tar");
        Files.writeString(junk, "not a tar at all");
        HullCommand other = fresh("home-junk");
        HullCommand.Result r = other.run("load", "-i", junk.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains(junk.toString());
        assertThat(other.run("images", "-q").out()).isEmpty();
    }

    @Test
    void loginPushPullAndLogoutAgainstARegistryWithPasswords() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(dir.resolve("registry")).htpasswd("alice", "s3cret")
                .start()) {
            String remote = registry.host() + "/team/bb:1";
            Path authfile = dir.resolve("auth.json");
            HullCommand.Result r = hull.run("push", "--tls-verify=false", "--authfile", authfile.toString(), "busybox",
                    remote);
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).contains(registry.host());

            Path pw = dir.resolve("pw");
            Files.writeString(pw, "wrong\n");
            r = hull.runWithInput(pw, "login", "-u", "alice", "--password-stdin", "--tls-verify=false", "--authfile",
                    authfile.toString(), registry.host());
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).contains("bad username or password");
            assertThat(authfile).doesNotExist();

            Files.writeString(pw, "s3cret\n");
            r = hull.runWithInput(pw, "login", "-u", "alice", "--password-stdin", "--tls-verify=false", "--authfile",
                    authfile.toString(), registry.host());
            assertThat(r.out()).as(r.toString()).contains("Login Succeeded");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(authfile))).isEqualTo("rw-------");

            r = hull.run("push", "--tls-verify=false", "--authfile", authfile.toString(), "busybox", remote);
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).contains("Pushed").contains("digest: sha256:");

            // hull run pulls what is missing, with the same credentials
            HullCommand other = fresh("home-pull");
            r = other.run("run", "--rm", "--tls-verify=false", "--authfile", authfile.toString(), remote, "echo",
                    "from-registry");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).isEqualTo("from-registry\n");
            assertThat(r.err()).contains("Pulling from").contains("Pull complete");
            assertThat(other.run("images", "-q", "--no-trunc").out().strip()).isEqualTo(busyboxId);

            r = hull.run("logout", "--authfile", authfile.toString(), registry.host());
            assertThat(r.exit()).as(r.toString()).isZero();
            r = fresh("home-pull2").run("pull", "--tls-verify=false", "--authfile", authfile.toString(), remote);
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).contains(registry.host());
            r = hull.run("pull", "--tls-verify=false", "--authfile", authfile.toString(), registry.host()
                    + "/team/nosuch:1");
            assertThat(r.exit()).isEqualTo(1);
        }
    }
}
