package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The privilege part of the confinement, checked from inside real containers: capability sets,
 * no_new_privs, rlimits, oom_score_adj, scheduler, I/O priority, personality, sysctls, masked and
 * read-only paths; and the configs this host cannot honour, rejected naming the field.
 */
class PrivilegeTest {
    static final long CHOWN = 1L << 0, KILL = 1L << 5, SETGID = 1L << 6, SETUID = 1L << 7,
            NET_BIND_SERVICE = 1L << 10, SYS_ADMIN = 1L << 21, SYS_RESOURCE = 1L << 24, AUDIT_WRITE = 1L << 29;
    static Path base;
    static Path root;
    static ContainerRuntime rt;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("privilege");
        root = ContainerTests.root(base);
        rt = new ContainerRuntime(root);
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    Bundles.Bundle bundle() {
        return Bundles.create(base, "b");
    }

    static void caps(Bundles.Bundle b, String set, String... caps) {
        ArrayNode a = ((ObjectNode) b.process().get("capabilities")).putArray(set);
        for (String c : caps) {
            a.add(c);
        }
    }

    /** The Cap* and NoNewPrivs lines of the container's /proc/self/status. */
    static Map<String, String> status(Bundles.Bundle b) throws Exception {
        String out = ContainerTests.output(rt, b, "grep -E '^(Cap|NoNewPrivs)' /proc/self/status");
        Map<String, String> m = new HashMap<>();
        for (String line : out.strip().split("\n")) {
            String[] kv = line.split(":\\s*", 2);
            m.put(kv[0], kv[1].strip());
        }
        return m;
    }

    static long hex(Map<String, String> status, String key) {
        return Long.parseUnsignedLong(status.get(key), 16);
    }

    /** create fails with a message containing every expected part, and leaves nothing behind. */
    static RuntimeError createFails(Bundles.Bundle b, String... expected) throws Exception {
        b.args("true").write();
        String id = Bundles.id("bad");
        Set<String> mounts = Host.mountPoints();
        RuntimeError e = catchThrowableOfType(RuntimeError.class, () -> rt.create(id, b.dir, null));
        assertThat(e).as("create must fail").isNotNull();
        assertThat(e.getMessage()).contains(expected);
        Host.assertNoTraces(root, id, mounts);
        return e;
    }

    // ---- capabilities ----

    @Test
    void defaultCapabilitiesOfRoot() throws Exception {
        Map<String, String> s = status(bundle());
        long want = AUDIT_WRITE | KILL | NET_BIND_SERVICE;
        assertThat(hex(s, "CapBnd")).as("CapBnd").isEqualTo(want);
        // root's exec: permitted = (inheritable | bounding) ∩ old permitted (no_new_privs), effective = permitted
        assertThat(hex(s, "CapPrm")).as("CapPrm").isEqualTo(want);
        assertThat(hex(s, "CapEff")).as("CapEff").isEqualTo(want);
        assertThat(hex(s, "CapInh")).as("CapInh").isZero();
        assertThat(hex(s, "CapAmb")).as("CapAmb").isZero();
        assertThat(s.get("NoNewPrivs")).isEqualTo("1");
    }

    @Test
    void rootWithInheritableCapabilities() throws Exception {
        Bundles.Bundle b = bundle();
        for (String set : new String[] {"bounding", "permitted", "effective"}) {
            caps(b, set, "CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN");
        }
        caps(b, "inheritable", "CAP_CHOWN", "CAP_SYS_ADMIN");
        Map<String, String> s = status(b);
        assertThat(hex(s, "CapBnd")).isEqualTo(CHOWN | KILL | SYS_ADMIN);
        assertThat(hex(s, "CapPrm")).isEqualTo(CHOWN | KILL | SYS_ADMIN);
        assertThat(hex(s, "CapEff")).isEqualTo(CHOWN | KILL | SYS_ADMIN);
        assertThat(hex(s, "CapInh")).isEqualTo(CHOWN | SYS_ADMIN);
        assertThat(hex(s, "CapAmb")).isZero();
    }

