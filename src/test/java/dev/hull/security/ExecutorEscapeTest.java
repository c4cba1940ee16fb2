package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CVE-2019-5736 class: a process in a container gets hold of the executable of a process that
 * is entering the container (its /proc/PID/exe) and writes to it, changing the program the host runs
 * next. Every attack aims at the fixture's own copy of the executor (the Hull commands of the test
 * run that copy), and asserts that copy is byte for byte unchanged.
 *
 * <p>The window used is the longest one Hull has: a container whose init waits in the created state
 * (it runs the executor until start) inside the pid namespace of another, running container — the
 * attacker's. Between the attacker's open and its write, the victim is started and deleted, so no
 * process runs the file any more (the kernel's ETXTBSY no longer protects it): only Hull's defences
 * stand — the executor is non-dumpable (no /proc/PID/exe for a process without CAP_SYS_PTRACE), and
 * it runs from a sealed executable (a process that has CAP_SYS_PTRACE gets a handle nobody can write).
 */
class ExecutorEscapeTest {
    /** The attacker: opens the victim's /proc/PID/exe on fd 7, waits for "go", appends to it. */
    static final String ATTACKER = """
            while [ ! -e /out/pid ]; do sleep 0.05; done
            P=$(cat /out/pid)
            ( exec 7</proc/$P/exe && echo opened > /out/opened \\
              && while [ ! -e /out/go ]; do sleep 0.05; done \\
              && echo PWNED >> /proc/self/fd/7 && echo written > /out/written ) 2>/out/err
            echo done > /out/done
            sleep 600
            """;

    @Test
    void aContainerCannotOpenTheExecutorOfAnInitWaitingInItsPidNamespace() throws Exception {
        try (Attack a = new Attack("exe-dumpable")) {
            Path out = attack(a, false);
            assertThat(Files.exists(out.resolve("opened"))).as("the attacker opened /proc/PID/exe of the waiting init: %s",
                    read(out, "err")).isFalse();
            assertThat(read(out, "err")).contains("Permission denied");
            assertThat(Files.exists(out.resolve("written"))).isFalse();
        }
    }

    @Test
    void withCapSysPtraceTheExecutorItGetsCannotBeWritten() throws Exception {
        try (Attack a = new Attack("exe-sealed")) {
            Path out = attack(a, true);
            // CAP_SYS_PTRACE passes the dumpable check: what it opens must be a sealed executable
            assertThat(Files.exists(out.resolve("opened"))).as("with CAP_SYS_PTRACE: %s", read(out, "err")).isTrue();
            assertThat(Files.exists(out.resolve("written"))).as("the attacker wrote the executor it held").isFalse();
            assertThat(read(out, "err")).containsAnyOf("Read-only file system", "Operation not permitted");
        }
    }

    @Test
    void theMonitorRunsASealedExecutableNotTheHostsFile() throws Exception {
        try (Attack a = new Attack("exe-monitor")) {
            Attack.Result r = a.hull("run", "-d", "--network", "none", "busybox", "sleep", "600");
            assertThat(r.exit()).as("%s", r).isZero();
            String id = r.out().trim();
            int monitor = Attack.JSON.readTree(a.home.resolve("containers").resolve(id).resolve("status.json").toFile())
                    .path("monitorPid").asInt();
            assertThat(monitor).isPositive();
            Path exe = Path.of("/proc/" + monitor + "/exe");
            // Not the host's file (another inode, seen through a read-only overlay or a sealed memfd) ...
            assertThat(Files.isSameFile(exe, a.executor)).as("the monitor runs the host's executor file").isFalse();
            // ... and not writable even by the host's root through /proc/PID/exe
            assertThat(writeError(exe)).containsAnyOf("Read-only file system", "Operation not permitted");
            assertThat(a.hull("rm", "-f", id).exit()).isZero();
        }
    }

    @Test
    void theInitOfInitIsNoHostFileEvenToAPrivilegedContainer() throws Exception {
        try (Attack a = new Attack("exe-init")) {
            String before = Attack.sha256(a.executor);
            // A privileged container could remount a bind of a host file read-write; there must be none.
            Attack.Result r = a.hull("run", "--rm", "--privileged", "--init", "--network", "none", "busybox", "sh", "-c",
                    "readlink /proc/1/exe; grep -c hull-init /proc/self/mountinfo;"
                    + " mount -o remount,rw /proc/1/exe 2>&1; echo PWNED >> /proc/1/exe && echo WRITTEN");
            assertThat(r.out()).as("%s", r).doesNotContain("WRITTEN").doesNotContain("/dev/hull-init");
            assertThat(r.out().lines().toList()).as("%s", r).contains("0"); // no hull-init mount at all
            assertThat(Attack.sha256(a.executor)).isEqualTo(before);
        }
    }

    /** What opening path for appending fails with ("" if it opened). */
    static String writeError(Path path) {
        try (var o = Files.newOutputStream(path, java.nio.file.StandardOpenOption.APPEND)) {
            return "";
        } catch (java.io.IOException e) {
            return String.valueOf(e.getMessage()) + " " + e.getClass().getSimpleName();
        }
    }

    /**
     * Runs the attack and returns the attacker's /out: the executor copy is asserted unchanged.
     * Fails on a Hull whose executor is the host's file and dumpable (the attacker writes PWNED).
     */
    private static Path attack(Attack a, boolean ptrace) throws Exception {
        String before = Attack.sha256(a.executor);
        Path attackerBundle = a.bundle("attacker", "sh", "-c", ATTACKER);
        if (ptrace) {
            ObjectNode c = Attack.config(attackerBundle);
            ObjectNode caps = (ObjectNode) c.path("process").path("capabilities");
            for (String set : List.of("bounding", "effective", "permitted")) {
                ((ArrayNode) caps.get(set)).add("CAP_SYS_PTRACE");
            }
            Attack.write(attackerBundle, c);
        }
        Path out = attackerBundle.resolve("out");
        String attacker = "attacker-" + ProcessHandle.current().pid() + "-" + (ptrace ? "p" : "d");
        assertThat(a.create(attacker, attackerBundle).exit()).isZero();
        assertThat(a.runtime("start", attacker).exit()).isZero();
        int attackerPid = a.pid(attacker);

        // The victim: its init waits in the created state inside the attacker's pid namespace.
        Path victimBundle = a.bundle("victim", "true");
        ObjectNode vc = Attack.config(victimBundle);
        for (var ns : vc.path("linux").path("namespaces")) {
            if (ns.path("type").asText().equals("pid")) {
                ((ObjectNode) ns).put("path", "/proc/" + attackerPid + "/ns/pid");
            }
        }
        Attack.write(victimBundle, vc);
        String victim = "victim-" + ProcessHandle.current().pid() + "-" + (ptrace ? "p" : "d");
        Attack.Result created = a.create(victim, victimBundle);
        assertThat(created.exit()).as("%s", created).isZero();
        int victimHostPid = a.pid(victim);
        String nspid = Files.readAllLines(Path.of("/proc/" + victimHostPid + "/status")).stream()
                .filter(l -> l.startsWith("NSpid:")).findFirst().orElseThrow();
        String[] ids = nspid.substring(6).trim().split("\\s+");
        Files.writeString(out.resolve("pid.tmp"), ids[ids.length - 1]);
        Files.move(out.resolve("pid.tmp"), out.resolve("pid"));
        assertThat(Attack.await(out.resolve("opened"), out.resolve("done")))
                .as("the attacker got to its open").isTrue();
        if (Files.exists(out.resolve("opened"))) {
            // Nothing runs the executor after this: the victim execs `true`, and is gone.
            assertThat(a.runtime("start", victim).exit()).isZero();
            assertThat(a.runtime("delete", "--force", victim).exit()).isZero();
            Files.writeString(out.resolve("go"), "");
        }
        assertThat(Attack.await(out.resolve("done"))).as("the attacker finished").isTrue();
        assertThat(Attack.sha256(a.executor)).as("the executor copy the host runs").isEqualTo(before);
        return out;
    }

    static String read(Path out, String name) throws Exception {
        Path f = out.resolve(name);
        return Files.exists(f) ? Files.readString(f) : "";
    }
}
