package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.RuntimeError;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CVE-2025-52881 class (runc GHSA-cgrx-mc8f-2prm): a mount binds <em>another procfs file</em> over
 * the one the runtime writes — a sysctl under /proc/sys, the LSM label's /proc/self/attr/exec — so a
 * check that the opened file "is on procfs" passes and the write lands in the other file (with
 * /proc/sys/kernel/core_pattern or /proc/sysrq-trigger bound there, a host-wide setting). The
 * executor writes these through a procfs of its own, attached nowhere, resolved with no mount
 * crossing: the write lands in the file it names, or is refused; never in the bound one.
 *
 * <p>The redirect used here is harmless and observable: the config binds a procfs file of the uts
 * namespace, kernel/domainname, over the container's /proc/sys/kernel/hostname, and asks for the
 * sysctl kernel.hostname (or an LSM label). The uts files are per namespace of the writer: whatever
 * lands in domainname lands in the container's own. The container reports its hostname (uname -n) and
 * domainname (its own /proc/sys/kernel/domainname, not covered). In a user namespace the same is done
 * with two network sysctls. Also: the masks and read-only binds, made after pivot_root, are not sent
 * elsewhere by a bind over the init's /proc/1/fd; and the fallback where the kernel gives the executor
 * no procfs of its own (a user namespace under a masked /proc) still refuses the redirect; and that procfs,
 * which has no mask, is closed before the init waits for its start (an exec'd process with CAP_SYS_PTRACE
 * could open it through /proc/1/fd).
 */
class ProcfsRedirectTest {
    static RuntimeBox rbox;
    static final String VALUE = "hull-sysctl";
    static final String REPORT = "uname -n; cat /proc/sys/kernel/domainname";

    @BeforeAll
    static void setUp() throws Exception {
        rbox = new RuntimeBox("procfs");
    }

    @AfterAll
    static void tearDown() throws Exception {
        rbox.close();
    }

    /** A bundle with no hostname or domainname of its own (set after the sysctls, they would cover them). */
    static RuntimeBox.Bundle bundle(String name, boolean userNs) throws Exception {
        RuntimeBox.Bundle b = rbox.bundle(name).script(REPORT);
        b.config.remove("hostname");
        b.config.remove("domainname");
        if (userNs) {
            ObjectNode user = ((ArrayNode) b.linux().get("namespaces")).addObject();
            user.put("type", "user");
            for (String f : new String[] {"uidMappings", "gidMappings"}) {
                ObjectNode m = b.linux().putArray(f).addObject();
                m.put("containerID", 0);
                m.put("hostID", 100000);
                m.put("size", 65536);
            }
            b.withoutMount("/sys/fs/cgroup");
            // the overlay is not the namespace's to write in: /out must be there already (in the shared
            // rootfs, where other tests' bundles may have made it, or else in the upper)
            if (!Files.isDirectory(RuntimeBox.rootfs().resolve("out"))) {
                Files.createDirectories(b.upper.resolve("out"));
            }
        }
        return b;
    }

    /** The host's own uts files: the container's writes never reach them (read only). */
    static String hostUts() throws Exception {
        return Files.readString(Path.of("/proc/sys/kernel/hostname")) + Files.readString(Path.of("/proc/sys/kernel/domainname"));
    }

    /**
     * Sets sysctl key to value while the config binds the container's (namespaced) procfs file other
     * over key's file; report prints key's file's value (as the kernel sees it) and other's. The control
     * (no bind) shows other's own value; with the bind, other must still show it: the write landed in
     * key's file, or the container was refused. Where report sees key's value some other way than
     * through its (covered) file (uname -n for the hostname), that must be value.
     */
    void sysctlLandsInItsOwnFile(boolean userNs, String key, String other, String value, String report,
            boolean seesTarget) throws Exception {
        String host = hostUts();
        String target = "/proc/sys/" + key.replace('.', '/');
        RuntimeBox.Bundle ok = bundle("sysctl-control", userNs).script(report);
        ok.linux().putObject("sysctl").put(key, value);
        assertThat(rbox.run(ok)).as(ok.describe()).isEqualTo(0);
        String[] control = ok.stdout().split("\n", -1);
        assertThat(control[0]).as("the control's sysctl: %s", ok.describe()).isEqualTo(value);
        assertThat(control[1]).as("the control's %s: %s", other, ok.describe()).isNotEqualTo(value);
        // attack: the container's own procfs file other, bound over key's file, where the sysctl is written
        RuntimeBox.Bundle b = bundle("sysctl-procfs-over", userNs).script(report).mount(target, "bind", other, "bind");
        b.linux().putObject("sysctl").put(key, value);
        Object r = rbox.run(b);
        String what = key + " with " + other + " bound over it (user namespace: " + userNs + ")";
        if (r instanceof RuntimeError e) {
            System.out.println(what + ": refused: " + e.getMessage());
        } else {
            assertThat(r).as(b.describe()).isEqualTo(0);
            String[] lines = b.stdout().split("\n", -1);
            assertThat(lines[1]).as("%s, which the sysctl must not reach: %s", other, b.describe()).isEqualTo(control[1]);
            if (seesTarget) {
                assertThat(lines[0]).as("the file the sysctl names: %s", b.describe()).isEqualTo(value);
            }
            System.out.println(what + ": ran, the sysctl written to its own file");
        }
        assertThat(hostUts()).isEqualTo(host);
    }

