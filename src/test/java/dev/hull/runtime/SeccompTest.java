package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.seccomp.DefaultSeccomp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** linux.seccomp against the real kernel: the filter Hull compiles is loaded and enforced. */
class SeccompTest {
    static Path base;
    static ContainerRuntime rt;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("seccomp");
        rt = new ContainerRuntime(ContainerTests.root(base));
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    static Bundles.Bundle bundle(ObjectNode seccomp) {
        Bundles.Bundle b = Bundles.create(base, "b");
        b.linux().set("seccomp", seccomp);
        return b;
    }

    static ObjectNode profile(String defaultAction) {
        ObjectNode p = Bundles.JSON.createObjectNode();
        p.put("defaultAction", defaultAction);
        p.putArray("syscalls");
        return p;
    }

    static ObjectNode rule(ObjectNode profile, String action, String... names) {
        ObjectNode r = ((ArrayNode) profile.get("syscalls")).addObject();
        ArrayNode n = r.putArray("names");
        for (String s : names) {
            n.add(s);
        }
        r.put("action", action);
        return r;
    }

    static void arg(ObjectNode rule, int index, long value, long valueTwo, String op) {
        ObjectNode a = (rule.has("args") ? (ArrayNode) rule.get("args") : rule.putArray("args")).addObject();
        a.put("index", index);
        a.put("value", value);
        a.put("valueTwo", valueTwo);
        a.put("op", op);
    }

    /** Runs the script; returns "exit code\nstdout\n---\nstderr". */
    static String[] runScript(Bundles.Bundle b, String script) throws Exception {
        b.script(script);
        int code = ContainerTests.run(rt, b, "sc");
        return new String[] {String.valueOf(code), ContainerTests.read(b, "stdout"), ContainerTests.read(b, "stderr")};
    }

    @Test
    void blockedMkdirFailsWithEperm() throws Exception {
        ObjectNode p = profile("SCMP_ACT_ALLOW");
        rule(p, "SCMP_ACT_ERRNO", "mkdir", "mkdirat");
        Bundles.Bundle b = bundle(p);
        String[] r = runScript(b, "mkdir /out/x; echo mkdir=$?; touch /out/f; echo touch=$?");
        assertThat(r[1]).isEqualTo("mkdir=1\ntouch=0\n");
        assertThat(r[2]).contains("Operation not permitted");
        assertThat(b.out.resolve("x")).doesNotExist();
        assertThat(b.out.resolve("f")).exists();
    }

