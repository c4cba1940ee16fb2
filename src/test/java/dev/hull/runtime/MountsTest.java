package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.testing.OwnedMounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The config's mounts, as the container sees them, and that none of them reaches outside the rootfs. */
class MountsTest {
    static Path base;
    static ContainerRuntime rt;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("mounts");
        rt = new ContainerRuntime(ContainerTests.root(base));
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    Bundles.Bundle bundle() {
        return Bundles.create(base, "b");
    }

    @Test
    void tmpfsWithOptions() throws Exception {
        Bundles.Bundle b = bundle().mount("/mnt/a", "tmpfs", "tmpfs", "size=2m", "mode=1770", "noexec", "nosuid");
        String out = ContainerTests.output(rt, b, "grep ' /mnt/a ' /proc/mounts; stat -c %a /mnt/a");
        String[] lines = out.split("\n");
        assertThat(lines[0]).startsWith("tmpfs /mnt/a tmpfs ").contains("noexec").contains("nosuid")
                .contains("size=2048k").contains("mode=1770");
        assertThat(lines[1]).isEqualTo("1770");
    }

    @Test
    void readOnlyBindCannotBeWritten() throws Exception {
        Path src = Files.createDirectories(base.resolve("ro-src-" + System.nanoTime()));
        Files.writeString(src.resolve("file"), "from the host\n");
        Bundles.Bundle b = bundle().mount("/mnt/a", "bind", src.toString(), "bind", "ro");
        String out = ContainerTests.output(rt, b,
                "cat /mnt/a/file; if touch /mnt/a/new 2>/out/touch-err; then echo WROTE; else echo DENIED; fi; "
                        + "grep ' /mnt/a ' /proc/mounts");
        String[] lines = out.split("\n");
        assertThat(lines[0]).isEqualTo("from the host");
        assertThat(lines[1]).isEqualTo("DENIED");
        assertThat(Files.readString(b.out.resolve("touch-err"))).contains("Read-only file system");
        assertThat(lines[2]).contains(" ro,").doesNotContain(" rw,");
        assertThat(src.resolve("new")).doesNotExist();
    }

    @Test
    void rbindCarriesSubmountsAndBindDoesNot() throws Exception {
        // /sys/fs/cgroup has a submount per hierarchy on this host: a recursive bind shows them.
        assertThat(Files.exists(Path.of("/sys/fs/cgroup/pids/cgroup.procs"))
                || Files.exists(Path.of("/sys/fs/cgroup/cgroup.procs"))).isTrue();
        Bundles.Bundle b = bundle().mount("/mnt/a", "bind", "/sys/fs/cgroup", "rbind", "ro")
                .mount("/mnt/b", "bind", "/sys/fs/cgroup", "bind", "ro");
        String out = ContainerTests.output(rt, b,
                "grep -c ' /mnt/a' /proc/mounts; grep -c ' /mnt/b' /proc/mounts");
        String[] lines = out.split("\n");
        assertThat(Integer.parseInt(lines[0])).as("mounts at and under /mnt/a (rbind)").isGreaterThan(1);
        assertThat(Integer.parseInt(lines[1])).as("mounts at and under /mnt/b (bind)").isEqualTo(1);
    }

    @Test
    void bindOfASingleFile() throws Exception {
        Path file = base.resolve("hosts-" + System.nanoTime());
        Files.writeString(file, "10.1.2.3 bound-file\n");
        Bundles.Bundle b = bundle().mount("/etc/hosts", "bind", file.toString(), "bind", "ro");
        assertThat(ContainerTests.output(rt, b, "cat /etc/hosts")).isEqualTo("10.1.2.3 bound-file\n");

        // A destination that does not exist yet is created as a file (in an overlay, not the shared rootfs).
        Bundles.Bundle o = bundle().overlay().mount("/etc/new-dir/new-file", "bind", file.toString(), "bind");
        assertThat(ContainerTests.output(rt, o, "cat /etc/new-dir/new-file; test -f /etc/new-dir/new-file && echo FILE"))
                .isEqualTo("10.1.2.3 bound-file\nFILE\n");
        assertThat(o.upper().resolve("etc/new-dir/new-file")).isRegularFile();
        assertThat(Bundles.rootfs().resolve("etc/new-dir")).doesNotExist();
    }

