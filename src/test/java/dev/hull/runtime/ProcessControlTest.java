package dev.hull.runtime;

import static dev.hull.runtime.Host.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.UnixSocket;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** exec, terminals (console socket) and hooks, through the hull-runtime CLI against the real kernel. */
class ProcessControlTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("procctl");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    static int initPid(String id) throws Exception {
        Host.Result r = Host.cli(root, "state", id);
        ok(r);
        return Bundles.JSON.readTree(r.out()).path("pid").asInt();
    }

    static String ns(int pid, String name) {
        return Host.readlink("/proc/" + pid + "/ns/" + name);
    }

    /** A running container (sh sleeping) with a writable overlay root and hostname "box". */
    static String running(Bundles.Bundle b) throws Exception {
        b.config.put("hostname", "box");
        b.write();
        String id = Bundles.id("exec");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        ok(Host.cli(root, "start", id));
        return id;
    }

    @Test
    void execJoinsEveryNamespaceAndTheCgroupAndReturnsTheExitStatus() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").overlay().script("echo secret > /marker; sleep 1000");
        String id = running(b);
        int init = initPid(id);
        assertThat(Host.await(() -> Files.exists(b.upper().resolve("marker")))).isTrue();

        Host.Result r = Host.cli(root, "exec", id, "sh", "-c",
                "cat /marker; hostname; echo pid=$$; for n in mnt uts ipc net cgroup; do readlink /proc/self/ns/$n; done;"
                        + " pwd; exit 7");
        assertThat(r.exit()).as("%s", r).isEqualTo(7);
        assertThat(r.out().lines().toList()).containsExactly("secret", "box", r.out().lines().toList().get(2),
                ns(init, "mnt"), ns(init, "uts"), ns(init, "ipc"), ns(init, "net"), ns(init, "cgroup"), "/");
        // In the container's pid namespace: not pid 1 (that is the init), a small pid there.
        int inner = Integer.parseInt(r.out().lines().toList().get(2).substring(4));
        assertThat(inner).isGreaterThan(1).isLessThan(1000);

        // Detached, with a pid file: the process is in the container's cgroup and pid namespace.
        Path pidFile = base.resolve(id + ".pid");
        ok(Host.cli(root, "exec", "--detach", "--pid-file", pidFile.toString(), id, "sleep", "1000"));
        int pid = Integer.parseInt(Files.readString(pidFile).trim());
        assertThat(ns(pid, "pid")).isEqualTo(ns(init, "pid"));
        assertThat(Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup"))).contains("/hull/" + id);
        assertThat(Host.processesOf(id)).contains(init, pid);

        // user, cwd, env
        Host.Result u = Host.cli(root, "exec", "--user", "1000:1001", "--cwd", "/tmp", "-e", "GREETING=hi", id, "sh",
                "-c", "id -u; id -g; pwd; echo $GREETING");
        ok(u);
        assertThat(u.out().lines().toList()).containsExactly("1000", "1001", "/tmp", "hi");

        ok(Host.cli(root, "delete", "--force", id));
        assertThat(Host.await(() -> !Host.processAlive(pid))).as("exec'd process killed with the container").isTrue();
    }

    @Test
    void execWithAProcessFile() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").script("sleep 1000");
        String id = running(b);
        Path proc = base.resolve(id + "-process.json");
        Files.writeString(proc, "{\"args\": [\"sh\", \"-c\", \"echo $X; pwd\"], \"env\": [\"X=from-file\"],"
                + " \"cwd\": \"/etc\", \"user\": {\"uid\": 0, \"gid\": 0}}");
        Host.Result r = Host.cli(root, "exec", "--process", proc.toString(), id);
        ok(r);
        assertThat(r.out()).isEqualTo("from-file\n/etc\n");
        Files.writeString(proc, "{\"args\": \"sh\"}");
        Host.Result bad = Host.cli(root, "exec", "--process", proc.toString(), id);
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("process.args");
        ok(Host.cli(root, "delete", "--force", id));
    }

    @Test
    void execIntoAStoppedContainerIsAClearError() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").script("true").write();
        String id = Bundles.id("stopped");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        ok(Host.cli(root, "start", id));
        assertThat(Host.await(() -> {
            try {
                return new ContainerRuntime(root).state(id).status().equals("stopped");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        })).isTrue();
        Host.Result r = Host.cli(root, "exec", id, "true");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot exec in container \"" + id + "\": it is stopped");
        ok(Host.cli(root, "delete", id));
    }

    /** Accepts one connection on a fresh console socket and returns the pty master it receives. */
    static CompletableFuture<Integer> consoleListener(Path socket) throws LinuxException {
        int listen = UnixSocket.listen(socket.toString(), 1);
        return CompletableFuture.supplyAsync(() -> {
            try {
                int conn = UnixSocket.accept(listen);
                try {
                    UnixSocket.Message m = UnixSocket.receive(conn, 4096, 1);
                    assertThat(new String(m.data(), StandardCharsets.US_ASCII)).isEqualTo("/dev/ptmx");
                    assertThat(m.fds()).hasSize(1);
                    return m.fds()[0];
                } finally {
                    Syscalls.close(conn);
                }
            } catch (LinuxException e) {
                throw new AssertionError(e);
            } finally {
                Syscalls.close(listen);
            }
        });
    }

    /** Everything the pty master yields until the slave side is closed (EIO). */
    static String readAll(int master) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (;;) {
                int n = Syscalls.read(master, buf, 0, buf.length);
                if (n <= 0) {
                    break;
                }
                out.write(buf, 0, n);
            }
        } catch (LinuxException e) {
            // EIO: the container closed the terminal
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void consoleSocketGetsAWorkingPtyMasterWithTheConsoleSize() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").args("sh");
        b.process().put("terminal", true);
        b.process().putObject("consoleSize").put("height", 33).put("width", 101);
        b.write();
        String id = Bundles.id("tty");
        Path sock = base.resolve(id + ".sock");
        CompletableFuture<Integer> master = consoleListener(sock);
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), "--console-socket", sock.toString(), id));
        int m = master.get(60, TimeUnit.SECONDS);
        try {
            ok(Host.cli(root, "start", id));
            Syscalls.writeFully(m, "echo hi-$((40+2)); tty; stty size; exit 5\n".getBytes(StandardCharsets.US_ASCII));
            String out = readAll(m);
            assertThat(out).contains("hi-42").contains("/dev/pts/0").contains("33 101");
        } finally {
            Syscalls.close(m);
        }
        ok(Host.cli(root, "delete", "--force", id));
    }

    @Test
    void execWithATerminalOnAConsoleSocket() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").script("sleep 1000");
        String id = running(b);
        Path sock = base.resolve(id + ".sock");
        CompletableFuture<Integer> master = consoleListener(sock);
        ok(Host.cli(root, "exec", "--tty", "--detach", "--console-socket", sock.toString(), id, "sh"));
        int m = master.get(60, TimeUnit.SECONDS);
        try {
            Syscalls.writeFully(m, "tty; echo $((6*7)); exit\n".getBytes(StandardCharsets.US_ASCII));
            String out = readAll(m);
            assertThat(out).contains("/dev/pts/").contains("42");
        } finally {
            Syscalls.close(m);
        }
        Host.Result noSocket = Host.cli(root, "exec", "--tty", "--detach", id, "sh");
        assertThat(noSocket.exit()).isEqualTo(1);
        assertThat(noSocket.err()).contains("--console-socket is required");
        ok(Host.cli(root, "delete", "--force", id));
    }

    static void hook(ObjectNode hooks, String phase, String path, String script, Integer timeout) {
        ArrayNode list = hooks.has(phase) ? (ArrayNode) hooks.get(phase) : hooks.putArray(phase);
        ObjectNode h = list.addObject();
        h.put("path", path);
        h.putArray("args").add("sh").add("-c").add(script);
        h.putArray("env").add("PATH=/usr/sbin:/usr/bin:/sbin:/bin").add("PHASE=" + phase);
        if (timeout != null) {
            h.put("timeout", timeout);
        }
    }

    @Test
    void hooksRunInTheirNamespacesWithTheStateOnStdin() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").script("echo started > /out/main; sleep 1000");
        String out = b.out.toString();
        ObjectNode hooks = b.config.putObject("hooks");
        for (String phase : new String[] {"prestart", "createRuntime", "poststart", "poststop"}) {
            hook(hooks, phase, "/bin/sh", "cat > " + out + "/$PHASE.json; readlink /proc/self/ns/mnt > " + out
                    + "/$PHASE.ns", null);
        }
        // createContainer: in the container's namespaces, before pivot_root (host paths still visible)
        hook(hooks, "createContainer", "/bin/sh", "cat > " + out + "/$PHASE.json; readlink /proc/self/ns/mnt > "
                + out + "/$PHASE.ns", null);
        // startContainer: in the container, after pivot_root: its own /bin/sh, /out is the bind mount
        hook(hooks, "startContainer", "/bin/sh", "cat > /out/$PHASE.json; readlink /proc/self/ns/mnt > /out/$PHASE.ns;"
                + " if test -e /out/main; then echo main-ran-first > /out/order; fi", null);
        b.write();
        String id = Bundles.id("hooks");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        int init = initPid(id);
        String hostMnt = Host.readlink("/proc/self/ns/mnt");
        for (String phase : new String[] {"prestart", "createRuntime", "createContainer"}) {
            JsonNode st = Bundles.JSON.readTree(b.out.resolve(phase + ".json").toFile());
            assertThat(st.path("id").asText()).isEqualTo(id);
            assertThat(st.path("status").asText()).as(phase).isEqualTo("creating");
            assertThat(st.path("pid").asInt()).as(phase).isEqualTo(init);
        }
        assertThat(b.out.resolve("startContainer.json")).as("startContainer runs at start").doesNotExist();
        assertThat(Files.readString(b.out.resolve("prestart.ns")).trim()).isEqualTo(hostMnt);
        assertThat(Files.readString(b.out.resolve("createRuntime.ns")).trim()).isEqualTo(hostMnt);
        assertThat(Files.readString(b.out.resolve("createContainer.ns")).trim()).isEqualTo(ns(init, "mnt"));

        ok(Host.cli(root, "start", id));
        assertThat(Host.await(() -> Files.exists(b.out.resolve("main")))).isTrue();
        assertThat(Files.readString(b.out.resolve("startContainer.ns")).trim()).isEqualTo(ns(init, "mnt"));
        JsonNode startState = Bundles.JSON.readTree(b.out.resolve("startContainer.json").toFile());
        assertThat(startState.path("status").asText()).as("startContainer state").isEqualTo("created");
        assertThat(startState.path("pid").asInt()).isEqualTo(init);
        assertThat(startState.path("id").asText()).isEqualTo(id);
        assertThat(b.out.resolve("order")).as("startContainer runs before the user process").doesNotExist();
        assertThat(Bundles.JSON.readTree(b.out.resolve("poststart.json").toFile()).path("status").asText())
                .isEqualTo("running");
        assertThat(Files.readString(b.out.resolve("poststart.ns")).trim()).isEqualTo(hostMnt);
        assertThat(b.out.resolve("poststop.json")).doesNotExist();

        ok(Host.cli(root, "delete", "--force", id));
        JsonNode stopped = Bundles.JSON.readTree(b.out.resolve("poststop.json").toFile());
        assertThat(stopped.path("status").asText()).isEqualTo("stopped");
        assertThat(stopped.path("id").asText()).isEqualTo(id);
    }

    @Test
    void aFailingOrHangingCreateHookFailsCreateAndLeavesNothing() throws Exception {
        record Case(String phase, String script, Integer timeout, String message) {}
        for (Case c : new Case[] {
            new Case("createRuntime", "exit 3", null, "hooks.createRuntime[0] (/bin/sh): exited with status 3"),
            new Case("createRuntime", "sleep 1000", 1, "hooks.createRuntime[0] (/bin/sh): timed out after 1 s"),
            new Case("prestart", "exit 4", null, "hooks.prestart[0] (/bin/sh): exited with status 4"),
            new Case("createContainer", "sleep 1000", 1, "hook hooks.createContainer[0] (/bin/sh): timed out after 1 s"),
            new Case("createContainer", "exit 5", null, "hook hooks.createContainer[0] (/bin/sh): exited with status 5")}) {
            Set<String> mounts = Host.mountPoints();
            Bundles.Bundle b = Bundles.create(base, "b").script("sleep 1000");
            hook(b.config.putObject("hooks"), c.phase(), "/bin/sh", c.script(), c.timeout());
            b.write();
            String id = Bundles.id("hookfail");
            Host.Result r = Host.cli(root, "create", "--bundle", b.dir.toString(), id);
            assertThat(r.exit()).as("%s: %s", c, r).isEqualTo(1);
            assertThat(r.err()).as("%s", c).contains(c.message());
            Host.assertNoTraces(root, id, mounts);
            assertThat(Host.cli(root, "state", id).exit()).isEqualTo(1);
        }
    }

    @Test
    void aPoststartHookOfAShortLivedProcessGetsTheRunningState() throws Exception {
        // the process may be gone by the time the hook runs: its state is still the started one's
        Bundles.Bundle b = Bundles.create(base, "b").script("true");
        hook(b.config.putObject("hooks"), "poststart", "/bin/sh", "sleep 0.5; cat > " + b.out + "/poststart.json", null);
        b.write();
        String id = Bundles.id("shortlived");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        int init = initPid(id);
        ok(Host.cli(root, "start", id));
        JsonNode st = Bundles.JSON.readTree(b.out.resolve("poststart.json").toFile());
        assertThat(st.path("status").asText()).isEqualTo("running");
        assertThat(st.path("pid").asInt()).isEqualTo(init);
        ok(Host.cli(root, "delete", "--force", id));
    }

    @Test
    void aFailingPoststartHookIsAWarning() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").script("sleep 1000");
        hook(b.config.putObject("hooks"), "poststart", "/bin/sh", "exit 9", null);
        hook((ObjectNode) b.config.get("hooks"), "poststop", "/bin/sh", "exit 8", null);
        b.write();
        String id = Bundles.id("poststart");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        Host.Result r = Host.cli(root, "start", id);
        ok(r);
        assertThat(r.err()).contains("warning").contains("hooks.poststart[0]").contains("status 9");
        Host.Result d = Host.cli(root, "delete", "--force", id);
        ok(d);
        assertThat(d.err()).contains("warning").contains("hooks.poststop[0]").contains("status 8");
    }

    /** Runs hull-runtime under script(1), which gives it a terminal; returns exit code and output. */
    static Host.Result underScript(String... args) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")),
                "needs script(1) from util-linux to give the CLI a terminal");
        StringBuilder cmd = new StringBuilder();
        for (String a : Host.cliCommand(root, args)) {
            cmd.append('\'').append(a.replace("'", "'\\''")).append("' ");
        }
        Path outFile = Files.createTempFile("hull-rt-script-", ".out");
        try {
            java.lang.Process p = new ProcessBuilder("script", "-qec", cmd.toString(), "/dev/null")
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(outFile.toFile()).redirectErrorStream(true).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("script finished").isTrue();
            return new Host.Result(p.exitValue(), Files.readString(outFile), "");
        } finally {
            Files.deleteIfExists(outFile);
        }
    }

    @Test
    void foregroundRunAndExecAttachTheCallersTerminal() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").args("sh", "-c", "tty; stty size; echo done; exit 3");
        b.process().put("terminal", true);
        b.process().putObject("consoleSize").put("height", 20).put("width", 70);
        b.write();
        String id = Bundles.id("fg");
        Host.Result r = underScript("run", "--bundle", b.dir.toString(), id);
        assertThat(r.exit()).as("%s", r).isEqualTo(3);
        assertThat(r.out()).contains("/dev/pts/0").contains("20 70").contains("done");
        assertThat(Host.cli(root, "state", id).exit()).as("foreground run deletes the container").isEqualTo(1);

        Bundles.Bundle c = Bundles.create(base, "b").script("sleep 1000");
        String rid = running(c);
        Host.Result e = underScript("exec", "--tty", rid, "sh", "-c", "tty; exit 4");
        assertThat(e.exit()).as("%s", e).isEqualTo(4);
        assertThat(e.out()).contains("/dev/pts/");
        ok(Host.cli(root, "delete", "--force", rid));
    }
}