    @Test
    void blockedCallFailsWithTheConfiguredErrno() throws Exception {
        ObjectNode p = profile("SCMP_ACT_ALLOW");
        rule(p, "SCMP_ACT_ERRNO", "chmod", "fchmodat", "fchmod").put("errnoRet", 74); // EBADMSG
        Bundles.Bundle b = bundle(p);
        String[] r = runScript(b, "touch /out/f; chmod 600 /out/f; echo chmod=$?; echo still-running");
        assertThat(r[1]).isEqualTo("chmod=1\nstill-running\n");
        assertThat(r[2]).contains("Bad message");
        assertThat(Files.getPosixFilePermissions(b.out.resolve("f")))
                .isNotEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void argumentFilterMatchesExactly() throws Exception {
        // kill(2) is denied for signal 10 (SIGUSR1) only.
        ObjectNode p = profile("SCMP_ACT_ALLOW");
        arg(rule(p, "SCMP_ACT_ERRNO", "kill"), 1, 10, 0, "SCMP_CMP_EQ");
        // personality(2): denied when the low byte is PER_LINUX32 (8), whatever the flags above it.
        arg(rule(p, "SCMP_ACT_ERRNO", "personality"), 0, 0xff, 8, "SCMP_CMP_MASKED_EQ");
        String[] r = runScript(bundle(p), "trap 'echo got-USR2' USR2; trap 'echo got-USR1' USR1;"
                + " kill -USR2 $$; echo usr2=$?; kill -USR1 $$; echo usr1=$?;"
                + " linux64 uname -m; echo linux64=$?; linux32 uname -m; echo linux32=$?");
        assertThat(r[1]).isEqualTo("got-USR2\nusr2=0\nusr1=1\nx86_64\nlinux64=0\nlinux32=1\n");
        assertThat(r[2]).contains("Operation not permitted");
    }

    @Test
    void killProcessKillsWithSigsys() throws Exception {
        ObjectNode p = profile("SCMP_ACT_ALLOW");
        rule(p, "SCMP_ACT_KILL_PROCESS", "mkdir", "mkdirat");
        Bundles.Bundle b = bundle(p);
        String[] r = runScript(b, "(mkdir /out/k); echo mkdir=$?; echo after");
        assertThat(r[1]).isEqualTo("mkdir=159\nafter\n"); // 128 + SIGSYS
        assertThat(b.out.resolve("k")).doesNotExist();
        Bundles.Bundle direct = bundle(p).args("mkdir", "/out/k");
        assertThat(ContainerTests.run(rt, direct, "sc")).isEqualTo(159);
        assertThat(direct.out.resolve("k")).doesNotExist();
    }

    @Test
    void unknownSyscallNameIsAClearError() throws Exception {
        ObjectNode p = profile("SCMP_ACT_ALLOW");
        rule(p, "SCMP_ACT_ERRNO", "mkdir");
        rule(p, "SCMP_ACT_ERRNO", "fooo");
        Bundles.Bundle b = bundle(p).args("true").write();
        Path root = ContainerTests.root(base);
        String id = Bundles.id("unknown");
        Host.Result r = Host.cli(root, "run", "--bundle", b.dir.toString(), id);
        assertThat(r.exit()).as("%s", r).isEqualTo(1);
        assertThat(r.err()).as("%s", r)
                .contains("config.json: linux.seccomp.syscalls[1].names[0]: unknown syscall \"fooo\" for x86_64")
                .doesNotContain("Exception");
        assertThat(root.resolve(id)).doesNotExist();
    }

    @Test
    void defaultProfileRunsCommonToolsAndBlocksPrivilegedCalls() throws Exception {
        Bundles.Bundle b = bundle(DefaultSeccomp.profile(List.of("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")));
        String[] r = runScript(b, "echo ok; ls / >/dev/null && echo ls-ok; mkdir /out/d && echo mkdir-ok;"
                + " (sleep 0; echo subshell-ok) | cat; linux32 uname -m;"
                + " grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status;"
                + " unshare -U true; echo unshare=$?; mount -t tmpfs t /mnt/a; echo mount=$?");
        assertThat(r[1]).startsWith("ok\nls-ok\nmkdir-ok\nsubshell-ok\ni686\n")
                .contains("Seccomp:\t2\n").contains("NoNewPrivs:\t1\n")
                .contains("unshare=1\n").doesNotContain("mount=0");
        assertThat(r[2]).contains("Operation not permitted");
        assertThat(r[0]).isEqualTo("0");
    }

    @Test
    void withoutNoNewPrivilegesTheFilterIsLoadedBeforeTheUserIsSet() throws Exception {
        ObjectNode p = profile("SCMP_ACT_ALLOW");
        rule(p, "SCMP_ACT_ERRNO", "mkdir", "mkdirat");
        p.putArray("flags").add("SECCOMP_FILTER_FLAG_TSYNC").add("SECCOMP_FILTER_FLAG_LOG")
                .add("SECCOMP_FILTER_FLAG_SPEC_ALLOW");
        Bundles.Bundle b = bundle(p);
        b.process().put("noNewPrivileges", false);
        ObjectNode user = b.process().putObject("user");
        user.put("uid", 1000);
        user.put("gid", 1000);
        String[] r = runScript(b, "id -u; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /out/y; echo mkdir=$?;"
                + " touch /out/z; echo touch=$?");
        assertThat(r[1]).isEqualTo("1000\nNoNewPrivs:\t0\nSeccomp:\t2\nmkdir=1\ntouch=0\n");
        assertThat(r[2]).contains("Operation not permitted");
        assertThat(Files.exists(b.out.resolve("z"))).isTrue();
    }
}
