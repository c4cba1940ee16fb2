package dev.hull.rootless;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.HullCommand;
import dev.hull.image.testing.RegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rootless Hull (issue 19, first slice): an ordinary user with subordinate ranges runs containers
 * with bin/hull, no sudo: inside its own user namespace (bin/hull-userns), with its store under
 * ~/.local/share/hull and its state in /tmp/hull-UID; limits refused while no cgroup is delegated;
 * a user without ranges told to get one in /etc/subuid.
 */
class RootlessHullTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final RootlessUser.Fixture FIXTURE = new RootlessUser.Fixture("hulltest-rootless");
    static Path dir;
    static RootlessUser user;

    @BeforeAll
    static void setUp() {
        dir = FIXTURE.dir();
        user = FIXTURE.user();
    }

    @Test
    void runRmPrintsAsAnOrdinaryUserFromTheUsersOwnStore() throws Exception {
        HullCommand.Result r = user.hull("run", "--rm", "--name", "rl-echo", "busybox", "sh", "-c",
                "echo hi; id -u; cat /proc/self/uid_map | wc -l");
        assertThat(r.exit()).as(r.toString()).isZero();
        // root of the container, which is root of the user's namespace: 2 lines (the user, its range)
        assertThat(r.out()).isEqualTo("hi\n0\n2\n");
        Path store = user.home.resolve(".local/share/hull");
        assertThat(store.resolve("images.json")).exists();
        assertThat(Files.getOwner(store).getName()).isEqualTo(user.name);
        assertThat(user.state().resolve("userns.pid")).exists();
    }

    @Test
    void detachedContainerExecLogsPsStopRm() throws Exception {
        String name = "rl-web";
        HullCommand.Result r = user.hull("run", "-d", "--name", name, "busybox", "sh", "-c",
                "echo started; exec sleep 1000");
        assertThat(r.exit()).as(r.toString()).isZero();
        String id = r.out().strip();
        try {
            r = user.hull("ps", "--format", "{{.Names}} {{.Status}}");
            assertThat(r.out()).as(r.toString()).containsPattern("(?m)^" + name + " Up ");
            r = user.hull("exec", name, "sh", "-c", "echo in $(hostname)");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).isEqualTo("in " + id.substring(0, 12) + "\n");
            r = user.hull("logs", name);
            assertThat(r.out()).as(r.toString()).isEqualTo("started\n");
            // no cgroup: top finds the processes by the init's pid namespace
            r = user.hull("top", name);
            assertThat(r.out()).as(r.toString()).contains("sleep 1000");
            // the container's files are the user's, nothing of the host's root places
            assertThat(user.home.resolve(".local/share/hull/containers").resolve(id)).isDirectory();
            assertThat(Path.of("/var/lib/hull/containers", id)).doesNotExist();
            assertThat(Path.of("/run/hull", id)).doesNotExist();
            assertThat(user.state().resolve(id)).isDirectory();

            r = user.hull("stop", "-t", "1", name);
            assertThat(r.exit()).as(r.toString()).isZero();
            r = user.hull("ps", "-a", "--format", "{{.Names}} {{.Status}}");
            assertThat(r.out()).as(r.toString()).containsPattern("(?m)^" + name + " Exited \\(137\\)");
            r = user.hull("start", name);
            assertThat(r.exit()).as(r.toString()).isZero();
            r = user.hull("exec", name, "echo", "again");
            assertThat(r.out()).as(r.toString()).isEqualTo("again\n");
        } finally {
            r = user.hull("rm", "-f", name);
        }
        assertThat(r.exit()).as(r.toString()).isZero();
        r = user.hull("ps", "-a", "--format", "{{.Names}}");
        assertThat(r.out()).as(r.toString()).doesNotContain(name);
        assertThat(user.home.resolve(".local/share/hull/containers").resolve(id)).doesNotExist();
    }

    @Test
    void volumesBindMountsAndRestartPolicies() throws Exception {
        HullCommand.Result r = user.hull("run", "--rm", "-v", "rl-data:/srv", "busybox", "sh", "-c", "echo kept > /srv/f");
        assertThat(r.exit()).as(r.toString()).isZero();
        r = user.hull("run", "--rm", "-v", "rl-data:/srv:ro", "busybox", "cat", "/srv/f");
        assertThat(r.out()).as(r.toString()).isEqualTo("kept\n");
        assertThat(user.hull("volume", "rm", "rl-data").exit()).isZero();
        // a bind mount of the user's directory: what container root writes is the user's on the host
        Path bind = user.home.resolve("rl-bind");
        assertThat(RootlessUser.run("runuser", "-u", user.name, "--", "mkdir", bind.toString()).exit()).isZero();
        r = user.hull("run", "--rm", "-v", bind + ":/b", "busybox", "sh", "-c", "echo x > /b/y");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(Files.getOwner(bind.resolve("y")).getName()).isEqualTo(user.name);
        // a container user other than root is one of the user's subordinate ids
        r = user.hull("run", "--rm", "-u", "1000", "busybox", "sh", "-c", "touch /tmp/a; stat -c %u /tmp/a");
        assertThat(r.out()).as(r.toString()).isEqualTo("1000\n");
        // the monitor restarts it inside the user's namespace: 1 run + 2 restarts
        r = user.hull("run", "-d", "--name", "rl-restart", "--restart", "on-failure:2", "busybox", "sh", "-c",
                "echo run; exit 3");
        assertThat(r.exit()).as(r.toString()).isZero();
        try {
            for (int i = 0; i < 600; i++) {
                r = user.hull("logs", "rl-restart");
                if (r.out().equals("run\nrun\nrun\n")
                        && user.hull("ps", "-a", "--format", "{{.Names}} {{.Status}}").out().contains("rl-restart Exited (3)")) {
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(r.out()).as(r.toString()).isEqualTo("run\nrun\nrun\n");
        } finally {
            user.hull("rm", "-f", "rl-restart");
        }
    }

    @Test
    void limitsAreRefusedNamingTheMissingDelegation() throws Exception {
        for (String[] flag : new String[][] {{"-m", "64m"}, {"--cpus", "1"}, {"--pids-limit", "10"}}) {
            HullCommand.Result r = user.hull("run", "--rm", flag[0], flag[1], "busybox", "true");
            assertThat(r.exit()).as(r.toString()).isEqualTo(125);
            assertThat(r.err()).as(r.toString()).startsWith("hull: rootless: ")
                    .contains("cgroup delegated to the user").contains("Delegate=");
        }
        HullCommand.Result r = user.hull("ps", "-a", "--format", "{{.Image}}");
        assertThat(r.out()).as("nothing made").isEmpty();
        r = user.hull("info");
        assertThat(r.out()).as(r.toString()).contains("Rootless: yes (uid_map 0 " + user.uid + " 1 1 ")
                .contains("Storage Root (HULL_HOME): " + user.home.resolve(".local/share/hull"));
    }

    @Test
    void theDefaultNetworkIsNoneAndOthersAreRefused() throws Exception {
        HullCommand.Result r = user.hull("run", "--rm", "busybox", "sh", "-c", "ls /sys/class/net");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("lo\n");
        r = user.hull("run", "--rm", "--network", "none", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isZero();
        r = user.hull("run", "--rm", "-p", "8080:80", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: rootless: -p/--publish: ");
        r = user.hull("run", "--rm", "--network", "host", "-p", "8080:80", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).contains("--network host");
        r = user.hull("network", "create", "rl-net");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).startsWith("hull: rootless: network create: ");
    }

    /**
     * {@code --network host} rootless, as podman's: the container stays in the user's network namespace, the
     * host's, with the host's /sys bound read-only (a sysfs mount needs a network namespace of the user's).
     * The test's own bridge link on the host is what it looks for; changing it is the host root's only.
     */
    @Test
    void networkHostIsTheHostsNamespaceSeenButNotChanged() throws Exception {
        String link = "rlh" + ProcessHandle.current().pid() % 100000;
        assertThat(RootlessUser.run("ip", "link", "add", link, "type", "bridge").exit()).isZero();
        try {
            assertThat(RootlessUser.run("ip", "link", "set", link, "up").exit()).isZero();
            HullCommand.Result r = user.hull("run", "--rm", "--network", "host", "busybox", "sh", "-c",
                    "cat /sys/class/net/" + link + "/type; grep -c '" + link + ":' /proc/net/dev;"
                            + " ip link set " + link + " down 2>/dev/null && echo changed || echo refused;"
                            + " touch /sys/x 2>/dev/null && echo wrote-sys || echo sys-ro");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).as(r.toString()).isEqualTo("1\n1\nrefused\nsys-ro\n");
            assertThat(RootlessUser.run("ip", "-o", "link", "show", link).out()).contains(",UP").doesNotContain("DOWN");
        } finally {
            RootlessUser.run("ip", "link", "del", link);
        }
    }

    /** Sized and encrypted disks need the host's root (a loop device, an ext4 mount): a clear refusal, up front. */
    @Test
    void aSizedDiskIsRefusedNamingWhy() throws Exception {
        HullCommand.Result r = user.hull("run", "--rm", "--storage-opt", "size=64m", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).as(r.toString()).contains("a sized or encrypted disk").contains("user namespace (rootless Hull)");
        r = user.hull("volume", "create", "--opt", "size=64m", "rl-sized");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).as(r.toString()).contains("a sized or encrypted disk");
        assertThat(user.hull("volume", "ls", "--format", "{{.Name}}").out()).doesNotContain("rl-sized");
        assertThat(user.hull("info").out()).contains("Disks: unavailable (a sized or encrypted disk");
    }

    @Test
    void xdgDirectoriesDecideWhereTheStoreAndStateLive() throws Exception {
        Path data = user.home.resolve("xdg-data");
        Path run = user.home.resolve("xdg-run");
        assertThat(RootlessUser.run("runuser", "-u", user.name, "--", "mkdir", "-m", "700", run.toString()).exit())
                .isZero();
        HullCommand.Result r = user.hull(Map.of("XDG_DATA_HOME", data.toString(), "XDG_RUNTIME_DIR", run.toString()),
                "run", "--rm", "busybox", "echo", "xdg");
        assertThat(r.out()).as(r.toString()).isEqualTo("xdg\n");
        assertThat(data.resolve("hull/images.json")).exists();
        assertThat(run.resolve("hull/userns.pid")).exists();
        String pid = Files.readString(run.resolve("hull/userns.pid")).strip().split(" ")[0]; // "PID START"
        RootlessUser.run("kill", "-KILL", pid); // this test's own namespace holder (the other tests use /tmp/hull-UID)
    }

    @Test
    void imagesPullFromARegistryAndUnpackInTheUsersNamespace() throws Exception {
        RootlessUser.assumeHost();
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(RegistryServer.BINARY),
                "docker-registry is missing");
        Path rootHome = dir.resolve("root-home");
        HullCommand root = HullCommand.cold(rootHome, dir.resolve("root-state"), Map.of("HULL_NO_SERVICE", "1"));
        try (RegistryServer registry = RegistryServer.builder(dir.resolve("registry")).start()) {
            String remote = registry.host() + "/rootless/bb:1";
            root.ok("run", "--rm", "busybox", "true"); // root's built-in busybox, pushed for the user to pull
            root.ok("push", "--tls-verify=false", "busybox", remote);
            HullCommand.Result r = user.hull("pull", "--tls-verify=false", remote);
            assertThat(r.exit()).as(r.toString()).isZero();
            r = user.hull("run", "--rm", remote, "sh", "-c", "echo pulled; ls -ln /bin/busybox | awk '{print $3}'");
            assertThat(r.out()).as(r.toString()).isEqualTo("pulled\n0\n");
        }
    }

    @Test
    void twoUsersNeverSeeEachOthersContainers() throws Exception {
        HullCommand.Result r = user.hull("run", "-d", "--name", "rl-mine", "busybox", "sleep", "1000");
        assertThat(r.exit()).as(r.toString()).isZero();
        String id = r.out().strip();
        try (RootlessUser other = RootlessUser.create("hulltest-rootless-b", true, dir.resolve("install"))) {
            r = other.hull("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).doesNotContain("rl-mine").doesNotContain(id);
            r = other.hull("rm", "-f", "rl-mine");
            assertThat(r.exit()).as(r.toString()).isNotZero();
            r = other.hull("run", "--rm", "busybox", "echo", "b");
            assertThat(r.out()).as(r.toString()).isEqualTo("b\n");
            // its own namespace: another holder than the first user's
            assertThat(Files.readString(other.state().resolve("userns.pid")))
                    .isNotEqualTo(Files.readString(user.state().resolve("userns.pid")));
            // and the first user's store is closed to it
            r = RootlessUser.run("runuser", "-u", other.name, "--", "ls", user.home.resolve(".local/share/hull/containers")
                    .toString());
            assertThat(r.exit()).as(r.toString()).isNotZero();
        } finally {
            r = user.hull("rm", "-f", "rl-mine");
        }
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    @Test
    void aStateDirectorySymlinkAnotherUserPlantsInTmpIsRefused() throws Exception {
        // The victim has no XDG_RUNTIME_DIR: its state is /tmp/hull-UID. Another user (the first test
        // user) gets there first with a symlink to a directory of the victim's: it passes "owned by the
        // user", and its owner can point it at a directory of its own later (a pidfile of its choice).
        try (RootlessUser victim = RootlessUser.create("hulltest-rootless-v", true, dir.resolve("install"))) {
            Path decoy = victim.home.resolve("decoy");
            assertThat(RootlessUser.run("runuser", "-u", victim.name, "--", "mkdir", "-m", "755", decoy.toString())
                    .exit()).isZero();
            Path state = victim.state();
            RootlessUser.run("rm", "-rf", state.toString());
            assertThat(RootlessUser.run("runuser", "-u", user.name, "--", "ln", "-s", decoy.toString(),
                    state.toString()).exit()).isZero();
            try {
                HullCommand.Result r = victim.hull("ps");
                assertThat(r.exit()).as(r.toString()).isEqualTo(125);
                assertThat(r.err()).as(r.toString()).contains("is a symlink; not followed");
                assertThat(decoy.resolve("userns.pid")).doesNotExist();
                assertThat(Files.getPosixFilePermissions(decoy))
                        .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
            } finally {
                Files.deleteIfExists(state);
            }
        }
    }

    @Test
    void aProcessOfAContainerAtTheHoldersPidIsNeverJoined() throws Exception {
        // The holder gone (killed, say) and its pid taken by a process of one of the user's containers
        // (the user's uid, in the user's namespace), one that calls itself sleep, whose root has a file
        // at the path bin/hull-userns runs: joining it would run the container's file, unconfined.
        Path install = dir.resolve("install");
        Path evil = user.home.resolve("evil-bin");
        String script = "#!/bin/sh\necho joined > " + install.resolve("bin/joined") + "\n";
        assertThat(RootlessUser.run("runuser", "-u", user.name, "--", "sh", "-c", "mkdir -p " + evil + " && printf '"
                + script + "' > " + evil + "/hull && chmod 755 " + evil + "/hull").exit()).isZero();
        HullCommand.Result r = user.hull("run", "-d", "--name", "rl-squat", "-v", evil + ":" + install.resolve("bin"),
                "busybox", "sh", "-c", "cp /bin/busybox /tmp/sleep && exec /tmp/sleep 1000");
        assertThat(r.exit()).as(r.toString()).isZero();
        Path pidFile = user.state().resolve("userns.pid");
        String recorded = Files.readString(pidFile);
        try {
            String pid = user.hull("inspect", "--format", "{{.State.Pid}}", "rl-squat").out().strip();
            Path exe = Path.of("/proc", pid, "exe");
            for (int i = 0; i < 1200 && !Files.readSymbolicLink(exe).toString().endsWith("/sleep"); i++) {
                Thread.sleep(100);
            }
            assertThat(Files.readSymbolicLink(exe).toString()).endsWith("/sleep");
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String started = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];
            // the pid alone (as the pidfile was), and with the process's own start time (only the
            // root tells it from a holder then)
            for (String forged : java.util.List.of(pid + "\n", pid + " " + started + "\n")) {
                Files.writeString(pidFile, forged);
                r = user.hull("ps", "-a", "--format", "{{.Names}}");
                assertThat(evil.resolve("joined")).as("the container's file ran (pidfile %s)", forged).doesNotExist();
                assertThat(r.exit()).as(r.toString()).isZero();
                assertThat(r.out()).contains("rl-squat");
                String made = Files.readString(pidFile).strip().split(" ")[0]; // a new holder: ended for the next round
                assertThat(made).isNotEqualTo(pid);
                RootlessUser.run("kill", "-KILL", made);
                for (int i = 0; i < 600 && Files.exists(Path.of("/proc", made)); i++) {
                    Thread.sleep(100);
                }
            }
        } finally {
            Files.writeString(pidFile, recorded);
            r = user.hull("rm", "-f", "rl-squat");
        }
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    @Test
    void aUserWithoutSubordinateIdsIsToldToGetARangeInEtcSubuid() throws Exception {
        try (RootlessUser plain = RootlessUser.create("hulltest-rootless-noid", false, dir.resolve("install"))) {
            HullCommand.Result r = plain.hull("run", "--rm", "busybox", "true");
            assertThat(r.exit()).as(r.toString()).isEqualTo(125);
            assertThat(r.err()).as(r.toString()).startsWith("hull: rootless: user " + plain.name + " has no"
                    + " subordinate uid range in /etc/subuid");
            assertThat(plain.home.resolve(".local/share/hull")).doesNotExist();
        }
    }
}
