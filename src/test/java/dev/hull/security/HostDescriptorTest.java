package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.Monitor;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * No process of a container holds a descriptor of the host that its spec did not ask for. The
 * container's monitor keeps a handle on the host's network namespace (it tears down host links and
 * rules from there when the container ends), its log, its attach and console sockets: a new init is
 * cloned from it, so it had copies of all of them (close-on-exec) until its exec. A created init
 * waits for its start before that exec; a process exec'd into the container with CAP_SYS_PTRACE (no
 * user namespace) may open the init's /proc/1/fd/N meanwhile, and a setns into the host's network
 * namespace undoes the container's network isolation. The host lists each process's /proc/PID/fd
 * and reads every link: the waiting init, the started one, and a process exec'd into the container.
 */
class HostDescriptorTest {
    static RuntimeBox rbox;
    static final List<String> NAMESPACES = List.of("net", "mnt", "pid", "uts", "ipc", "user", "cgroup", "time");

    @BeforeAll
    static void setUp() throws Exception {
        rbox = new RuntimeBox("hostfd");
    }

    @AfterAll
    static void tearDown() throws Exception {
        rbox.close();
    }

    /** fd number -> link target of every descriptor pid holds (read from the host). */
    static TreeMap<Integer, String> fds(long pid) throws Exception {
        TreeMap<Integer, String> m = new TreeMap<>();
        try (var list = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : list.toList()) {
                try {
                    m.put(Integer.parseInt(fd.getFileName().toString()), Files.readSymbolicLink(fd).toString());
                } catch (NoSuchFileException closed) {
                    // closed while listed
                }
            }
        }
        return m;
    }

    static boolean namespace(String target) {
        return NAMESPACES.stream().anyMatch(t -> target.startsWith(t + ":[") || target.startsWith(t + "_for_children:["));
    }

    /** The monitor's pipes, or the container's /dev/null (read from the host: "/null", its /dev is a tmpfs). */
    static boolean stdio(String target) {
        return target.startsWith("pipe:[") || target.equals("/dev/null") || target.equals("/null");
    }

    static String hostNetns() throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
    }

    static long ppid(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    /** Waits (up to 20 s) until pid runs the container's program (its exec is done). */
    static void awaitExec(long pid, String comm) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!Files.readString(Path.of("/proc/" + pid + "/comm")).strip().equals(comm)) {
            assertThat(System.nanoTime()).as("pid %d execs %s within 20 s", pid, comm).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    /** A busybox bundle running args directly (stdio: the monitor's pipes), with its own network namespace. */
    static RuntimeBox.Bundle bundle(String name, String... args) throws Exception {
        RuntimeBox.Bundle b = rbox.bundle(name);
        ArrayNode a = ((ObjectNode) b.config.get("process")).putArray("args");
        for (String s : args) {
            a.add(s);
        }
        // CAP_SYS_PTRACE: what lets the container's processes open a waiting init's fds at all
        for (String set : new String[] {"bounding", "effective", "permitted"}) {
            ((ArrayNode) b.config.get("process").get("capabilities").get(set)).add("CAP_SYS_PTRACE");
        }
        b.write();
        return b;
    }

    static ContainerRuntime monitored(Path dir) throws Exception {
        Files.createDirectories(dir);
        return new ContainerRuntime(rbox.dir.resolve("state")).withMonitor(new Monitor(dir.resolve("status.json"), null,
                0, 1, Monitor.RestartPolicy.NO, dir.resolve("stopped"), false, "", List.of(), List.of(), false, null));
    }

    @Test
    void theInitOfAMonitoredContainerHoldsNoHostNamespaceNorTheMonitorsDescriptors() throws Exception {
        RuntimeBox.Bundle b = bundle("monitored", "sleep", "1000");
        String id = rbox.id("hostfd");
        Path mon = rbox.dir.resolve("monitor-" + id);
        ContainerRuntime rt = monitored(mon);
        int pid = rt.create(id, b.dir, null).pid();
        try {
            String host = hostNetns();
            // the premise: the monitor (the init's parent) does hold the host's network namespace
            TreeMap<Integer, String> monitorFds = fds(ppid(pid));
            assertThat(monitorFds.values()).as("the monitor's descriptors").contains(host);
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString())
                    .as("the container has a network namespace of its own").isNotEqualTo(host);

            TreeMap<Integer, String> waiting = fds(pid);
            assertThat(waiting.values()).as("the waiting init's descriptors %s", waiting)
                    .noneMatch(HostDescriptorTest::namespace)
                    .noneMatch(t -> t.startsWith("socket:"))
                    .noneMatch(t -> t.startsWith("anon_inode:[pidfd]"))
                    .noneMatch(t -> t.startsWith(mon.toString()));
            // stdio: the monitor's pipes; nothing else of the monitor's (its log, status or directory)
            assertThat(List.of(waiting.get(0), waiting.get(1), waiting.get(2))).as("stdio %s", waiting)
                    .allMatch(HostDescriptorTest::stdio);

            rt.start(id);
            awaitExec(pid, "sleep");
            TreeMap<Integer, String> running = fds(pid);
            assertThat(running.keySet()).as("the running init's descriptors %s", running).containsExactly(0, 1, 2);
            assertThat(running.values()).as("%s", running).allMatch(HostDescriptorTest::stdio);
        } finally {
            rbox.rt.delete(id, true);
        }
    }

    @Test
    void aProcessExecdIntoTheContainerHoldsOnlyItsStdio() throws Exception {
        // The exec'd process's executor opens nothing of the host's but what the plan names; its LSM
        // label write (none on a host without AppArmor or SELinux) opens its procfs for that write only.
        RuntimeBox.Bundle b = bundle("execd", "sleep", "1000");
        String id = rbox.id("hostfd-exec");
        ContainerRuntime rt = monitored(rbox.dir.resolve("monitor-" + id));
        rt.create(id, b.dir, null);
        try {
            rt.start(id);
            Path pidFile = rbox.dir.resolve("exec-" + id + ".pid");
            String home = Path.of(System.getProperty("hull.home", System.getProperty("user.dir"))).toAbsolutePath().toString();
            Path log = rbox.dir.resolve("exec-" + id + ".log");
            ProcessBuilder pb = new ProcessBuilder(home + "/bin/hull-runtime", "--root", rbox.dir.resolve("state").toString(),
                    "exec", "-d", "--pid-file", pidFile.toString(), id, "sleep", "999")
                    .redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().put("HULL_NO_SERVICE", "1");
            pb.environment().put("HULL_CLASSPATH", System.getProperty("java.class.path")); // this build's classes
            Process p = pb.start();
            assertThat(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).as("hull-runtime exec -d ends").isTrue();
            assertThat(p.exitValue()).as("hull-runtime exec -d: %s", Files.readString(log)).isZero();
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            awaitExec(pid, "sleep");
            TreeMap<Integer, String> held = fds(pid);
            List<String> bad = new ArrayList<>();
            held.forEach((fd, t) -> {
                if (fd > 2 || namespace(t) || t.equals("/") || t.startsWith("/proc")) {
                    bad.add(fd + " -> " + t);
                }
            });
            assertThat(bad).as("the exec'd process's descriptors %s", held).isEmpty();
        } finally {
            rbox.rt.delete(id, true);
        }
    }
}