    @Test
    void nonRootUserKeepsAmbientCapabilities() throws Exception {
        Bundles.Bundle b = bundle();
        ObjectNode user = (ObjectNode) b.process().get("user");
        user.put("uid", 1000);
        user.put("gid", 1000);
        caps(b, "bounding", "CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN");
        caps(b, "permitted", "CAP_NET_BIND_SERVICE", "CAP_KILL");
        caps(b, "effective", "CAP_NET_BIND_SERVICE");
        caps(b, "inheritable", "CAP_NET_BIND_SERVICE");
        caps(b, "ambient", "CAP_NET_BIND_SERVICE");
        String out = ContainerTests.output(rt, b, "id -u; grep -E '^Cap' /proc/self/status");
        assertThat(out).startsWith("1000\n");
        Map<String, String> s = new HashMap<>();
        for (String line : out.strip().split("\n")) {
            if (line.startsWith("Cap")) {
                String[] kv = line.split(":\\s*", 2);
                s.put(kv[0], kv[1].strip());
            }
        }
        assertThat(hex(s, "CapBnd")).isEqualTo(NET_BIND_SERVICE | KILL | CHOWN);
        assertThat(hex(s, "CapInh")).isEqualTo(NET_BIND_SERVICE);
        // A non-root exec keeps exactly the ambient set as permitted and effective.
        assertThat(hex(s, "CapAmb")).isEqualTo(NET_BIND_SERVICE);
        assertThat(hex(s, "CapPrm")).isEqualTo(NET_BIND_SERVICE);
        assertThat(hex(s, "CapEff")).isEqualTo(NET_BIND_SERVICE);
    }

    @Test
    void nonRootUserWithoutAmbientHasNoCapabilities() throws Exception {
        Bundles.Bundle b = bundle();
        ObjectNode user = (ObjectNode) b.process().get("user");
        user.put("uid", 1000);
        user.put("gid", 1000);
        Map<String, String> s = status(b);
        assertThat(hex(s, "CapPrm")).isZero();
        assertThat(hex(s, "CapEff")).isZero();
        assertThat(hex(s, "CapBnd")).isEqualTo(AUDIT_WRITE | KILL | NET_BIND_SERVICE);
    }

    @Test
    void aDroppedCapabilityReallyDenies() throws Exception {
        // Default set: no CAP_CHOWN, no CAP_SYS_ADMIN.
        Bundles.Bundle b = bundle();
        b.script("touch /out/f; chown 1 /out/f; echo chown=$?; mount -t tmpfs none /mnt/a; echo mount=$?");
        assertThat(ContainerTests.run(rt, b, "deny")).isZero();
        assertThat(b.stdout()).contains("chown=1").contains("mount=1");
        assertThat(b.stderr()).contains("Operation not permitted");
        assertThat(Files.getAttribute(b.out.resolve("f"), "unix:uid")).isEqualTo(0);

        // The same with the capabilities added works: the denial was the capability's.
        Bundles.Bundle ok = bundle().addCaps("CAP_CHOWN", "CAP_SYS_ADMIN");
        String out = ContainerTests.output(rt, ok,
                "touch /out/f; chown 1 /out/f; echo chown=$?; mount -t tmpfs none /mnt/a; echo mount=$?");
        assertThat(out).contains("chown=0").contains("mount=0");
        assertThat(Files.getAttribute(ok.out.resolve("f"), "unix:uid")).isEqualTo(1);
    }

    @Test
    void aCapabilityTheHostLacksIsLeftOut() throws Exception {
        long hostBnd = HostPrivileges.current().bounding();
        assumeThat(hostBnd & SYS_RESOURCE).as("this host's bounding set lacks CAP_SYS_RESOURCE (CapBnd %s)",
                Long.toHexString(hostBnd)).isZero();
        Bundles.Bundle b = bundle().addCaps("CAP_SYS_RESOURCE");
        Map<String, String> s = status(b);
        assertThat(hex(s, "CapBnd")).isEqualTo(AUDIT_WRITE | KILL | NET_BIND_SERVICE);
        assertThat(hex(s, "CapEff")).isEqualTo(AUDIT_WRITE | KILL | NET_BIND_SERVICE);
    }

