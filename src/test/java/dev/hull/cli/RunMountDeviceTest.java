package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docker's --mount, --device, --device-cgroup-rule, --pid, --ipc, --uts, --cgroupns and --volumes-from through the
 * real {@code hull} command (warm or cold, {@link HullCommand}): what the container sees of each, and
 * docker's refusals with docker's words.
 */
class RunMountDeviceTest {
    static Path dir;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-mountdev-");
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of("HULL_NO_SERVICE", "1"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (hull != null) {
            for (String line : hull.run("ps", "-aq").out().lines().toList()) {
                hull.run("rm", "-f", line.strip());
            }
        }
        dev.hull.image.SnapshotStore.deleteTree(dir);
    }

    /** hull run --rm --network none ARGS: its stdout, failing unless it exits 0. */
    private static String run(String... args) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of("run", "--rm", "--network", "none"));
        all.addAll(List.of(args));
        return hull.ok(all.toArray(String[]::new)).out();
    }

    /** hull run ARGS busybox true must fail with 125 and hull: WORDS. */
    private static void refused(String words, String... args) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of("run", "--rm", "--network", "none"));
        all.addAll(List.of(args));
        all.addAll(List.of("busybox", "true"));
        HullCommand.Result r = hull.run(all.toArray(String[]::new));
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).as(String.join(" ", args)).startsWith("hull: ").contains(words);
    }

    @Test
    void mountBindVolumeAndTmpfs() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("f"), "from the host\n");
        assertThat(run("--mount", "type=bind,source=" + src + ",target=/data,readonly", "busybox", "sh", "-c",
                "cat /data/f; touch /data/x 2>/dev/null || echo read-only")).isEqualTo("from the host\nread-only\n");
        // a quoted field (docker's CSV), dst and a propagation
        run("--mount", "\"type=bind\",src=" + src + ",dst=/data,bind-propagation=rslave", "busybox", "touch", "/data/w");
        assertThat(src.resolve("w")).exists();
        assertThat(run("--mount", "type=volume,source=mountdev-vol,target=/v", "busybox", "sh", "-c",
                "echo kept > /v/k")).isEmpty();
        assertThat(run("-v", "mountdev-vol:/again", "busybox", "cat", "/again/k")).isEqualTo("kept\n");
        // volume-nocopy: an empty volume over the image's /usr stays empty; without it, the image's files are copied
        assertThat(run("--mount", "type=volume,src=mountdev-nocopy,dst=/usr,volume-nocopy", "busybox", "ls", "/usr"))
                .isEmpty();
        assertThat(run("--mount", "type=volume,src=mountdev-copy,dst=/usr", "busybox", "ls", "/usr")).isEqualTo("bin\nsbin\n");
        assertThat(run("--mount", "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770", "busybox", "sh", "-c",
                "stat -c %a /t; grep ' /t ' /proc/mounts")).startsWith("1770\ntmpfs /t tmpfs ").contains("size=1024k");
        hull.run("volume", "rm", "mountdev-vol", "mountdev-nocopy", "mountdev-copy");
    }

    @Test
    void mountRefusalsAreDockers() throws Exception {
        refused("invalid argument \"foo\" for \"--mount\" flag: invalid field 'foo' must be a key=value pair",
                "--mount", "foo");
        refused("invalid argument \"type=bind\" for \"--mount\" flag: target is required", "--mount", "type=bind");
        refused("unexpected key 'nope' in 'nope=1'", "--mount", "type=bind,target=/x,nope=1");
        refused("cannot mix 'bind-*' options with mount type 'tmpfs'", "--mount",
                "type=tmpfs,target=/x,bind-propagation=shared");
        refused("invalid value for tmpfs-mode: 999", "--mount", "type=tmpfs,target=/x,tmpfs-mode=999");
        // unlike -v's, a bind's missing source is an error, and nothing is made for it
        Path missing = dir.resolve("missing");
        refused("invalid mount config for type \"bind\": bind source path does not exist: " + missing, "--mount",
                "type=bind,src=" + missing + ",dst=/x");
        assertThat(missing).doesNotExist();
        refused("invalid mount config for type \"tmpfs\": field Source must not be specified", "--mount",
                "type=tmpfs,src=/tmp,dst=/x");
        refused("invalid mount path: 'x' mount path must be absolute", "--mount", "type=tmpfs,dst=x");
        refused("invalid mount config for type \"bind\": invalid propagation mode: sideways", "--mount",
                "type=bind,src=/tmp,dst=/x,bind-propagation=sideways");
        refused("invalid mount config for type \"nfs\": mount type unknown", "--mount", "type=nfs,dst=/x");
        refused("includes invalid characters for a local volume name", "--mount", "type=volume,src=/tmp,dst=/x");
    }

    @Test
    void aMountedSymlinkIsTheHostPathAsWithV() throws Exception {
        // a bind through a symlink mounts what the link names on the host, as -v does; the target's path is
        // resolved inside the container's root only
        Path real = Files.createDirectories(dir.resolve("real"));
        Files.writeString(real.resolve("f"), "real\n");
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        assertThat(run("--mount", "type=bind,src=" + link + ",dst=/data", "busybox", "cat", "/data/f"))
                .isEqualTo(run("-v", link + ":/data", "busybox", "cat", "/data/f")).isEqualTo("real\n");
    }

    @Test
    void deviceIsMadeAndOnlyItsPermissionsAllowed() throws Exception {
        // /dev/null under another name: usable
        assertThat(run("--device", "/dev/null:/dev/hull-null", "busybox", "sh", "-c",
                "echo x > /dev/hull-null && stat -c '%t:%T %F' /dev/hull-null")).isEqualTo("1:3 character special file\n");
        // /dev/kmsg (c 1:11) is not among the devices every container may use: read-only when given with r
        assertThat(run("--device", "/dev/kmsg:/dev/k:r", "busybox", "sh", "-c",
                "(echo hull-mountdev-test > /dev/k) 2>/dev/null && echo written || echo denied")).isEqualTo("denied\n");
        // not given: its node can be made (mknod is allowed) but not opened
        assertThat(run("busybox", "sh", "-c", "mknod /dev/k c 1 11 && (echo x > /dev/k) 2>/dev/null && echo opened"
                + " || echo denied")).isEqualTo("denied\n");
        // a --device-cgroup-rule allows exactly that
        assertThat(run("--device-cgroup-rule", "c 1:11 w", "busybox", "sh", "-c", "mknod /dev/k c 1 11 &&"
                + " echo hull-mountdev-test > /dev/k && echo written")).isEqualTo("written\n");
    }

    @Test
    void blockDeviceReadOnly() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no /dev/loop-control: no loop devices");
        Path image = dir.resolve("loop.img");
        Files.write(image, ("hull-loop-marker" + "\0".repeat(4096)).getBytes());
        Process p = new ProcessBuilder("losetup", "--find", "--show", image.toString()).start();
        String loop = new String(p.getInputStream().readAllBytes()).strip();
        Assumptions.assumeTrue(p.waitFor() == 0 && loop.startsWith("/dev/loop"), "losetup failed here");
        try {
            assertThat(run("--device", loop + ":/dev/xvdc:r", "busybox", "sh", "-c", "head -c 16 /dev/xvdc; echo;"
                    + " (echo x > /dev/xvdc) 2>/dev/null && echo written || echo denied"))
                    .isEqualTo("hull-loop-marker\ndenied\n");
            long rdev = (Long) Files.getAttribute(Path.of(loop), "unix:rdev");
            // not given: the node can be made, not opened
            assertThat(run("busybox", "sh", "-c", "mknod /dev/xvdc b 7 " + ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL))
                    + " && (head -c 16 /dev/xvdc) 2>/dev/null || echo denied")).isEqualTo("denied\n");
        } finally {
            new ProcessBuilder("losetup", "-d", loop).start().waitFor();
        }
    }

    @Test
    void deviceRefusalsAreDockers() throws Exception {
        refused("error gathering device information while adding custom device \"/nope\": no such file or directory",
                "--device", "/nope");
        refused("error gathering device information while adding custom device \"/etc/passwd\": not a device node",
                "--device", "/etc/passwd");
        refused("bad mode specified: rwz", "--device", "/dev/null:/x:rwz");
        refused("x is not an absolute path", "--device", "/dev/null:x");
        refused("bad format for path: /dev/null:/x:r:w", "--device", "/dev/null:/x:r:w");
        refused("invalid argument \"c 1:3\" for \"--device-cgroup-rule\" flag: invalid device cgroup format 'c 1:3'",
                "--device-cgroup-rule", "c 1:3");
    }

    @Test
    void hostNamespaces() throws Exception {
        assertThat(run("--pid", "host", "busybox", "readlink", "/proc/self/ns/pid").strip())
                .isEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString());
        assertThat(run("--pid", "host", "busybox", "cat", "/proc/1/comm"))
                .isEqualTo(Files.readString(Path.of("/proc/1/comm")));
        assertThat(run("busybox", "readlink", "/proc/self/ns/pid").strip())
                .isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString());
        assertThat(run("--ipc", "host", "busybox", "readlink", "/proc/self/ns/ipc").strip())
                .isEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/ipc")).toString());
        String hostname = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        assertThat(run("--uts", "host", "busybox", "sh", "-c", "hostname; readlink /proc/self/ns/uts; echo $HOSTNAME"))
                .isEqualTo(hostname + "\n" + Files.readSymbolicLink(Path.of("/proc/self/ns/uts")) + "\n" + hostname + "\n");
        assertThat(run("--ipc", "none", "busybox", "sh", "-c", "ls /dev/shm 2>&1 || true"))
                .contains("No such file or directory");
        refused("Conflicting options: hostname and the UTS mode", "--uts", "host", "-h", "box");
        refused("--pid: invalid PID mode", "--pid", "private");
        refused("--uts: invalid UTS mode", "--uts", "container:x");
        refused("invalid IPC mode: elsewhere", "--ipc", "elsewhere");
        refused("--sysctl kernel.shmmax: not allowed with --ipc host", "--ipc", "host", "--sysctl", "kernel.shmmax=1");
    }

    @Test
    void cgroupnsHostOrPrivate() throws Exception {
        String host = Files.readSymbolicLink(Path.of("/proc/self/ns/cgroup")).toString();
        String[] own = run("--cgroupns", "host", "busybox", "sh", "-c", "readlink /proc/self/ns/cgroup; grep -m1"
                + " :pids: /proc/self/cgroup").split("\n");
        assertThat(own[0]).as("--cgroupns host: the host's namespace").isEqualTo(host);
        assertThat(own[1]).as("its cgroup's full path").matches("[0-9]+:pids:/.+");
        for (String[] flags : new String[][] {{}, {"--cgroupns", "private"}}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(flags));
            args.addAll(java.util.List.of("busybox", "sh", "-c", "readlink /proc/self/ns/cgroup; grep -m1 :pids:"
                    + " /proc/self/cgroup"));
            String[] priv = run(args.toArray(String[]::new)).split("\n");
            assertThat(priv[0]).as("private (the default): its own").isNotEqualTo(host);
            assertThat(priv[1]).matches("[0-9]+:pids:/");
        }
        hull.ok("create", "--name", "mountdev-cgns", "--network", "none", "--cgroupns", "host", "busybox", "true");
        assertThat(hull.ok("inspect", "-f", "{{.HostConfig.CgroupnsMode}}", "mountdev-cgns").out()).isEqualTo("host\n");
        hull.ok("rm", "mountdev-cgns");
        refused("--cgroupns: invalid CGROUP mode", "--cgroupns", "container:x");
    }

    @Test
    void joinAnotherContainersPidAndIpc() throws Exception {
        hull.ok("run", "-d", "--name", "mountdev-donor", "--network", "none", "--ipc", "shareable", "busybox", "sh",
                "-c", "echo donor > /dev/shm/marker; exec sleep 300");
        hull.ok("run", "-d", "--name", "mountdev-private", "--network", "none", "busybox", "sleep", "300");
        try {
            String donorIpc = awaitOk("exec", "mountdev-donor", "sh", "-c", "test -f /dev/shm/marker && readlink"
                    + " /proc/self/ns/ipc");
            assertThat(run("--ipc", "container:mountdev-donor", "busybox", "sh", "-c", "cat /dev/shm/marker;"
                    + " readlink /proc/self/ns/ipc")).isEqualTo("donor\n" + donorIpc);
            assertThat(run("--pid", "container:mountdev-donor", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"))
                    .isEqualTo("sleep 300 ");
            refused("container mountdev-private: non-shareable IPC (hint: use IpcMode:shareable for the donor"
                    + " container)", "--ipc", "container:mountdev-private");
            refused("no such container: mountdev-nope", "--pid", "container:mountdev-nope");
            hull.ok("stop", "-t", "0", "mountdev-donor");
            refused("container mountdev-donor is not running", "--pid", "container:mountdev-donor");
        } finally {
            hull.run("rm", "-f", "mountdev-donor", "mountdev-private");
        }
        assertThat(hull.ok("ps", "-aq").out()).as("no container left by a refused run --rm").isEmpty();
    }

    @Test
    void volumesFrom() throws Exception {
        Path src = Files.createDirectories(dir.resolve("vf"));
        Files.writeString(src.resolve("f"), "shared\n");
        hull.ok("create", "--name", "mountdev-vsrc", "-v", src + ":/src", "--mount",
                "type=volume,src=mountdev-vf,dst=/vol", "busybox", "true");
        try {
            assertThat(run("--volumes-from", "mountdev-vsrc", "busybox", "sh", "-c", "cat /src/f; echo w > /vol/w &&"
                    + " echo rw")).isEqualTo("shared\nrw\n");
            assertThat(run("--volumes-from", "mountdev-vsrc:ro", "busybox", "sh", "-c", "cat /vol/w; (echo x >"
                    + " /src/x) 2>/dev/null || echo ro")).isEqualTo("w\nro\n");
            refused("invalid mode: xx", "--volumes-from", "mountdev-vsrc:xx");
        } finally {
            hull.run("rm", "-f", "mountdev-vsrc");
            hull.run("volume", "rm", "mountdev-vf");
        }
    }

    @Test
    void cgroupParent() throws Exception {
        String parent = "hull-mountdev-" + dir.getFileName().toString().replaceAll("[^a-z0-9-]", "");
        String id = hull.ok("run", "-d", "--network", "none", "--cgroup-parent", "/" + parent, "busybox", "sleep",
                "300").out().strip();
        try {
            String path = hull.ok("inspect", "-f", "{{.Hull.CgroupPath}}", id).out().strip();
            assertThat(path).isEqualTo("/" + parent + "/" + id);
            var cg = new dev.hull.linux.cgroup.CgroupResources(dev.hull.linux.cgroup.CgroupLayout.detect(), path);
            Path pids = cg.target("pids", "pids").dir();
            assertThat(pids.getParent().getFileName().toString()).isEqualTo(parent);
            assertThat(Files.readString(pids.resolve("cgroup.procs"))).isNotBlank(); // the container's processes
            refused("--cgroup-parent ../x: use a cgroup path", "--cgroup-parent", "../x");
        } finally {
            hull.run("rm", "-f", id);
            try (var roots = Files.list(Path.of("/sys/fs/cgroup"))) { // the parent is left, as docker leaves it
                for (Path r : roots.toList()) { // v1: one per hierarchy; v2: the parent itself
                    Path p = r.getFileName().toString().equals(parent) ? r : r.resolve(parent);
                    if (Files.isDirectory(p)) {
                        Files.delete(p);
                    }
                }
            }
        }
    }

    /** Runs until it exits 0 (a detached container's first steps may still be running): its stdout. */
    private static String awaitOk(String... args) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (;;) {
            HullCommand.Result r = hull.run(args);
            if (r.exit() == 0) {
                return r.out();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("hull " + String.join(" ", args) + " never succeeded: " + r);
            }
            Thread.sleep(100);
        }
    }
}
