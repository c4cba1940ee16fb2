package dev.hull.rootless;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.HullCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull system migrate} (issue 19): after the user's ranges in /etc/subuid and /etc/subgid
 * change, the running containers are stopped (named), the namespace holder and the user's service
 * end, and a new namespace maps the new ranges; root is told it has nothing to migrate.
 */
class RootlessMigrateTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final RootlessUser.Fixture FIXTURE = new RootlessUser.Fixture("hulltest-rlmig");
    static Path dir;
    static RootlessUser user;

    @BeforeAll
    static void setUp() {
        dir = FIXTURE.dir();
        user = FIXTURE.user();
    }

    @Test
    void migrateStopsTheContainersAndMapsTheNewRanges() throws Exception {
        Path run = user.home.resolve("run");
        assertThat(RootlessUser.run("runuser", "-u", user.name, "--", "mkdir", "-m", "700", run.toString()).exit())
                .isZero();
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", run.toString(), "HULL_NO_SERVICE", "0");
        Path state = run.resolve("hull");
        HullCommand.Result r = user.hull(env, "run", "-d", "--name", "rlmig-c", "busybox", "sleep", "1000");
        assertThat(r.exit()).as(r.toString()).isZero();
        for (int i = 0; i < 1200 && !Files.exists(state.resolve("hull.sock")); i++) {
            Thread.sleep(100); // the user's service, started by that command
        }
        assertThat(state.resolve("hull.sock")).exists();
        String oldHolder = Files.readString(state.resolve("userns.pid")).strip().split(" ")[0];

        long start = user.moveRanges();
        r = user.hull(env, "system", "migrate");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).contains("stopping 1 container(s) first").contains("rlmig-c");
        assertThat(r.out()).contains("stopped the user namespace holder " + oldHolder)
                .contains("uid_map 0 " + user.uid + " 1 1 " + start + " 65536")
                .contains("gid_map 0 ");
        assertThat(state.resolve("hull.sock")).as("the service ended with the old namespace").doesNotExist();
        assertThat(Files.isSymbolicLink(Path.of("/proc", oldHolder, "exe")) && Files.exists(Path.of("/proc", oldHolder,
                "exe"))).as("the old holder is gone").isFalse();
        String newHolder = Files.readString(state.resolve("userns.pid")).strip().split(" ")[0];
        assertThat(newHolder).isNotEqualTo(oldHolder);

        r = user.hull(env, "ps", "-a");
        assertThat(r.out()).as(r.toString()).contains("rlmig-c").contains("Exited");
        r = user.hull(env, "run", "--rm", "busybox", "cat", "/proc/self/uid_map");
        assertThat(r.out().trim().split("\\s+")).as(r.toString()).containsExactly("0", Long.toString(user.uid), "1",
                "1", Long.toString(start), "65536");
        user.hull(env, "rm", "-f", "rlmig-c");
        RootlessUser.run("kill", "-KILL", Files.readString(state.resolve("userns.pid")).strip().split(" ")[0]);
    }

    @Test
    void infoSaysTheMappingsTheCgroupDelegationAndTheNetwork() throws Exception {
        HullCommand.Result r = user.hull("info");
        assertThat(r.exit()).as(r.toString()).isZero();
        String line = r.out().lines().filter(l -> l.startsWith("Rootless: ")).findFirst().orElseThrow();
        long gid = Long.parseLong(RootlessUser.run("id", "-g", user.name).out().strip());
        assertThat(line).contains("uid_map 0 " + user.uid + " 1 1 ").contains("gid_map 0 " + gid + " 1 1 ");
        var mode = dev.hull.linux.cgroup.CgroupLayout.detect().mode();
        assertThat(line).contains("cgroup delegation: none, " + switch (mode) {
            case V2 -> "cgroup v2 host";
            case HYBRID -> "cgroup v1 (hybrid) host";
            case LEGACY -> "cgroup v1 host";
        });
        // the network: what the user can open decides (a host fact, never changed here)
        boolean tun = RootlessUser.run("runuser", "-u", user.name, "--", "sh", "-c",
                "test -r /dev/net/tun && test -w /dev/net/tun").exit() == 0;
        if (!tun) {
            assertThat(line).contains("network: none, no way out: /dev/net/tun is not usable by this user");
        } else if (Files.isExecutable(Path.of("/usr/bin/pasta")) || Files.isExecutable(Path.of("/usr/bin/slirp4netns"))) {
            assertThat(line).containsPattern("network: (pasta|slirp4netns) \\(");
        } else {
            assertThat(line).contains("neither pasta (Debian: passt) nor slirp4netns is installed");
        }
        r = user.hull("info", "--format", "{{json .SecurityOptions}}");
        assertThat(r.out()).as(r.toString()).contains("\"name=rootless\"");
    }

    @Test
    void pastaOrSlirp4netnsIsChosenWhenTheUserMayOpenTun() throws Exception {
        boolean tun = RootlessUser.run("runuser", "-u", user.name, "--", "sh", "-c",
                "test -r /dev/net/tun && test -w /dev/net/tun").exit() == 0;
        org.junit.jupiter.api.Assumptions.assumeTrue(tun, "/dev/net/tun is not usable by an ordinary user on this host"
                + " (mode " + java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(Path.of("/dev/net/tun"))) + "; Debian's udev makes it 0666): pasta and"
                + " slirp4netns cannot run");
        boolean pasta = Files.isExecutable(Path.of("/usr/bin/pasta"));
        org.junit.jupiter.api.Assumptions.assumeTrue(pasta || Files.isExecutable(Path.of("/usr/bin/slirp4netns")),
                "neither pasta (passt) nor slirp4netns is installed");
        HullCommand.Result r = user.hull("info");
        assertThat(r.out()).as(r.toString()).contains("network: " + (pasta ? "pasta" : "slirp4netns") + " (");
    }

    @Test
    void everyRangeOfTheUserIsMappedOneAfterTheOther() throws Exception {
        long start = user.addRange(1000); // a second line for the user in /etc/subuid and /etc/subgid
        try {
            HullCommand.Result r = user.hull("system", "migrate");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).contains("uid_map 0 " + user.uid + " 1 1 ").contains(" 65537 " + start + " 1000; gid_map");
            r = user.hull("info");
            assertThat(r.out()).as(r.toString()).contains(" 65537 " + start + " 1000; gid_map ")
                    .containsPattern("gid_map 0 \\d+ 1 1 \\d+ 65536 65537 " + start + " 1000;");
            // an id of the second range is usable in a container (unmapped, touch would fail: EINVAL)
            r = user.hull("run", "--rm", "-u", "66000:66000", "busybox", "sh", "-c", "touch /tmp/x && stat -c '%u %g' /tmp/x");
            assertThat(r.out()).as(r.toString()).isEqualTo("66000 66000\n");
        } finally {
            user.removeRange(start);
            user.hull("system", "migrate");
        }
    }

    @Test
    void rootHasNothingToMigrate() throws Exception {
        HullCommand.Result r = RootlessUser.run("env", "HULL_NO_SERVICE=1", "HULL_HOME=" + dir.resolve("root-home"),
                "HULL_STATE=" + dir.resolve("root-state"), "HULL_CLASSPATH=" + System.getProperty("java.class.path"),
                "HULL_JAVA_HOME=" + System.getProperty("java.home"), dir.resolve("install/bin/hull").toString(),
                "system", "migrate");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: system migrate is for rootless Hull");
        assertThat(dir.resolve("root-home")).doesNotExist();
    }
}