    @Test
    void destinationsThroughSymlinksStayInsideTheRootfs() throws Exception {
        Set<String> before = Host.mountPoints();
        Bundles.Bundle b = bundle().overlay();
        Files.createSymbolicLink(b.upper().resolve("evil"), Path.of("/etc"));
        Files.createSymbolicLink(b.upper().resolve("evil2"), Path.of("../../../../../../etc"));
        Path file = base.resolve("payload-" + System.nanoTime());
        Files.writeString(file, "payload\n");
        String dirName = "hull-evil-dir-" + ProcessHandle.current().pid();
        String fileName = "hull-evil-file-" + ProcessHandle.current().pid();
        // (the tmpfs sources name this test, so that its mounts can be told from others' on the host)
        String source = "hull-evil-tmpfs-" + ProcessHandle.current().pid();
        b.mount("/evil/" + dirName, "tmpfs", source, "size=1m")
                .mount("/evil2/" + fileName, "bind", file.toString(), "bind")
                .mount("/evil", "tmpfs", source, "size=1m", "mode=700");
        String out = ContainerTests.output(rt, b,
                "grep -c ' /etc ' /proc/mounts; ls /etc | wc -l; stat -c %a /etc");
        String[] lines = out.split("\n");
        assertThat(lines[0]).as("/evil resolved to the rootfs's /etc").isEqualTo("1");
        assertThat(lines[1]).as("the tmpfs on the container's /etc is empty").isEqualTo("0");
        assertThat(lines[2]).isEqualTo("700");
        assertThat(Path.of("/etc", dirName)).doesNotExist();
        assertThat(Path.of("/etc", fileName)).doesNotExist();
        assertThat(b.upper().resolve("etc").resolve(dirName)).as("made in the rootfs").isDirectory();
        assertThat(b.upper().resolve("etc").resolve(fileName)).as("made in the rootfs").isRegularFile();
        assertThat(Files.readAllLines(Path.of("/etc/passwd"))).isNotEmpty();
        // of the host's new mounts, those of this test (in its dirs, or naming its payload, names or source)
        List<String> ours = OwnedMounts.all().stream().filter(m -> !before.contains(m.mountPoint()))
                .filter(m -> m.ownedBy(List.of(base, Bundles.rootfs(), b.dir), List.of(dirName, fileName, source)))
                .map(OwnedMounts.Mount::mountPoint).toList();
        assertThat(ours).noneMatch(m -> m.startsWith("/etc"));
    }

    @Test
    void readonlyRootCannotBeWritten() throws Exception {
        String out = ContainerTests.output(rt, bundle(),
                "if touch /hull-ro-test 2>/out/err; then echo WROTE; else echo DENIED; fi; grep -c ' / ' /proc/mounts");
        assertThat(out.split("\n")[0]).isEqualTo("DENIED");
        assertThat(Bundles.rootfs().resolve("hull-ro-test")).doesNotExist();

        Bundles.Bundle rw = bundle().overlay();
        assertThat(ContainerTests.output(rt, rw, "touch /hull-rw-test && echo WROTE")).isEqualTo("WROTE\n");
        assertThat(rw.upper().resolve("hull-rw-test")).exists();
        assertThat(Bundles.rootfs().resolve("hull-rw-test")).doesNotExist();
    }

    @Test
    void rootfsPropagation() throws Exception {
        String script = "awk '$5 == \"/\" {print}' /proc/self/mountinfo";
        Bundles.Bundle shared = bundle();
        shared.linux().put("rootfsPropagation", "rshared");
        assertThat(ContainerTests.output(rt, shared, script)).contains(" shared:");
        Bundles.Bundle priv = bundle();
        priv.linux().put("rootfsPropagation", "private");
        assertThat(ContainerTests.output(rt, priv, script)).doesNotContain("shared:").doesNotContain("master:");
        // unbindable: applied after pivot_root (set before, the rootfs could not be bound onto itself)
        Bundles.Bundle unbindable = bundle();
        unbindable.linux().put("rootfsPropagation", "unbindable");
        assertThat(ContainerTests.output(rt, unbindable, script)).contains("unbindable");
    }

    /**
     * containerd's CRI runs a Bidirectional volume as a bind with "rshared" and rootfsPropagation "rshared":
     * a mount made in the container under the volume must show on the host (critest "mount with 'rshared'
     * should support propagation from host to container and vice versa"), and one made on the host must show
     * in the container. A slave step on "/" before the bind left the volume only receiving.
     */
    @Test
    void bidirectionalVolumePropagatesBothWays() throws Exception {
        Path src = Files.createDirectories(base.resolve("bidi-" + System.nanoTime()));
        Files.createDirectories(src.resolve("from-host"));
        sh("mount --bind " + src + " " + src + " && mount --make-rshared " + src);
        try {
            Bundles.Bundle b = bundle().addCaps("CAP_SYS_ADMIN").mount("/vol", "bind", src.toString(), "rbind", "rshared");
            b.linux().put("rootfsPropagation", "rshared");
            // the container mounts a tmpfs under the volume and waits (up to 20 s) for the host's mount
            String script = ("mkdir -p /vol/from-container && mount -t tmpfs -o size=1m tmpfs /vol/from-container"
                    + " && touch /vol/from-container/made-in-container"
                    + " && i=0; while [ ! -e /vol/from-host/made-on-host ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done;"
                    + " ls /vol/from-host");
            Thread hostSide = new Thread(() -> {
                try {
                    for (int i = 0; i < 200 && !Files.exists(src.resolve("from-container/made-in-container")); i++) {
                        Thread.sleep(100);
                    }
                    sh("mount -t tmpfs -o size=1m tmpfs " + src.resolve("from-host") + " && touch "
                            + src.resolve("from-host/made-on-host"));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            hostSide.start();
            String out = ContainerTests.output(rt, b, script);
            hostSide.join();
            assertThat(src.resolve("from-container/made-in-container")).as("container's mount seen on the host").exists();
            assertThat(out).as("host's mount seen in the container").contains("made-on-host");
        } finally {
            sh("umount -l " + src.resolve("from-host") + " 2>/dev/null; umount -l " + src.resolve("from-container")
                    + " 2>/dev/null; umount -l " + src + " 2>/dev/null; true");
        }
    }

    static void sh(String cmd) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(cmd + ": " + out).isZero();
    }
}
