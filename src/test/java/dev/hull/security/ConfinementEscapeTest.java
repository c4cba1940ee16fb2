package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Capabilities, seccomp, devices and namespaces, attacked from inside a default {@code hull run}
 * container (root in it, docker's default capabilities, Hull's default seccomp profile, docker's
 * device rules): each of the classic container breakouts must fail, and fail the way the defense
 * says (EPERM from a missing capability or the seccomp filter, ESRCH from the pid namespace, EROFS
 * from a read-only mount). Where the attack is harmless to try, a {@code --privileged} control run
 * shows it really works without the defense — so the test could fail.
 */
class ConfinementEscapeTest {
    static HullBox box;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("confine");
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    /** Runs the helper with args in a container with the given flags; its NAME=RESULT lines. */
    static Map<String, String> helper(List<String> flags, String... args) throws Exception {
        List<String> a = new java.util.ArrayList<>(List.of("--rm", "-v", box.helperVolume()));
        a.addAll(flags);
        a.add("busybox");
        a.add("/helper/escape-helper");
        a.addAll(List.of(args));
        String out = box.output(a.toArray(String[]::new));
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.split("=", 2);
            assertThat(kv).as("helper output line %s", line).hasSize(2);
            m.put(kv[0], kv[1]);
        }
        return m;
    }

    @Test
    void mountAndUnmountFail() throws Exception {
        // no CAP_SYS_ADMIN: no new mount, no bind of the root, no remount of /sys read-write, no unmasking
        assertThat(helper(List.of(), "mount")).containsExactly(Map.entry("mount_tmpfs", "EPERM"),
                Map.entry("mount_bind", "EPERM"), Map.entry("mount_proc", "EPERM"), Map.entry("remount_sys_rw", "EPERM"),
                Map.entry("umount_proc_sys", "EPERM"));
        HullBox.Result r = box.run("--rm", "busybox", "sh", "-c", "mount -t tmpfs x /mnt && echo MOUNTED;"
                + " mount -o remount,rw /sys && echo REMOUNTED");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.out()).isEmpty();
        box.canary.assertUntouched();
    }

    @Test
    void aNewUserNamespaceCannotBeMadeToMountIn() throws Exception {
        // unshare(CLONE_NEWUSER) would give every capability inside a new user namespace (and a mount
        // of cgroup v1 there: CVE-2022-0492's release_agent); the seccomp profile refuses it
        Map<String, String> m = helper(List.of(), "unshare-mount");
        assertThat(m).containsEntry("unshare_user", "EPERM").doesNotContainKey("mount_in_userns")
                .containsEntry("unshare_mnt", "EPERM").containsEntry("unshare_cgroup", "EPERM");
        HullBox.Result r = box.run("--rm", "busybox", "unshare", "-Urm", "sh", "-c", "mount -t tmpfs x /mnt && echo MOUNTED");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.out()).doesNotContain("MOUNTED");
        // the control: without the confinement the same program gets there
        assertThat(helper(List.of("--privileged"), "unshare-mount")).containsEntry("unshare_user", "OK")
                .containsEntry("mount_in_userns", "OK");
    }

    @Test
    void aBlockDeviceOfTheHostsDiskCannotBeMadeAndRead() throws Exception {
        // CAP_MKNOD is a default capability (as in docker): the nodes can be made; the device cgroup
        // must refuse to open them — the host's disk, kernel memory, the kernel log
        String[] disk = hostBlockDevice();
        String script = "mknod /tmp/disk b " + disk[0] + " " + disk[1] + " && echo MADE;"
                + " head -c 512 /tmp/disk > /dev/null && echo OPENED-DISK;"
                + " mknod /tmp/mem c 1 1 && head -c 16 /tmp/mem > /dev/null && echo OPENED-MEM;"
                + " mknod /tmp/kmsg c 1 11 && head -c 4096 /tmp/kmsg > /dev/null && echo OPENED-KMSG; true";
        HullBox.Result r = box.run("--rm", "busybox", "sh", "-c", script);
        assertThat(r.out()).as("%s (block device %s, %s:%s)", r, disk[2], disk[0], disk[1]).isEqualTo("MADE\n");
        assertThat(r.err()).contains("/tmp/disk: Operation not permitted").contains("/tmp/mem: Operation not permitted")
                .contains("/tmp/kmsg: Operation not permitted");
        // without CAP_MKNOD it cannot even be made
        HullBox.Result noMknod = box.run("--rm", "--cap-drop", "MKNOD", "busybox", "mknod", "/tmp/disk", "b", disk[0],
                disk[1]);
        assertThat(noMknod.exit()).as(noMknod.toString()).isNotZero();
        // the control: --privileged allows every device, and the same node opens
        assertThat(box.output("--rm", "--privileged", "busybox", "sh", "-c", "mknod /tmp/disk b " + disk[0] + " "
                + disk[1] + " && head -c 512 /tmp/disk > /dev/null && echo OPENED-DISK")).isEqualTo("OPENED-DISK\n");
    }

    /**
     * A block device this host can open (major, minor, name): its first disk in /proc/partitions, or
     * where even the host may not open that (a sandboxed VM), a loop device; skips if none opens.
     */
    static String[] hostBlockDevice() throws Exception {
        List<String[]> candidates = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/partitions"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 4 && f[0].matches("\\d+") && Long.parseLong(f[2]) > 0 && !f[3].startsWith("loop")) {
                candidates.add(new String[] {f[0], f[1], f[3]});
            }
        }
        for (int i = 0; i < 8; i++) {
            candidates.add(new String[] {"7", Integer.toString(i), "loop" + i});
        }
        for (String[] c : candidates) {
            Path node = Path.of("/dev", c[2]);
            if (!Files.exists(node)) {
                continue;
            }
            try {
                dev.hull.linux.Syscalls.close(dev.hull.linux.Syscalls.open(node.toString(),
                        dev.hull.linux.Syscalls.O_RDONLY | dev.hull.linux.Syscalls.O_CLOEXEC, 0));
                return c;
            } catch (dev.hull.linux.LinuxException e) {
                // not even the host may open it: no use as a target
            }
        }
        Assumptions.abort("no block device this host can open (disks in /proc/partitions, /dev/loop0-7)");
        return null;
    }

    @Test
    void openByHandleAtCannotReachTheHostsRoot() throws Exception {
        // "shocker": /etc/hosts is a bind of a file on the host's filesystem; with CAP_DAC_READ_SEARCH,
        // open_by_handle_at(its fd, {inode 2}) opens that filesystem's root directory
        assertThat(helper(List.of(), "open-by-handle", "/etc/hosts")).containsExactly(Map.entry("open_by_handle_at",
                "EPERM"));
        assertThat(helper(List.of("--cap-add", "DAC_READ_SEARCH"), "open-by-handle", "/etc/hosts"))
                .as("with the capability asked for: the attack works (what --cap-add DAC_READ_SEARCH means)")
                .containsEntry("open_by_handle_at", "OK");
    }

    @Test
    void theKernelKeyringIsOutOfReach() throws Exception {
        // keys are not namespaced: a container could read or fill another's (or the host's) keyrings
        assertThat(helper(List.of(), "keyctl")).containsExactly(Map.entry("add_key", "EPERM"),
                Map.entry("keyctl", "EPERM"), Map.entry("request_key", "EPERM"));
    }

    @Test
    void kernelModulesCannotBeLoadedOrRemoved() throws Exception {
        // a garbage module: the kernel would refuse to load it even if the call were allowed (ENOEXEC);
        // EPERM means the call itself was refused
        assertThat(helper(List.of(), "module")).containsExactly(Map.entry("init_module", "EPERM"),
                Map.entry("finit_module", "EPERM"), Map.entry("delete_module", "EPERM"));
    }

    @Test
    void bpfIsRefused() throws Exception {
        assertThat(helper(List.of(), "bpf")).containsExactly(Map.entry("bpf_map_create", "EPERM"));
    }

    @Test
    void anotherContainersProcessCannotBeTracedOrSignalled() throws Exception {
        String victim = box.detached("busybox", "sleep", "100000");
        int pid = box.pid(victim);
        // its host pid means nothing in another pid namespace — not even with CAP_SYS_PTRACE
        for (List<String> flags : List.of(List.<String>of(), List.of("--cap-add", "SYS_PTRACE"))) {
            assertThat(helper(flags, "ptrace", Integer.toString(pid))).as("flags %s", flags)
                    .containsExactly(Map.entry("kill0", "ESRCH"), Map.entry("ptrace_seize", "ESRCH"),
                            Map.entry("ptrace_attach", "ESRCH"));
        }
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        assertThat(status).contains("TracerPid:\t0\n").contains("State:\tS");
        assertThat(box.engine.state(box.info(victim)).status()).isEqualTo("running");
        box.remove(victim);
    }

    @Test
    void sysAndProcSysAreReadOnly() throws Exception {
        // "(true >> FILE)" opens for writing without writing a byte: harmless whatever the outcome
        String script = "for f in /sys/kernel/uevent_helper /sys/kernel/mm/transparent_hugepage/enabled"
                + " /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /proc/sys/vm/panic_on_oom; do"
                + " [ -e $f ] || continue; if (true >> $f); then echo OPENED $f; fi; done;"
                + " mkdir /sys/fs/cgroup/pids/hull-escape && echo MKDIR-CGROUP; mkdir /sys/hull-escape && echo MKDIR-SYS; true";
        HullBox.Result r = box.run("--rm", "busybox", "sh", "-c", script);
        assertThat(r.out()).as(r.toString()).isEmpty();
        assertThat(r.err()).contains("/proc/sys/kernel/core_pattern: Read-only file system")
                .contains("/sys/fs/cgroup/pids/hull-escape").doesNotContain("Permission denied");
        // the host's own files, for the record: untouched (read only)
        assertThat(Path.of("/sys/fs/cgroup/pids/hull-escape")).doesNotExist();
        // the control: --privileged has them writable (opens, still writes nothing)
        assertThat(box.output("--rm", "--privileged", "busybox", "sh", "-c",
                "(true >> /proc/sys/kernel/core_pattern) && echo OPENED")).isEqualTo("OPENED\n");
    }

    @Test
    void chrootTricksFindNoHostAboveTheRoot() throws Exception {
        // pivot_root and a detached old root: climbing out of a chroot lands at the container's root
        Map<String, String> m = helper(List.of(), "chroot-escape", box.canary.dir.toString());
        assertThat(m).containsEntry("chroot_jail", "OK").containsEntry("chroot_up", "OK")
                .containsEntry("host_path_visible", "no");
        box.canary.assertUntouched();
    }
}