    @Test
    void capabilitiesInAUserNamespace() throws Exception {
        Bundles.Bundle b = bundle();
        b.namespace("user", null);
        for (String f : new String[] {"uidMappings", "gidMappings"}) {
            var m = b.linux().putArray(f).addObject();
            m.put("containerID", 0);
            m.put("hostID", 100000);
            m.put("size", 65536);
        }
        b.withoutMount("/sys/fs/cgroup");
        b.addCaps("CAP_SYS_ADMIN", "CAP_SYS_RESOURCE"); // the namespace's own: available even on this host
        Map<String, String> s = status(b);
        assertThat(hex(s, "CapBnd")).isEqualTo(AUDIT_WRITE | KILL | NET_BIND_SERVICE | SYS_ADMIN | SYS_RESOURCE);
        assertThat(hex(s, "CapEff")).isEqualTo(AUDIT_WRITE | KILL | NET_BIND_SERVICE | SYS_ADMIN | SYS_RESOURCE);
    }

    @Test
    void anUnknownCapabilityIsRejectedNamingTheField() throws Exception {
        Bundles.Bundle b = bundle();
        caps(b, "bounding", "CAP_KILL", "CAP_CHOWN", "CAP_FLY");
        createFails(b, "config.json: process.capabilities.bounding[2]", "CAP_FLY");
    }

