package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.runtime.spec.CapabilityNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull run's privilege flags, end to end: the capabilities, no_new_privs and seccomp mode the
 * container's process has (read from its /proc/self/status), and what they let it do.
 */
class RunSecurityTest {
    static Flags f;

    /** docker's default capabilities, by bit. */
    static final Set<String> DOCKER_DEFAULT = Set.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("run-security");
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    /** The field's value in a /proc/PID/status text. */
    static String field(String status, String name) {
        return status.lines().filter(l -> l.startsWith(name + ":")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in\n" + status))
                .substring(name.length() + 1).trim();
    }

    /** A capability mask (hex, as in CapEff) as names; unknown bits as CAP_<bit>. */
    static Set<String> decode(String hex) {
        long mask = Long.parseUnsignedLong(hex, 16);
        Set<String> out = new TreeSet<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((mask & (1L << bit)) != 0) {
                out.add(bit < CapabilityNames.NAMES.size() ? CapabilityNames.NAMES.get(bit) : "CAP_" + bit);
            }
        }
        return out;
    }

    String status(String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("--rm"));
        args.addAll(List.of(flags));
        args.addAll(List.of("busybox", "cat", "/proc/self/status"));
        return f.output(args.toArray(String[]::new));
    }

    static Set<String> hostBounding() throws Exception {
        return decode(field(Files.readString(Path.of("/proc/self/status")), "CapBnd"));
    }

    @Test
    void capabilityNamesMatchTheKernelsBits() {
        // the decoding below relies on NAMES being in bit order
        assertThat(CapabilityNames.NAMES.get(13)).isEqualTo("CAP_NET_RAW");
        assertThat(CapabilityNames.NAMES.get(21)).isEqualTo("CAP_SYS_ADMIN");
    }

    @Test
    void defaultsAreDockersCapabilitiesSeccompFilterAndNoNoNewPrivs() throws Exception {
        String s = status();
        assertThat(decode(field(s, "CapEff"))).isEqualTo(DOCKER_DEFAULT);
        assertThat(field(s, "CapBnd")).isEqualTo(field(s, "CapEff"));
        assertThat(field(s, "Seccomp")).isEqualTo("2");
        assertThat(field(s, "NoNewPrivs")).isEqualTo("0"); // docker sets it only when asked
    }

    @Test
    void capDropAndCapAdd() throws Exception {
        String s = status("--cap-drop", "NET_RAW", "--cap-add", "SYS_ADMIN");
        long eff = Long.parseUnsignedLong(field(s, "CapEff"), 16);
        assertThat(eff & (1L << 13)).as("CAP_NET_RAW, bit 13").isZero();
        assertThat(eff & (1L << 21)).as("CAP_SYS_ADMIN, bit 21").isNotZero();
        Set<String> want = new TreeSet<>(DOCKER_DEFAULT);
        want.remove("CAP_NET_RAW");
        want.add("CAP_SYS_ADMIN");
        assertThat(decode(field(s, "CapEff"))).isEqualTo(want);
        // names as docker takes them: any case, with or without CAP_
        assertThat(decode(field(status("--cap-drop", "cap_chown", "--cap-add", "sys_ptrace"), "CapEff")))
                .doesNotContain("CAP_CHOWN").contains("CAP_SYS_PTRACE");
        // and they act: without CAP_CHOWN root cannot give a file away; with CAP_SYS_ADMIN it may mount
        Flags.Result r = f.run("--rm", "--cap-drop", "CHOWN", "busybox", "chown", "nobody", "/tmp");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
        assertThat(f.output("--rm", "--cap-add", "SYS_ADMIN", "busybox", "sh", "-c",
                "mount -t tmpfs t /mnt && grep -c ' /mnt tmpfs' /proc/mounts")).isEqualTo("1\n");
        assertThat(f.run("--rm", "busybox", "mount", "-t", "tmpfs", "t", "/mnt").exit()).isNotZero();
    }

    @Test
    void capDropAllAndCapAddAll() throws Exception {
        assertThat(field(status("--cap-drop", "ALL"), "CapEff")).isEqualTo("0000000000000000");
        assertThat(decode(field(status("--cap-drop", "ALL", "--cap-add", "KILL"), "CapEff"))).containsExactly("CAP_KILL");
        // ALL: every capability this host can give (here CAP_SYS_RESOURCE may be missing)
        assertThat(decode(field(status("--cap-add", "ALL"), "CapEff"))).isEqualTo(hostBounding());
        Set<String> allButRaw = new TreeSet<>(hostBounding());
        allButRaw.remove("CAP_NET_RAW");
        assertThat(decode(field(status("--cap-add", "ALL", "--cap-drop", "NET_RAW"), "CapEff"))).isEqualTo(allButRaw);
        // --privileged: every capability, whatever --cap-drop says (as docker)
        assertThat(decode(field(status("--privileged", "--cap-drop", "ALL"), "CapEff"))).isEqualTo(hostBounding());
        assertThat(catchMessage("--cap-add", "NOPE", "busybox", "true")).contains("--cap-add NOPE");
        assertThat(catchMessage("--cap-drop", "NOPE", "busybox", "true")).contains("--cap-drop NOPE");
    }

    @Test
    void privilegedHasEveryCapabilityAndNoSeccomp() throws Exception {
        String s = status("--privileged");
        assertThat(decode(field(s, "CapEff"))).isEqualTo(hostBounding());
        assertThat(field(s, "Seccomp")).isEqualTo("0");
        assertThat(field(s, "NoNewPrivs")).isEqualTo("0");
        // no masked or read-only /proc paths (/proc/keys is /dev/null's bind otherwise), and mount works
        assertThat(f.output("--rm", "--privileged", "busybox", "sh", "-c", "grep -c -e ' /proc/keys ' -e ' /proc/sys '"
                + " /proc/mounts; mount -t tmpfs t /mnt && echo mounted")).isEqualTo("0\nmounted\n");
        assertThat(f.output("--rm", "busybox", "sh", "-c", "grep -c -e ' /proc/keys ' -e ' /proc/sys ' /proc/mounts"))
                .isEqualTo("2\n");
    }

    @Test
    void privilegedHasTheHostsDevicesAndWritableSysAndCgroups() throws Exception {
        List<String> hostDevices = new ArrayList<>();
        try (var entries = Files.list(Path.of("/dev"))) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                var a = Files.readAttributes(p, java.nio.file.attribute.PosixFileAttributes.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
                if (a.isOther() && !name.equals("console") && !name.equals("ptmx")) { // char and block devices
                    hostDevices.add(name);
                }
            }
        }
        String script = "ls /dev; grep -e ' /sys ' -e ' /sys/fs/cgroup/pids ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1";
        List<String> privileged = f.output("--rm", "--privileged", "busybox", "sh", "-c", script).lines().toList();
        assertThat(privileged).containsAll(hostDevices).endsWith("rw", "rw");
        // docker's default set only, and read-only /sys, without it
        List<String> plain = f.output("--rm", "busybox", "sh", "-c", script).lines().toList();
        assertThat(plain).endsWith("ro", "ro");
        List<String> extra = new ArrayList<>(hostDevices);
        extra.removeAll(List.of("null", "zero", "full", "random", "urandom", "tty"));
        assertThat(plain).doesNotContainAnyElementsOf(extra);
    }

    @Test
    void noNewPrivileges() throws Exception {
        assertThat(field(status("--security-opt", "no-new-privileges"), "NoNewPrivs")).isEqualTo("1");
        assertThat(field(status("--security-opt", "no-new-privileges=true"), "NoNewPrivs")).isEqualTo("1");
        assertThat(field(status("--security-opt", "no-new-privileges:false"), "NoNewPrivs")).isEqualTo("0");
        assertThat(catchMessage("--security-opt", "no-new-privileges=maybe", "busybox", "true"))
                .contains("--security-opt no-new-privileges=maybe");
    }

    @Test
    void seccompUnconfined() throws Exception {
        String s = status("--security-opt", "seccomp=unconfined");
        assertThat(field(s, "Seccomp")).isEqualTo("0");
        assertThat(decode(field(s, "CapEff"))).isEqualTo(DOCKER_DEFAULT); // only seccomp is off
        assertThat(catchMessage("--security-opt", "seccomp", "busybox", "true")).contains("--security-opt seccomp");
        assertThat(catchMessage("--security-opt", "bogus=1", "busybox", "true")).contains("--security-opt bogus=1");
    }

    @Test
    void seccompProfileInDockersFormat() throws Exception {
        Path p = f.dir.resolve("docker-profile.json");
        Files.writeString(p, """
                {"defaultAction": "SCMP_ACT_ALLOW",
                 "defaultErrnoRet": 1,
                 "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
                 "syscalls": [
                   {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [],
                    "comment": "no directories", "includes": {}, "excludes": {}}
                 ]}
                """);
        Flags.Result r = f.run("--rm", "--security-opt", "seccomp=" + p, "busybox", "sh", "-c",
                "grep Seccomp: /proc/self/status; touch /f && echo touched; mkdir /d");
        assertThat(r.out()).isEqualTo("Seccomp:\t2\ntouched\n");
        assertThat(r.err()).contains("Operation not permitted");
        assertThat(r.exit()).isNotZero();
    }

    @Test
    void seccompProfileInOciFormat() throws Exception {
        Path p = f.dir.resolve("oci-profile.json");
        Files.writeString(p, """
                {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
                """);
        Flags.Result r = f.run("--rm", "--security-opt", "seccomp=" + p, "busybox", "sh", "-c",
                "touch /f && echo touched; mkdir /d");
        assertThat(r.out()).isEqualTo("touched\n");
        assertThat(r.err()).contains("Operation not permitted");
        assertThat(r.exit()).isNotZero();
    }

    @Test
    void seccompProfileRulesThatDependOnCapabilities() throws Exception {
        // docker's profile format: a rule applies only if the container has every included
        // capability and none of the excluded ones (its default profile relies on that).
        Path p = f.dir.resolve("caps-profile.json");
        Files.writeString(p, """
                {"defaultAction": "SCMP_ACT_ALLOW",
                 "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
                 "syscalls": [
                   {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                   {"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                   {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["s390x"]}}
                 ]}
                """);
        String script = "mkdir /d && echo mkdir; ln -s x /l && echo symlink; rmdir /tmp && echo rmdir; true";
        assertThat(f.output("--rm", "--security-opt", "seccomp=" + p, "busybox", "sh", "-c", script))
                .isEqualTo("symlink\nrmdir\n");
        assertThat(f.output("--rm", "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=" + p, "busybox", "sh", "-c",
                script)).isEqualTo("mkdir\nrmdir\n");
    }

    @Test
    void badSeccompProfiles() throws Exception {
        assertThat(catchMessage("--security-opt", "seccomp=/missing.json", "busybox", "true"))
                .contains("--security-opt seccomp=/missing.json").contains("no such file");
        Path notJson = f.dir.resolve("not.json");
        Files.writeString(notJson, "{\"syscalls\": []}");
        assertThat(catchMessage("--security-opt", "seccomp=" + notJson, "busybox", "true"))
                .contains("seccomp=" + notJson).contains("defaultAction");
    }

    static String catchMessage(String... args) throws Exception {
        try {
            Flags.Result r = f.run(args);
            throw new AssertionError("hull run " + String.join(" ", args) + " did not fail: " + r);
        } catch (dev.hull.runtime.RuntimeError e) {
            return e.getMessage();
        }
    }
}
