package dev.hull.runtime;

import static dev.hull.runtime.Host.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * start reports a failing startContainer hook; --preserve-fds; state and delete --force of a
 * container with exec'd processes. Through the hull-runtime CLI against the real kernel.
 */
class ProcessGapsTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("pgaps");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    static String status(String id) throws Exception {
        Host.Result r = Host.cli(root, "state", id);
        ok(r);
        return Bundles.JSON.readTree(r.out()).path("status").asText();
    }

    @Test
    void aFailingStartContainerHookFailsStartAndStopsTheContainer() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").script("echo ran > /out/main; sleep 1000");
        ObjectNode hooks = b.config.putObject("hooks");
        ProcessControlTest.hook(hooks, "startContainer", "/bin/sh", "exit 0", null);
        ProcessControlTest.hook(hooks, "startContainer", "/bin/sh", "echo oops >&2; exit 6", null);
        ProcessControlTest.hook(hooks, "poststart", "/bin/sh", "touch " + b.out + "/poststart", null);
        b.write();
        String id = Bundles.id("starthook");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        assertThat(status(id)).isEqualTo("created");
        Host.Result r = Host.cli(root, "start", id);
        assertThat(r.exit()).as("%s", r).isEqualTo(1);
        assertThat(r.err()).contains("cannot start container \"" + id + "\"")
                .contains("hook hooks.startContainer[1] (/bin/sh): exited with status 6");
        assertThat(status(id)).as("a failed startContainer hook stops the container").isEqualTo("stopped");
        assertThat(b.out.resolve("main")).as("the process never ran").doesNotExist();
        assertThat(b.out.resolve("poststart")).as("no poststart after a failed start").doesNotExist();
        ok(Host.cli(root, "delete", id));
        assertThat(root.resolve(id)).doesNotExist();

        // A timed-out hook is the same failure; foreground run reports it and deletes the container.
        Bundles.Bundle c = Bundles.create(base, "b").script("echo ran > /out/main");
        ProcessControlTest.hook(c.config.putObject("hooks"), "startContainer", "/bin/sh", "sleep 1000", 1);
        c.write();
        String rid = Bundles.id("starthook-run");
        Host.Result run = Host.cli(root, "run", "--bundle", c.dir.toString(), rid);
        assertThat(run.exit()).as("%s", run).isEqualTo(1);
        assertThat(run.err()).contains("hook hooks.startContainer[0] (/bin/sh): timed out after 1 s");
        assertThat(c.out.resolve("main")).doesNotExist();
        assertThat(Host.cli(root, "state", rid).exit()).isEqualTo(1);
    }

    @Test
    void aPassingStartContainerHookLetsStartSucceed() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").script("echo ran > /out/main; sleep 1000");
        ProcessControlTest.hook(b.config.putObject("hooks"), "startContainer", "/bin/sh", "true", null);
        b.write();
        String id = Bundles.id("starthook-ok");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        ok(Host.cli(root, "start", id));
        assertThat(Host.await(() -> Files.exists(b.out.resolve("main")))).isTrue();
        assertThat(status(id)).isEqualTo("running");
        assertThat(root.resolve(id).resolve(ProcessControl.START_REPORT)).doesNotExist();
        ok(Host.cli(root, "delete", "--force", id));
    }

    /** Runs sh -c script, which execs the hull-runtime CLI (args appended as "$@") with fds it opened. */
    static Host.Result viaShell(String script, String... args) throws Exception {
        List<String> cli = Host.cliCommand(root, args);
        List<String> cmd = new java.util.ArrayList<>(List.of("sh", "-c", script + " exec \"$@\"", "sh"));
        cmd.addAll(cli);
        Path out = Files.createTempFile("hull-pgaps-", ".out");
        Path err = Files.createTempFile("hull-pgaps-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertThat(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            return new Host.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void preserveFdsPassesTheCallersFdsAndOnlyThose() throws Exception {
        Path x = base.resolve("fd3.txt");
        Path y = base.resolve("fd4.txt");
        // The shell's own descriptors: exactly stdio and the preserved ones (nothing else of the runtime's).
        String check = "ls /proc/$$/fd; true"; // not last: sh would exec ls itself 
        Bundles.Bundle b = Bundles.create(base, "b").args("sh", "-c", "echo hi >&3; " + check).write();
        String id = Bundles.id("preserve");
        Host.Result r = viaShell("exec 3>" + x + " 4>" + y + ";", "run", "--preserve-fds", "1", "--bundle",
                b.dir.toString(), id);
        ok(r);
        assertThat(Files.readString(x)).isEqualTo("hi\n");
        assertThat(r.out()).as("%s", r).isEqualTo("0\n1\n2\n3\n");

        // Without --preserve-fds the caller's fd 3 does not reach the container.
        Bundles.Bundle c = Bundles.create(base, "b").args("sh", "-c", check).write();
        Host.Result none = viaShell("exec 3>" + x + ";", "run", "--bundle", c.dir.toString(), Bundles.id("nopreserve"));
        ok(none);
        assertThat(none.out()).as("%s", none).isEqualTo("0\n1\n2\n");

        // With a terminal-less container that has hooks in the init (an extra socket) and two fds; and exec.
        Bundles.Bundle d = Bundles.create(base, "b").script("sleep 1000");
        ProcessControlTest.hook(d.config.putObject("hooks"), "startContainer", "/bin/sh", "true", null);
        d.write();
        String did = Bundles.id("preserve2");
        ok(Host.cli(root, "create", "--bundle", d.dir.toString(), did));
        ok(Host.cli(root, "start", did));
        Files.deleteIfExists(x);
        Host.Result e = viaShell("exec 3>" + x + " 4>" + y + ";", "exec", "--preserve-fds", "2", did, "sh", "-c",
                "echo three >&3; echo four >&4; " + check);
        ok(e);
        assertThat(Files.readString(x)).isEqualTo("three\n");
        assertThat(Files.readString(y)).isEqualTo("four\n");
        assertThat(e.out()).as("%s", e).isEqualTo("0\n1\n2\n3\n4\n");

        Host.Result bad = Host.cli(root, "exec", "--preserve-fds", "-1", did, "true");
        assertThat(bad.exit()).as("%s", bad).isEqualTo(1);
        assertThat(bad.err()).contains("--preserve-fds must be 0 or more, not -1");
        ok(Host.cli(root, "delete", "--force", did));
    }

    @Test
    void stateAndForcedDeleteOfAContainerWithExecdProcessesInTheHostPidNamespace() throws Exception {
        // No pid namespace: killing the init does not take the exec'd processes with it; the cgroup does.
        Bundles.Bundle b = Bundles.create(base, "b").script("sleep 1000");
        var namespaces = (com.fasterxml.jackson.databind.node.ArrayNode) ((ObjectNode) b.config.get("linux"))
                .get("namespaces");
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            if (namespaces.get(i).path("type").asText().equals("pid")) {
                namespaces.remove(i);
            }
        }
        b.write();
        String id = Bundles.id("execd");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        ok(Host.cli(root, "start", id));
        Path pidFile = base.resolve(id + ".pid");
        ok(Host.cli(root, "exec", "--detach", "--pid-file", pidFile.toString(), id, "sleep", "1000"));
        int pid = Integer.parseInt(Files.readString(pidFile).trim());
        assertThat(Host.processAlive(pid)).isTrue();
        assertThat(status(id)).isEqualTo("running");
        ok(Host.cli(root, "delete", "--force", id));
        assertThat(Host.await(() -> !Host.processAlive(pid))).as("exec'd process killed by delete --force").isTrue();
        assertThat(Host.cli(root, "state", id).exit()).isEqualTo(1);
    }
}