    @Test
    void ambientOutsideInheritableIsLeftOutWithAWarningAsRuncDoes() throws Exception {
        // `runc spec` writes ambient capabilities that are not inheritable; runc warns and runs it
        Bundles.Bundle b = bundle();
        caps(b, "ambient", "CAP_KILL");
        b.script("grep -E '^CapAmb' /proc/self/status").write();
        Host.Result r = Host.cli(root, "run", "--bundle", b.dir.toString(), Bundles.id("amb"));
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.err()).contains("warning").contains("ambient").contains("CAP_KILL");
        assertThat(b.stdout()).contains("0000000000000000");
    }

    @Test
    void aCapabilityTheHostCannotGiveIsAWarning() throws Exception {
        long hostBounding = Long.parseUnsignedLong(java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))
                .stream().filter(l -> l.startsWith("CapBnd:")).findFirst().orElseThrow().substring(7).trim(), 16);
        org.junit.jupiter.api.Assumptions.assumeTrue((hostBounding & SYS_RESOURCE) == 0,
                "this host's root has CAP_SYS_RESOURCE: no capability to be missing");
        Bundles.Bundle b = bundle();
        caps(b, "bounding", "CAP_KILL", "CAP_SYS_RESOURCE");
        b.script("true").write();
        Host.Result r = Host.cli(root, "run", "--bundle", b.dir.toString(), Bundles.id("miss"));
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.err()).contains("warning").contains("CAP_SYS_RESOURCE");
    }

    // ---- no_new_privs ----

    @Test
    void noNewPrivilegesOff() throws Exception {
        Bundles.Bundle b = bundle();
        b.process().put("noNewPrivileges", false);
        assertThat(status(b).get("NoNewPrivs")).isEqualTo("0");
    }

    // ---- rlimits ----

    @Test
    void rlimitsAreVisibleInProcLimits() throws Exception {
        Bundles.Bundle b = bundle();
        ArrayNode rl = b.process().putArray("rlimits");
        rl.addObject().put("type", "RLIMIT_NOFILE").put("soft", 512).put("hard", 1000);
        rl.addObject().put("type", "RLIMIT_CORE").put("soft", 0).put("hard", 4096);
        String out = ContainerTests.output(rt, b, "grep -E '^Max (open files|core file size)' /proc/self/limits");
        assertThat(out).containsPattern("Max open files\\s+512\\s+1000\\s+files")
                .containsPattern("Max core file size\\s+0\\s+4096\\s+bytes");
    }

    @Test
    void theDefaultRlimitApplies() throws Exception {
        String out = ContainerTests.output(rt, bundle(), "grep '^Max open files' /proc/self/limits");
        assertThat(out).containsPattern("Max open files\\s+1024\\s+1024\\s+files");
    }

    @Test
    void anRlimitAboveTheHostsCeilingIsRejected() throws Exception {
        HostPrivileges host = HostPrivileges.current();
        assumeThat(host.hasCapSysResource()).as("Hull runs without CAP_SYS_RESOURCE here").isFalse();
        long ceiling = host.ceiling(7);
        assumeThat(ceiling).as("a finite RLIMIT_NOFILE hard limit").isNotEqualTo(-1L);
        Bundles.Bundle b = bundle();
        b.process().putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE").put("soft", 1024)
                .put("hard", ceiling + 1);
        createFails(b, "config.json: process.rlimits[0]: RLIMIT_NOFILE hard limit " + (ceiling + 1)
                + " exceeds this host's ceiling " + ceiling + " (no CAP_SYS_RESOURCE)");
    }

    @Test
    void anUnknownRlimitIsRejected() throws Exception {
        Bundles.Bundle b = bundle();
        b.process().putArray("rlimits").addObject().put("type", "RLIMIT_BOGUS").put("soft", 1).put("hard", 1);
        createFails(b, "config.json: process.rlimits[0].type", "RLIMIT_BOGUS");
    }

    // ---- oom_score_adj, scheduler, ioprio, personality ----

    @Test
    void oomScoreAdj() throws Exception {
        Bundles.Bundle b = bundle();
        b.process().put("oomScoreAdj", 456);
        assertThat(ContainerTests.output(rt, b, "cat /proc/self/oom_score_adj").strip()).isEqualTo("456");
    }

    @Test
    void schedulerPolicyAndNice() throws Exception {
        Bundles.Bundle b = bundle();
        b.process().putObject("scheduler").put("policy", "SCHED_BATCH").put("nice", 7);
        String stat = ContainerTests.output(rt, b, "cat /proc/self/stat");
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        assertThat(f[19 - 3]).as("nice (field 19)").isEqualTo("7");
        assertThat(f[41 - 3]).as("policy (field 41): SCHED_BATCH").isEqualTo("3");
    }

    @Test
    void aBadSchedulerIsRejected() throws Exception {
        Bundles.Bundle b = bundle();
        b.process().putObject("scheduler").put("policy", "SCHED_FIFO").put("priority", 0);
        createFails(b, "config.json: process.scheduler.priority", "1..99");
    }

    @Test
    void ioPriority() throws Exception {
        Bundles.Bundle b = bundle();
        b.process().putObject("ioPriority").put("class", "IOPRIO_CLASS_BE").put("priority", 6);
        assertThat(ContainerTests.output(rt, b, "ionice -p $$").strip()).isEqualTo("best-effort: prio 6");
    }

    @Test
    void personalityLinux32() throws Exception {
        assumeThat(System.getProperty("os.arch")).as("an x86-64 host").isIn("amd64", "x86_64");
        Bundles.Bundle b = bundle();
        b.linux().putObject("personality").put("domain", "LINUX32");
        assertThat(ContainerTests.output(rt, b, "uname -m").strip()).isEqualTo("i686");
        assertThat(ContainerTests.output(rt, bundle(), "uname -m").strip()).isEqualTo("x86_64");
    }

    // ---- sysctls ----

    @Test
    void namespacedSysctlsAreApplied() throws Exception {
        String hostShmmax = HostPrivileges.read("/proc/sys/kernel/shmmax");
        String hostForward = HostPrivileges.read("/proc/sys/net/ipv4/ip_forward");
        Bundles.Bundle b = bundle();
        ObjectNode s = b.linux().putObject("sysctl");
        s.put("kernel.shmmax", "123456789");
        s.put("net.ipv4.ip_forward", hostForward.equals("1") ? "0" : "1");
        s.put("kernel/msgmax", "4321");
        String out = ContainerTests.output(rt, b,
                "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax");
        assertThat(out.split("\n")).containsExactly("123456789", hostForward.equals("1") ? "0" : "1", "4321");
        assertThat(HostPrivileges.read("/proc/sys/kernel/shmmax")).isEqualTo(hostShmmax);
        assertThat(HostPrivileges.read("/proc/sys/net/ipv4/ip_forward")).isEqualTo(hostForward);
    }

    @Test
    void aHostWideSysctlIsRejected() throws Exception {
        for (String key : List.of("vm.swappiness", "kernel.panic")) {
            Bundles.Bundle b = bundle();
            b.linux().putObject("sysctl").put(key, "10");
            createFails(b, "config.json: linux.sysctl: \"" + key + "\"", "not namespaced");
        }
    }

    @Test
    void aNetSysctlNeedsANetworkNamespace() throws Exception {
        Bundles.Bundle b = bundle();
        ArrayNode ns = b.namespaces();
        for (int i = ns.size() - 1; i >= 0; i--) {
            if (ns.get(i).path("type").asText().equals("network")) {
                ns.remove(i);
            }
        }
        b.linux().putObject("sysctl").put("net.ipv4.ip_forward", "1");
        createFails(b, "config.json: linux.sysctl: \"net.ipv4.ip_forward\"", "network namespace");
    }

    // ---- masked and read-only paths ----

    @Test
    void maskedPaths() throws Exception {
        assumeThat(Path.of("/proc/keys")).as("the host has /proc/keys").exists();
        assumeThat(Path.of("/sys/firmware")).as("the host has /sys/firmware").isDirectory();
        // Default maskedPaths include /proc/keys (a file), /sys/firmware (a directory) and /proc/kcore,
        // which this host may lack (a missing path is skipped).
        String out = ContainerTests.output(rt, bundle(),
                "wc -c </proc/keys; ls -A /sys/firmware | wc -l; grep -E ' /(sys/firmware|proc/keys) ' /proc/self/mountinfo;"
                        + " touch /sys/firmware/x 2>&1; echo touch=$?");
        String[] lines = out.split("\n");
        assertThat(lines[0].strip()).as("/proc/keys reads empty").isEqualTo("0");
        assertThat(lines[1].strip()).as("/sys/firmware is empty").isEqualTo("0");
        assertThat(out).containsPattern(" /sys/firmware ro[, ].* - tmpfs ");
        assertThat(out).contains(" /proc/keys ");
        assertThat(out).contains("touch=1");
    }

    @Test
    void kcoreIsMaskedWhereItExists() throws Exception {
        Bundles.Bundle b = bundle();
        b.linux().putArray("maskedPaths").add("/proc/kcore").add("/proc/timer_list").add("/proc/no-such-file");
        String out = ContainerTests.output(rt, b,
                "for f in /proc/kcore /proc/timer_list; do [ -e $f ] && echo $f=$(wc -c <$f); done; echo end");
        assertThat(out).doesNotContainPattern("=[1-9]").contains("end");
        assertThat(out).contains("/proc/timer_list=0");
    }

    @Test
    void readonlyPaths() throws Exception {
        // /proc/sys is read-only by default: even a sysctl of the container's own ipc namespace cannot be written.
        Bundles.Bundle b = bundle();
        b.script("echo 4321 > /proc/sys/kernel/msgmax; echo write=$?; grep ' /proc/sys ' /proc/self/mountinfo");
        assertThat(ContainerTests.run(rt, b, "ro")).isZero();
        assertThat(b.stdout()).contains("write=1").containsPattern(" /proc/sys ro[, ]");
        assertThat(b.stderr()).contains("Read-only file system");

        // Without readonlyPaths the same write works: the denial was the read-only bind.
        Bundles.Bundle rw = bundle();
        rw.linux().remove("readonlyPaths");
        assertThat(ContainerTests.output(rt, rw, "echo 4321 > /proc/sys/kernel/msgmax; cat /proc/sys/kernel/msgmax"))
                .isEqualTo("4321\n");
    }

    // ---- LSMs ----

    @Test
    void anLsmTheHostLacksIsRejectedNamingTheField() throws Exception {
        Set<String> lsms = HostPrivileges.current().lsms();
        assumeThat(lsms).as("this host has no AppArmor").doesNotContain("apparmor");
        Bundles.Bundle b = bundle();
        b.process().put("apparmorProfile", "hull-default");
        createFails(b, "config.json: process.apparmorProfile", "no AppArmor");
        assumeThat(lsms).as("this host has no SELinux").doesNotContain("selinux");
        Bundles.Bundle c = bundle();
        c.process().put("selinuxLabel", "system_u:system_r:container_t:s0");
        createFails(c, "config.json: process.selinuxLabel", "no SELinux");
        Bundles.Bundle d = bundle();
        d.linux().put("mountLabel", "system_u:object_r:container_file_t:s0");
        createFails(d, "config.json: linux.mountLabel", "no SELinux");
    }
}
