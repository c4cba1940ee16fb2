package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * /proc and /sys: the masked paths (kernel memory, keys, timers, firmware ...) stay masked and the
 * read-only ones (/proc/sys, /proc/sysrq-trigger ...) stay read-only whatever the image does — a
 * symlinked /proc or /sys, a volume that an image's symlink puts over /proc (CVE-2019-16884,
 * CVE-2019-19921), a /dev/null that is not the null device, also while another container swaps it
 * (CVE-2025-31133) — and the runtime never writes a sysctl or an LSM label through something that is
 * not the real procfs. Nothing here writes to /proc/sysrq-trigger (it is only looked at in
 * mountinfo) or to any real kernel setting.
 */
class ProcEscapeTest {
    static HullBox box;
    static RuntimeBox rbox;
    /** Prints the container's mountinfo from wherever its procfs is. */
    static final String MOUNTINFO = "for d in /proc /p /q; do if [ -r $d/self/mountinfo ]; then cat $d/self/mountinfo;"
            + " break; fi; done";

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("proc");
        rbox = new RuntimeBox("proc");
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            box.close();
        } finally {
            rbox.close();
        }
    }

    /** A masked file that exists on this kernel (which ones do varies). */
    static String maskedFile() {
        for (String p : MountInfo.MASKED) {
            if (Files.isRegularFile(Path.of(p)) && p.startsWith("/proc/")) {
                return p;
            }
        }
        Assumptions.abort("none of the masked /proc files exists on this kernel");
        return null;
    }

    @Test
    void maskedPathsAreMaskedAndReadOnlyPathsAreReadOnly() throws Exception {
        String file = maskedFile();
        String out = box.output("--rm", "busybox", "sh", "-c", MOUNTINFO + "; echo ===; stat -c %t:%T " + file
                + "; wc -c < " + file + "; ls -A /sys/firmware | wc -l;"
                + " (true >> /proc/sys/vm/overcommit_memory) && echo OPENED-PROC-SYS; true");
        String[] parts = out.split("===\n");
        MountInfo.parse(parts[0]).assertMasksHold("a default container");
        assertThat(parts[1]).as("%s is the null device, empty; /sys/firmware is empty; /proc/sys is read-only", file)
                .isEqualTo("1:3\n0\n0\n");
        // the same from hull's own view of the container: its masks are in its mountinfo, not the host's
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(box.dir.toString() + "/home/containers");
    }

    /** Runs the image with script; null if Hull refused it, else its output (asserting exit 0). */
    static String runOrRefused(List<String> flags, String image, String script) throws Exception {
        List<String> args = new ArrayList<>(List.of("--rm"));
        args.addAll(flags);
        args.addAll(List.of(image, "sh", "-c", script));
        Object r = box.runOrRefusal(args.toArray(String[]::new));
        if (r instanceof Exception) {
            return null;
        }
        HullBox.Result res = (HullBox.Result) r;
        assertThat(res.exit()).as("%s %s: %s", flags, image, res).isZero();
        return res.out();
    }

    @Test
    void aSymlinkedProcOrSysInTheImageIsRefusedOrStillMasked() throws Exception {
        // the image makes /proc and /sys symlinks: procfs and sysfs land where they point (inside the
        // rootfs); the masks must follow them there — or the image is refused (as runc refuses it)
        Map<String, HullBox.Layer> images = Map.of(
                "evil/proc-abs:1", new HullBox.Layer().dir("p").symlink("proc", "/p"),
                "evil/proc-rel:1", new HullBox.Layer().dir("p").symlink("proc", "p"),
                "evil/proc-and-sys:1", new HullBox.Layer().dir("p").dir("q").symlink("proc", "/p").symlink("sys", "/q"),
                "evil/proc-under-dev:1", new HullBox.Layer().dir("dev/shm").symlink("proc", "/dev/shm"),
                "evil/proc-to-host:1", new HullBox.Layer().symlink("proc", box.canary.dir.resolve("proc").toString()));
        int ran = 0;
        for (var e : images.entrySet()) {
            box.image(e.getKey(), e.getValue());
            String out = runOrRefused(List.of(), e.getKey(), MOUNTINFO);
            if (out != null) {
                ran++;
                MountInfo.parse(out).assertMasksHold(e.getKey());
            }
            box.canary.assertUntouched();
        }
        System.out.println("symlinked /proc or /sys: " + ran + " of " + images.size() + " images ran (masked), the rest refused");
    }

    @Test
    void aVolumeThatAnImageSymlinkPutsOverProcIsRefusedOrMasked() throws Exception {
        // CVE-2019-16884 / CVE-2019-19921: the user mounts a volume where the image has a symlink into
        // /proc (or /sys): it covers /proc, /proc/sys, the init's /proc/self/attr (where an LSM label is
        // written), a masked directory. The masks must still hold over the real procfs and sysfs, and
        // nothing of the runtime's may be written into the volume (the canary, given read-only: what
        // the container itself writes into a volume it was given is not the question here)
        String image = box.image("evil/over-proc:1", new HullBox.Layer().symlink("data", "/proc")
                .symlink("sysdata", "/proc/sys").symlink("attr", "/proc/self/attr").symlink("sysfw", "/sys/firmware"));
        Path src = Files.createDirectories(box.dir.resolve("volume-src"));
        Files.writeString(src.resolve("file"), "volume\n");
        List<String> outcomes = new ArrayList<>();
        for (List<String> flags : List.of(List.of("-v", src + ":/data"), List.of("--tmpfs", "/data"),
                List.of("-v", box.canary.dir + ":/sysdata:ro"), List.of("-v", box.canary.dir.resolve("attr") + ":/attr:ro"),
                List.of("-v", box.canary.dir + ":/sysfw:ro"))) {
            String out = runOrRefused(flags, image, MOUNTINFO);
            if (out != null) {
                MountInfo.parse(out).assertMasksHold(flags.toString());
            }
            outcomes.add(flags.get(1) + (out == null ? ": refused" : ": ran, masked"));
            box.canary.assertUntouched();
        }
        System.out.println("volumes over /proc through image symlinks: " + outcomes);
    }

    @Test
    void aSysctlIsNeverWrittenThroughAMountOverProcSys() throws Exception {
        // control: the sysctl reaches the container's procfs
        RuntimeBox.Bundle ok = rbox.bundle("sysctl-ok").script("cat /proc/sys/kernel/domainname");
        ok.linux().putObject("sysctl").put("kernel.domainname", "hull-escape");
        assertThat(rbox.run(ok)).as(ok.describe()).isEqualTo(0);
        assertThat(ok.stdout()).isEqualTo("hull-escape\n");
        // attack: the rootfs's /data is a symlink to /proc/sys, and the config binds a host directory (the
        // canary: a volume) at /data: it lands on /proc/sys, where the runtime then writes the sysctl
        RuntimeBox.Bundle b = rbox.bundle("sysctl-redirect").script("cat /proc/sys/kernel/domainname");
        Files.createSymbolicLink(b.upper.resolve("data"), Path.of("/proc/sys"));
        b.mount("/data", "bind", rbox.canary.dir.toString(), "rbind", "rw");
        b.linux().putObject("sysctl").put("kernel.domainname", "hull-escape");
        Object r = rbox.run(b);
        assertThat(r).as(b.describe()).isInstanceOf(RuntimeError.class);
        // refused at the mount (its target resolves into /proc through the image's symlink), or at the
        // sysctl (not on procfs)
        assertThat(((Exception) r).getMessage()).containsAnyOf("not on procfs", "resolves into /proc");
        rbox.canary.assertUntouched();
    }

    @Test
    void anLsmLabelIsNeverWrittenThroughAMountOverProcSelfAttr() throws Exception {
        // CVE-2019-16884: /proc/self/attr covered by a volume makes the label write go to the volume
        Path lsmFile = Path.of("/sys/kernel/security/lsm");
        String lsms = Files.exists(lsmFile) ? Files.readString(lsmFile) : "";
        boolean apparmor = lsms.contains("apparmor");
        Assumptions.assumeTrue(apparmor || lsms.contains("selinux"), "no AppArmor or SELinux active on this host"
                + " (/sys/kernel/security/lsm: \"" + lsms.strip() + "\"): Hull applies no LSM label here");
        RuntimeBox.Bundle b = rbox.bundle("lsm-redirect").script("true");
        Files.createSymbolicLink(b.upper.resolve("data"), Path.of("/proc/self/attr"));
        b.mount("/data", "bind", rbox.canary.dir.resolve("attr").toString(), "rbind", "rw");
        ObjectNode process = (ObjectNode) b.config.get("process");
        if (apparmor) {
            process.put("apparmorProfile", "hull-escape-no-such-profile");
        } else {
            process.put("selinuxLabel", "system_u:system_r:hull_escape_no_such_t:s0");
        }
        rbox.run(b); // refused (no such profile) or not: either way the label went to the real procfs
        rbox.canary.assertUntouched();
    }

    // ---------------------------------------------------------------- /dev/null that is not the null device

    /** The host's core_pattern: a global kernel setting the attacks aim at (only ever read here). */
    static String corePattern() throws Exception {
        return Files.readString(Path.of("/proc/sys/kernel/core_pattern"));
    }

    /** A bundle whose /dev is the rootfs's own (no /dev tmpfs): what the image put at /dev/null stays there. */
    static RuntimeBox.Bundle imageDev(String name, String file) throws Exception {
        RuntimeBox.Bundle b = rbox.bundle(name).withoutMount("/dev")
                .script("stat -c %t:%T " + file + "; wc -c < " + file);
        Files.createDirectories(b.upper.resolve("dev"));
        return b;
    }

    @Test
    void aDevNullThatIsNotTheNullDeviceIsNeverBoundOverAMaskedPath() throws Exception {
        // CVE-2025-31133: the masks bind /dev/null; if the image's /dev/null points at a kernel setting,
        // the container would get that setting, writable, where the mask should be
        String file = maskedFile();
        String core = corePattern();
        RuntimeBox.Bundle control = imageDev("devnull-ok", file);
        assertThat(rbox.run(control)).as(control.describe()).isEqualTo(0);
        assertThat(control.stdout()).isEqualTo("1:3\n0\n");
        List<String> outcomes = new ArrayList<>();
        for (String kind : List.of("symlink-abs", "symlink-rel", "file", "zero-device", "fifo", "dir")) {
            RuntimeBox.Bundle b = imageDev("devnull-" + kind, file);
            Path n = b.upper.resolve("dev/null");
            switch (kind) {
                case "symlink-abs" -> Files.createSymbolicLink(n, Path.of("/proc/sys/kernel/core_pattern"));
                case "symlink-rel" -> Files.createSymbolicLink(n, Path.of("../proc/sys/kernel/core_pattern"));
                case "file" -> Files.writeString(n, "not the null device\n");
                case "zero-device" -> Syscalls.mknod(n.toString(), Syscalls.S_IFCHR | 0666, Syscalls.makedev(1, 5));
                case "fifo" -> Syscalls.mkfifo(n.toString(), 0666);
                default -> Files.createDirectory(n);
            }
            Object r = rbox.run(b);
            if (r instanceof RuntimeError e) {
                assertThat(e.getMessage()).as(kind).contains("not the null device");
                outcomes.add(kind + ": refused");
            } else {
                assertThat(b.stdout()).as("%s: %s", kind, b.describe()).isEqualTo("1:3\n0\n");
                outcomes.add(kind + ": ran, masked");
            }
        }
        System.out.println("/dev/null replaced in the image: " + outcomes);
        assertThat(corePattern()).isEqualTo(core);
    }

    @Test
    void aDevNullSwappedByAnotherContainerDuringCreationIsNeverBound() throws Exception {
        // the racing form of CVE-2025-31133: B's /dev is a directory shared with A, which keeps renaming
        // a real null device and a symlink to core_pattern over "null" while B is created again and again
        String file = maskedFile();
        String core = corePattern();
        Path shared = Files.createDirectories(rbox.dir.resolve("shared-dev"));
        Syscalls.mknod(shared.resolve("realnull").toString(), Syscalls.S_IFCHR | 0666, Syscalls.makedev(1, 3));
        Syscalls.mknod(shared.resolve("null").toString(), Syscalls.S_IFCHR | 0666, Syscalls.makedev(1, 3));
        RuntimeBox.Bundle a = rbox.bundle("swapper").mount("/mnt/a", "bind", shared.toString(), "rbind", "rw")
                .script("cd /mnt/a; touch /out/ready; while :; do ln -f realnull n.tmp; mv -f n.tmp null;"
                        + " ln -sfn /proc/sys/kernel/core_pattern l.tmp; mv -f l.tmp null; done");
        String swapper = rbox.detached(a);
        try {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!Files.exists(a.out.resolve("ready"))) {
                assertThat(System.nanoTime()).as("the swapper started within 10 s").isLessThan(deadline);
                Thread.sleep(10);
            }
            int refused = 0;
            int ran = 0;
            for (int i = 0; i < 20; i++) {
                RuntimeBox.Bundle b = rbox.bundle("victim").withoutMount("/dev").withoutMount("/dev/pts")
                        .withoutMount("/dev/shm").withoutMount("/dev/mqueue")
                        .mount("/dev", "bind", shared.toString(), "rbind", "rw")
                        .script("stat -c %t:%T " + file + "; wc -c < " + file);
                Object r = rbox.run(b);
                if (r instanceof RuntimeError e) {
                    // checked and not 1:3; or 1:3 when checked, then renamed away before the bind (a
                    // bind of an unlinked name fails): a refusal either way
                    assertThat(e.getMessage()).as("attempt %d", i).containsAnyOf("not the null device",
                            "mask-path: bind /dev/null over");
                    refused++;
                } else {
                    assertThat(b.stdout()).as("attempt %d: %s", i, b.describe()).isEqualTo("1:3\n0\n");
                    ran++;
                }
            }
            System.out.println("/dev/null swapped during creation: " + ran + " ran (masked by the null device), "
                    + refused + " refused");
            assertThat(corePattern()).isEqualTo(core);
        } finally {
            rbox.rt.delete(swapper, true);
        }
    }
}