    @Test
    void aSysctlIsWrittenToItsOwnFileWhenAnotherProcfsFileIsBoundOverIt() throws Exception {
        // the uts files are the writer's namespace's: a redirected write changes the container's domainname
        sysctlLandsInItsOwnFile(false, "kernel.hostname", "/proc/sys/kernel/domainname", VALUE, REPORT, true);
    }

    @Test
    void aSysctlIsWrittenToItsOwnFileWhenAnotherProcfsFileIsBoundOverItInAUserNamespace() throws Exception {
        // the uts files are host root's to write; the network namespace's are its owner's: a redirected
        // write changes the container's default TTL (the port's file is covered by the bind: not seen)
        sysctlLandsInItsOwnFile(true, "net.ipv4.ip_unprivileged_port_start", "/proc/sys/net/ipv4/ip_default_ttl", "100",
                "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ip_default_ttl", false);
    }

    @Test
    void anLsmLabelIsNeverWrittenIntoAProcfsFileBoundOverProcSelfAttr() throws Exception {
        Path lsmFile = Path.of("/sys/kernel/security/lsm");
        String lsms = Files.exists(lsmFile) ? Files.readString(lsmFile) : "";
        boolean apparmor = lsms.contains("apparmor");
        Assumptions.assumeTrue(apparmor || lsms.contains("selinux"), "no AppArmor or SELinux active on this host"
                + " (/sys/kernel/security/lsm: \"" + lsms.strip() + "\"): Hull writes no LSM label here");
        String hostDomain = Files.readString(Path.of("/proc/sys/kernel/domainname"));
        String label = apparmor ? "hull-escape-no-such-profile" : "system_u:system_r:hull_escape_no_such_t:s0";
        RuntimeBox.Bundle b = bundle("lsm-procfs-over", false);
        // the label's file is the init's (PID 1 in its pid namespace) attr/exec, or attr/apparmor/exec
        for (String attr : apparmor ? new String[] {"/proc/1/attr/apparmor/exec", "/proc/1/attr/exec"}
                : new String[] {"/proc/1/attr/exec"}) {
            b.mount(attr, "bind", "/proc/sys/kernel/domainname", "bind");
        }
        ((ObjectNode) b.config.get("process")).put(apparmor ? "apparmorProfile" : "selinuxLabel", label);
        Object r = rbox.run(b); // refused (no such profile, or the write refused) or not: never into domainname
        if (!(r instanceof RuntimeError)) {
            assertThat(b.stdout().split("\n", -1)[1] + "\n").as(b.describe()).isEqualTo(hostDomain);
        }
        assertThat(Files.readString(Path.of("/proc/sys/kernel/domainname"))).isEqualTo(hostDomain);
    }
    @Test
    void masksAndReadOnlyPathsHoldWhenTheInitsFdDirectoryIsCovered() throws Exception {
        // The masks and read-only binds are made after pivot_root, when /proc is the container's: the
        // config can bind a directory of symlinks over the init's /proc/1/fd, and a mount made on
        // "/proc/self/fd/N" then lands where the link N points (here /decoy), leaving the masked file
        // readable and /proc/sys writable (with a default root container: the host's kernel settings).
        String file = ProcEscapeTest.maskedFile();
        Path links = Files.createDirectories(rbox.dir.resolve("fd-links"));
        for (int fd = 0; fd < 1024; fd++) {
            Files.createSymbolicLink(links.resolve(Integer.toString(fd)), Path.of("/decoy"));
        }
        RuntimeBox.Bundle b = bundle("fd-covered", false).script("cat /proc/self/mountinfo")
                .mount("/proc/1/fd", "bind", links.toString(), "bind");
        Files.writeString(b.upper.resolve("decoy"), "decoy\n");
        b.linux().putArray("maskedPaths").add(file);
        b.linux().putArray("readonlyPaths").add("/proc/sys");
        Object r = rbox.run(b);
        if (r instanceof RuntimeError e) {
            System.out.println("/proc/1/fd covered: refused: " + e.getMessage());
            return;
        }
        assertThat(r).as(b.describe()).isEqualTo(0);
        MountInfo m = MountInfo.parse(b.stdout());
        assertThat(m.at("/decoy")).as("nothing mounted on the decoy: %s", b.describe()).isNull();
        assertThat(m.at(file)).as("%s masked: %s", file, b.describe()).isNotNull();
        assertThat(m.at(file).root()).as("%s masked by /dev/null", file).endsWith("/null");
        assertThat(m.at("/proc/sys")).as("/proc/sys bound: %s", b.describe()).isNotNull();
        assertThat(m.at("/proc/sys").readOnly()).as("/proc/sys read-only: %s", m.at("/proc/sys")).isTrue();
        System.out.println("/proc/1/fd covered: ran, masked and read-only");
    }
    @Test
    void theInitHoldsNoProcfsOfItsOwnWhileTheContainerIsCreated() throws Exception {
        // The executor's own procfs has no mask and no read-only path (/proc/sys/kernel/core_pattern is
        // writable through it). While a container is created and not started, its init waits for the
        // start; a process exec'd into it with CAP_SYS_PTRACE (no user namespace) may open the init's
        // /proc/1/fd/N: the procfs must be closed by then, right after the init's last write through it.
        RuntimeBox.Bundle b = bundle("procfd-created", false).script("sleep 1000");
        for (String set : new String[] {"bounding", "effective", "permitted"}) {
            ((ArrayNode) b.config.get("process").get("capabilities").get(set)).add("CAP_SYS_PTRACE");
        }
        b.linux().putObject("sysctl").put("net.ipv4.ip_default_ttl", "77"); // the executor opens its procfs
        b.write();
        String id = rbox.id("procfd");
        rbox.rt.create(id, b.dir, null);
        String home = Path.of(System.getProperty("hull.home", System.getProperty("user.dir"))).toAbsolutePath().toString();
        String probe = "ls /proc/1/fd >/out/fds; for f in /proc/1/fd/*; do [ -e $f/sys/kernel/core_pattern ] && echo $f; done"
                + " >/out/procfs; cat /proc/sys/net/ipv4/ip_default_ttl >/out/ttl";
        int exit = sh("\"$1\" --root \"$2\" exec \"$3\" sh -c \"$4\"", home + "/bin/hull-runtime",
                rbox.dir.resolve("state").toString(), id, probe);
        assertThat(exit).as("exec into the created container").isZero();
        assertThat(Files.readString(b.out.resolve("ttl")).strip()).as("the sysctl applied").isEqualTo("77");
        assertThat(Files.readString(b.out.resolve("fds")).split("\n")).as("the init's fds are readable (CAP_SYS_PTRACE)")
                .contains("0", "1", "2");
        assertThat(Files.readString(b.out.resolve("procfs"))).as("a procfs root among the init's fds").isEmpty();
        rbox.rt.delete(id, true);
    }

