package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CVE-2024-21626 class: a descriptor of the host that reaches a container — one the caller of
 * Hull leaked (a CI runner's or an engine's {@code exec 9</some/dir}), or Hull's own — is a way out:
 * a cwd of /proc/self/fd/9 puts the process in a host directory, and ../.. walks the host. Each
 * attack leaks a directory the test owns, holding a canary secret, into a Hull command run as a real
 * process (bash opens it on fd 9, then execs Hull), and asserts the secret is never read.
 */
class LeakedDescriptorTest {
    static Attack a;
    static Path hostDir;
    static final String SECRET = "HOST-SECRET-" + ProcessHandle.current().pid();

    @BeforeAll
    static void setUp() throws Exception {
        a = new Attack("fds");
        hostDir = Files.createDirectories(a.dir.resolve("host-dir"));
        Files.writeString(hostDir.resolve("secret"), SECRET);
    }

    @AfterAll
    static void tearDown() throws Exception {
        a.close();
    }

    private static List<String> plus(List<String> cmd, String... more) {
        List<String> c = new ArrayList<>(cmd);
        c.addAll(List.of(more));
        return c;
    }

    @Test
    void aCwdThroughALeakedDescriptorIsRefusedWithThatError() throws Exception {
        Path b = a.bundle("cwd-leak", "sh", "-c", "cat secret; cat ../host-dir/secret");
        ObjectNode c = Attack.config(b);
        ((ObjectNode) c.get("process")).put("cwd", "/proc/self/fd/9");
        Attack.write(b, c);
        Attack.Result r = a.withLeakedFd9(hostDir, a.command("hull-runtime", "run", "--bundle", b.toString(),
                "cwd-leak-" + ProcessHandle.current().pid()));
        assertThat(r.out() + r.err()).as("%s", r).doesNotContain(SECRET);
        assertThat(r.exit()).as("%s", r).isNotZero();
        // the first error is the one reported (it once was a cgroup removal's)
        assertThat(r.err()).as("%s", r).contains("cwd /proc/self/fd/9").doesNotContain("cgroup");
    }

    @Test
    void hullRunWorkdirThroughALeakedDescriptorIsRefused() throws Exception {
        Attack.Result r = a.withLeakedFd9(hostDir, a.command("hull", "run", "--rm", "--network", "none",
                "-w", "/proc/self/fd/9", "busybox", "sh", "-c", "cat secret; cat ../host-dir/secret"));
        assertThat(r.out() + r.err()).as("%s", r).doesNotContain(SECRET);
        assertThat(r.exit()).as("%s", r).isNotZero();
    }

    @Test
    void execCwdThroughALeakedDescriptorIsRefused() throws Exception {
        Path b = a.bundle("exec-leak", "sleep", "600");
        String id = "exec-leak-" + ProcessHandle.current().pid();
        assertThat(a.create(id, b).exit()).isZero();
        assertThat(a.runtime("start", id).exit()).isZero();
        Attack.Result r = a.withLeakedFd9(hostDir, a.command("hull-runtime", "exec", "--cwd", "/proc/self/fd/9", id,
                "sh", "-c", "cat secret; cat ../host-dir/secret"));
        assertThat(r.out() + r.err()).as("%s", r).doesNotContain(SECRET);
        assertThat(r.exit()).as("%s", r).isNotZero();
    }

    @Test
    void aWaitingInitHoldsNoDescriptorOfTheCaller() throws Exception {
        // The init runs Hull's executor until start: a leaked descriptor open in it, even close-on-exec,
        // is reachable through /proc/PID/fd by the container's other processes.
        Path b = a.bundle("held", "sh", "-c", "ls -l /proc/self/fd/ > /out/fds");
        String id = "held-" + ProcessHandle.current().pid();
        a.track(id);
        Attack.Result r = a.withLeakedFd9(hostDir, a.command("hull-runtime", "create", "--bundle", b.toString(), id));
        assertThat(r.exit()).as("%s", r).isZero();
        int pid = a.pid(id);
        List<String> targets = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                targets.add(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
            }
        }
        assertThat(targets).as("the waiting init's descriptors").noneMatch(t -> t.contains(hostDir.toString()));
        assertThat(a.runtime("start", id).exit()).isZero();
        assertThat(Attack.await(b.resolve("out/fds"))).isTrue();
        assertThat(a.runtime("delete", "--force", id).exit()).isZero();
        assertThat(Files.readString(b.resolve("out/fds"))).doesNotContain(hostDir.toString());
    }

    @Test
    void aDirectoryAsStdinIsRefused() throws Exception {
        // stdin a host directory: /proc/self/fd/0/secret would read the host
        Path b = a.bundle("stdin-dir", "sh", "-c", "cat /proc/self/fd/0/secret");
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "exec 0<\"$0\"; exec \"$@\"", hostDir.toString()));
        cmd.addAll(a.command("hull-runtime", "run", "--bundle", b.toString(), "stdin-dir-" + ProcessHandle.current().pid()));
        Attack.Result r = a.run(null, cmd);
        assertThat(r.out() + r.err()).as("%s", r).doesNotContain(SECRET);
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.err()).contains("is a directory");
    }

    @Test
    void execIntoAContainerThatJoinedAMountNamespaceStaysInItsRoot() throws Exception {
        // The container joins an existing mount namespace by path, a copy of the host's tree (and this
        // test's secret); an exec must land in the container's root, not at that namespace's.
        Process holder = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sleep", "600").start();
        try {
            Path ns = Path.of("/proc/" + holder.pid() + "/ns/mnt");
            for (int i = 0; i < 200 && Files.readSymbolicLink(ns).equals(Files.readSymbolicLink(Path.of("/proc/self/ns/mnt"))); i++) {
                Thread.sleep(20); // unshare has not run yet
            }
            Path b = a.bundle("joined-mnt", "sleep", "600");
            ObjectNode c = Attack.config(b);
            // its own rootfs: without a mount namespace the device nodes are made in the rootfs itself
            ((ObjectNode) c.get("root")).put("path",
                    dev.hull.image.BusyboxRootfs.ensure(a.dir.resolve("rootfs-joined")).toString());
            ((com.fasterxml.jackson.databind.node.ArrayNode) c.get("mounts")).removeAll();
            ((ObjectNode) c.get("root")).put("readonly", false);
            ((ObjectNode) c.get("linux")).putArray("maskedPaths");
            ((ObjectNode) c.get("linux")).putArray("readonlyPaths");
            for (var n : c.path("linux").path("namespaces")) {
                if (n.path("type").asText().equals("mount")) {
                    ((ObjectNode) n).put("path", ns.toString());
                }
            }
            Attack.write(b, c);
            String id = "joined-mnt-" + ProcessHandle.current().pid();
            Attack.Result created = a.create(id, b);
            assertThat(created.exit()).as("%s", created).isZero();
            assertThat(a.runtime("start", id).exit()).isZero();
            Attack.Result r = a.runtime("exec", id, "cat", hostDir.resolve("secret").toString());
            assertThat(r.out()).as("%s", r).doesNotContain(SECRET);
            assertThat(r.exit()).as("%s", r).isNotZero();
            assertThat(a.runtime("delete", "--force", id).exit()).isZero();
        } finally {
            holder.destroyForcibly().waitFor();
        }
    }
}
