package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What engines (containerd's shim and CRI, docker, podman) rely on in runc's behaviour and texts,
 * through the real hull-runtime command line: kill --all of a stopped container succeeds (the CRI
 * sends it after every exit and retries a failure for ever), a stopped container's kill says
 * "container not running", signal 0 is taken, and a command that cannot run is reported in runc's
 * (Go's) words, which docker maps to 127 and 126.
 */
class EngineCompatTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("compat");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    static String state(String id) throws Exception {
        Host.Result r = Host.cli(root, "state", id);
        assertThat(r.exit()).as("%s", r).isZero();
        return Bundles.JSON.readTree(r.out()).path("status").asText();
    }

    @Test
    void killOfAStoppedContainerIsRuncs() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "stopped");
        b.process().putArray("args").add("true");
        b.write();
        String id = Bundles.id("stopped");
        assertThat(Host.cli(root, "create", "--bundle", b.dir.toString(), id).exit()).isZero();
        assertThat(Host.cli(root, "start", id).exit()).isZero();
        for (int i = 0; i < 600 && !state(id).equals("stopped"); i++) {
            Thread.sleep(50);
        }
        assertThat(state(id)).isEqualTo("stopped");
        Host.Result all = Host.cli(root, "kill", "--all", id, "KILL");
        assertThat(all.exit()).as("%s", all).isZero();
        Host.Result one = Host.cli(root, "kill", id, "KILL");
        assertThat(one.exit()).as("%s", one).isEqualTo(1);
        assertThat(one.err()).contains("container not running");
        assertThat(Host.cli(root, "delete", id).exit()).isZero();
    }

    @Test
    void signalZeroIsACheck() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "zero");
        b.process().putArray("args").add("sleep").add("600");
        b.write();
        String id = Bundles.id("zero");
        assertThat(Host.cli(root, "create", "--bundle", b.dir.toString(), id).exit()).isZero();
        assertThat(Host.cli(root, "start", id).exit()).isZero();
        Host.Result r = Host.cli(root, "kill", id, "0");
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(state(id)).isEqualTo("running");
        assertThat(Host.cli(root, "delete", "--force", id).exit()).isZero();
    }

    @Test
    void aCommandThatCannotRunIsReportedInRuncsWords() throws Exception {
        String[][] cases = {
            {"nope", "exec: \"nope\": executable file not found in $PATH"},
            {"/nope", "exec: \"/nope\": stat /nope: no such file or directory"},
            {"/etc/passwd", "exec: \"/etc/passwd\": permission denied"},
            {"/bin", "exec: \"/bin\": permission denied"},
        };
        for (String[] c : cases) {
            Bundles.Bundle b = Bundles.create(base, "cannot");
            b.process().putArray("args").add(c[0]);
            b.write();
            Host.Result r = Host.cli(root, "run", "--bundle", b.dir.toString(), Bundles.id("cannot"));
            assertThat(r.exit()).as("%s", r).isNotZero();
            assertThat(r.err()).as("%s", r).contains(c[1]);
        }
    }

    @Test
    void withoutACgroupNamespaceTheV1MountsShowOnlyTheContainersOwnCgroups() throws Exception {
        var layout = dev.hull.linux.cgroup.CgroupLayout.detect();
        org.junit.jupiter.api.Assumptions.assumeTrue(layout.mode() != dev.hull.linux.cgroup.CgroupLayout.Mode.V2,
                "cgroup v1 hierarchies needed (this host is pure cgroup v2)");
        var pids = layout.v1().stream().filter(h -> h.controllers().contains("pids")).findFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(pids.isPresent(), "no v1 pids hierarchy on this host");
        // a cgroup of the test's own at the top of the hierarchy: another container's, to the container
        Path other = pids.get().mountPoint().resolve("hull-compat-other-" + ProcessHandle.current().pid());
        java.nio.file.Files.createDirectories(other);
        try {
            Bundles.Bundle b = Bundles.create(base, "cgview");
            var ns = b.namespaces();
            for (int i = ns.size() - 1; i >= 0; i--) {
                if (ns.get(i).path("type").asText().equals("cgroup")) {
                    ns.remove(i);
                }
            }
            String out = ContainerTests.output(new ContainerRuntime(root), b,
                    "ls /sys/fs/cgroup/pids/; echo; cat /sys/fs/cgroup/pids/cgroup.procs");
            assertThat(out).as(out).doesNotContain(other.getFileName().toString()).contains("pids.max");
            assertThat(out.substring(out.indexOf("\n\n") + 2).trim()).as("its own cgroup's processes").isNotEmpty();
        } finally {
            java.nio.file.Files.deleteIfExists(other);
        }
    }

    @Test
    void joinedMountAndUtsNamespacesAreSetUpAsNewOnes() throws Exception {
        // runc sets a container up inside mount and uts namespaces it joins by path: its mounts,
        // pivot_root, its hostname (the runtime-tools validation suite checks it)
        Process holder = new ProcessBuilder("unshare", "--mount", "--uts", "--propagation", "private", "sleep", "600")
                .start();
        try {
            Path mnt = Path.of("/proc/" + holder.pid() + "/ns/mnt");
            for (int i = 0; i < 200 && java.nio.file.Files.readSymbolicLink(mnt)
                    .equals(java.nio.file.Files.readSymbolicLink(Path.of("/proc/self/ns/mnt"))); i++) {
                Thread.sleep(20); // unshare has not run yet
            }
            Bundles.Bundle b = Bundles.create(base, "joined");
            for (var n : b.namespaces()) {
                String type = n.path("type").asText();
                if (type.equals("mount") || type.equals("uts")) {
                    ((com.fasterxml.jackson.databind.node.ObjectNode) n).put("path",
                            "/proc/" + holder.pid() + "/ns/" + (type.equals("mount") ? "mnt" : "uts"));
                }
            }
            b.config.put("hostname", "joined-uts");
            String out = ContainerTests.output(new ContainerRuntime(root), b,
                    "hostname; test -e /proc/self/status && echo proc-mounted; test -e /out && echo out-bound");
            assertThat(out).isEqualTo("joined-uts\nproc-mounted\nout-bound\n");
            Process h = new ProcessBuilder("nsenter", "-t", Long.toString(holder.pid()), "-u", "hostname").start();
            assertThat(new String(h.getInputStream().readAllBytes()).trim()).as("the joined uts namespace's name")
                    .isEqualTo("joined-uts");
        } finally {
            holder.destroyForcibly().waitFor();
        }
    }
}