    /** Runs sh -c script with args ($1...); its exit code (output to the test's log). */
    static int sh(String script, String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("sh", "-c", script, "sh"));
        cmd.addAll(java.util.List.of(args));
        Path log = Files.createTempFile(rbox.dir, "sh-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("HULL_NO_SERVICE", "1");
        pb.environment().put("HULL_CLASSPATH", System.getProperty("java.class.path")); // this build's classes
        Process p = pb.start();
        if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("sh -c " + script + ": did not finish in 120 s");
        }
        System.out.print(Files.readString(log));
        return p.exitValue();
    }

    @Test
    void withoutAProcfsOfItsOwnTheExecutorStillRefusesMountsOverTheFilesItWrites() throws Exception {
        // A host /proc with a file masked by a mount (as an engine masks a container's /proc): a user
        // namespace whose mount namespace copies it may make no procfs of its own (fsmount: "too
        // revealing") nor a non-recursive copy of /proc (a locked mount in it), so the executor uses
        // /proc itself, opened before the config's mounts, resolving with no mount crossing. Such a
        // container gets its /proc as a bind of the host's (it could not mount one either).
        Assumptions.assumeTrue(Files.isRegularFile(Path.of("/proc/keys")), "no /proc/keys to mask on this kernel");
        String mask = "unshare -m --propagation private sh -c 'mount --bind /dev/null /proc/keys && exec \"$@\"' sh ";
        Assumptions.assumeTrue(sh(mask + "unshare -Urmpf --mount-proc true 2>/dev/null") != 0,
                "this kernel lets such a user namespace mount a procfs: the fallback is not reached here");
        String home = Path.of(System.getProperty("hull.home", System.getProperty("user.dir"))).toAbsolutePath().toString();
        Path root = rbox.dir.resolve("fallback-state");
        int n = 0;
        String[] values = new String[2];
        for (boolean attack : new boolean[] {false, true}) {
            RuntimeBox.Bundle b = bundle("fallback-" + attack, true).withoutMount("/proc").withoutMount("/sys")
                    .mount("/proc", "bind", "/proc", "rbind")
                    .script("cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ip_default_ttl");
            if (attack) {
                b.mount("/proc/sys/net/ipv4/ip_unprivileged_port_start", "bind", "/proc/sys/net/ipv4/ip_default_ttl", "bind");
            }
            b.linux().putObject("sysctl").put("net.ipv4.ip_unprivileged_port_start", "100");
            b.write();
            int exit = sh(mask + "\"$1\" --root \"$2\" run --bundle \"$3\" \"$4\"", home + "/bin/hull-runtime",
                    root.toString(), b.dir.toString(), rbox.id("fallback"));
            assertThat(exit).as("attack %s: %s", attack, b.describe()).isZero();
            values[n++] = b.stdout();
        }
        assertThat(values[0]).as("the control: the sysctl applies").startsWith("100\n").doesNotEndWith("\n100\n");
        assertThat(values[1].split("\n")[1] + "\n").as("the TTL, bound over the sysctl's file, is untouched")
                .isEqualTo(values[0].split("\n")[1] + "\n");
    }
}
