package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.SnapshotStore;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull stats, top, pause, unpause and update on real containers (the CLI in its own JVM, a private
 * store): the limits a container was given show in its stats, a CPU quota shows in its CPU %, top
 * lists its processes, pause freezes it, and update changes its cgroup and keeps the change for the
 * next start.
 */
class ContainerStatsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;
    static HullCommand hull;
    final List<String> made = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-stats-");
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of());
    }

    @AfterEach
    void removeContainers() throws Exception {
        for (String name : made) {
            HullCommand.Result r = hull.run("rm", "-f", name);
            assertThat(r.exit()).as(r.toString()).isZero();
        }
        made.clear();
    }

    @AfterAll
    static void tearDown() throws Exception {
        SnapshotStore.deleteTree(dir);
    }

    /** hull run -d --name NAME args...; returns the container id. */
    String runDetached(String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("run", "-d", "--name", name));
        cmd.addAll(List.of(args));
        made.add(name);
        HullCommand.Result r = hull.run(cmd.toArray(String[]::new));
        assertThat(r.exit()).as(r.toString()).isZero();
        return r.out().strip();
    }

    static String name(String what) {
        return what + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static JsonNode statsJson(String name) throws Exception {
        HullCommand.Result r = hull.run("stats", "--no-stream", "--format", "json", name);
        assertThat(r.exit()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).as(r.toString()).hasSize(1);
        return JSON.readTree(lines.get(0));
    }

    static JsonNode inspect(String name) throws Exception {
        HullCommand.Result r = hull.run("inspect", name);
        assertThat(r.exit()).as(r.toString()).isZero();
        return JSON.readTree(r.out()).get(0);
    }

    /** The directory of a controller's files for the container's cgroup (v1 hierarchy or cgroup2 leaf). */
    static Path cgroupDir(String name, String v1, String v2) throws Exception {
        String path = inspect(name).path("Hull").path("CgroupPath").asText();
        assertThat(path).isNotEmpty();
        CgroupResources.Target t = new CgroupResources(CgroupLayout.detect(), path).target(v1, v2);
        assertThat(t).as("%s controller for %s", v1, path).isNotNull();
        return t.dir();
    }

    static String memoryLimit(String name) throws Exception {
        Path d = cgroupDir(name, "memory", "memory");
        Path v1 = d.resolve("memory.limit_in_bytes");
        return Files.readString(Files.exists(v1) ? v1 : d.resolve("memory.max")).strip();
    }

    static boolean await(BooleanSupplier cond, long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) {
            if (cond.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50);
        }
        return cond.getAsBoolean();
    }

    static long logLines(String id) {
        try {
            return Files.readAllLines(dir.resolve("home/containers").resolve(id).resolve(id + "-json.log")).size();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------- stats

    @Test
    void statsShowTheMemoryLimitAndThePids() throws Exception {
        String n = name("limits");
        String id = runDetached(n, "-m", "64m", "--pids-limit", "50", "--network", "none", "busybox", "sh", "-c",
                "sleep 1001 & sleep 1002 & wait");
        assertThat(await(() -> {
            try {
                return statsJson(n).path("PIDs").asText().equals("3");
            } catch (Exception e) {
                return false;
            }
        }, 10_000)).as("three processes counted").isTrue();
        JsonNode s = statsJson(n);
        assertThat(s.path("Name").asText()).isEqualTo(n);
        assertThat(s.path("Container").asText()).isEqualTo(n);
        assertThat(s.path("ID").asText()).isEqualTo(id.substring(0, 12));
        assertThat(s.path("MemUsage").asText()).endsWith(" / 64MiB");
        assertThat(s.path("Hull").path("MemoryLimit").asLong()).isEqualTo(64L << 20);
        long usage = s.path("Hull").path("MemoryUsage").asLong();
        assertThat(usage).isPositive().isLessThan(64L << 20);
        assertThat(s.path("Hull").path("MemoryPercent").asDouble()).isCloseTo(100.0 * usage / (64L << 20),
                org.assertj.core.data.Offset.offset(0.01));
        assertThat(s.path("Hull").path("Pids").asLong()).isEqualTo(3);
        assertThat(s.path("NetIO").asText()).isEqualTo("0B / 0B"); // --network none: only its own loopback
        assertThat(s.path("CPUPerc").asText()).matches("\\d+\\.\\d\\d%");

        // the table: docker's columns, this container's row
        HullCommand.Result t = hull.run("stats", "--no-stream");
        assertThat(t.exit()).as(t.toString()).isZero();
        List<String> lines = t.out().lines().toList();
        assertThat(lines.get(0)).startsWith("CONTAINER ID").contains("NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
                "NET I/O", "BLOCK I/O").endsWith("PIDS");
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith(id.substring(0, 12)).contains(n, "/ 64MiB")
                .endsWith(" 3"));
    }

    @Test
    void aCpuQuotaOfHalfACpuShowsAsAboutFiftyPercent() throws Exception {
        String n = name("burn");
        runDetached(n, "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done");
        Thread.sleep(1000);
        // The quota caps it at 50% of one CPU, so no reading may be above ~70%. A host whose CPUs other
        // work keeps busy gives it less than its quota: a reading under 30% only counts against stats when
        // the host had CPU to spare meanwhile (at least half a CPU idle).
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            long[] before = hostCpuTicks();
            double cpu = statsJson(n).path("Hull").path("CPUPercent").asDouble();
            long[] after = hostCpuTicks();
            double idleCpus = (double) (after[1] - before[1]) / (after[0] - before[0])
                    * Runtime.getRuntime().availableProcessors();
            seen.add(String.format(java.util.Locale.ROOT, "%.2f%% (host idle %.2f CPUs)", cpu, idleCpus));
            assertThat(cpu).as("readings %s", seen).isGreaterThan(0.0).isLessThanOrEqualTo(70.0);
            if (cpu >= 30.0) {
                return;
            }
            assertThat(idleCpus).as("a reading under 30%% while the host had CPU to spare: %s", seen)
                    .isLessThan(0.5);
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(false, "the host was too busy to give the container its"
                + " half CPU: " + seen);
    }

    /** The host's CPU time so far, in ticks: {all, idle (with iowait)}, from /proc/stat's cpu line. */
    static long[] hostCpuTicks() throws Exception {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
            all += Long.parseLong(f[i]);
        }
        return new long[] {all, Long.parseLong(f[4]) + Long.parseLong(f[5])};
    }

    @Test
    void hostNetworkShowsNoNetIoAndStoppedContainersShowZerosWithAll() throws Exception {
        String n = name("hostnet");
        runDetached(n, "--network", "host", "busybox", "sleep", "1000");
        assertThat(statsJson(n).path("NetIO").asText()).isEqualTo("--");
        HullCommand.Result stop = hull.run("stop", "-t", "0", n);
        assertThat(stop.exit()).as(stop.toString()).isZero();
        JsonNode s = statsJson(n);
        assertThat(s.path("Hull").path("Running").asBoolean()).isFalse();
        assertThat(s.path("MemUsage").asText()).isEqualTo("0B / 0B");
        assertThat(s.path("PIDs").asText()).isEqualTo("0");
        // without -a, stats of everything leaves the stopped container out; with -a it is there
        HullCommand.Result r = hull.run("stats", "--no-stream", "--format", "json");
        assertThat(r.out()).doesNotContain(n);
        r = hull.run("stats", "--no-stream", "-a", "--format", "json");
        assertThat(r.out()).contains("\"Name\":\"" + n + "\"");
    }

    @Test
    void withoutNoStreamStatsPrintsAReadingEverySecondUntilStopped() throws Exception {
        String n = name("stream");
        runDetached(n, "busybox", "sleep", "1000");
        Process p = hull.builder("stats", "--format", "json", n).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
                for (String l; (l = in.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (java.io.IOException ignored) {
                // the process was stopped
            }
        });
        try {
            assertThat(await(() -> lines.size() >= 3, 60_000)).as("three readings: %s", lines).isTrue();
            assertThat(p.isAlive()).as("still going").isTrue();
        } finally {
            p.destroy(); // SIGTERM, as Ctrl-C's SIGINT: the JVM ends
            assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            reader.join(10_000);
        }
        for (String l : lines) {
            assertThat(JSON.readTree(l).path("Name").asText()).as(l).isEqualTo(n);
        }
    }

    @Test
    void statsOfAContainerThatDoesNotExistFails() throws Exception {
        HullCommand.Result r = hull.run("stats", "--no-stream", "no-such-container");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("no such container: no-such-container");
    }

    // ---------------------------------------------------------------- top

    @Test
    void topListsTheShellAndItsBackgroundSleep() throws Exception {
        String n = name("top");
        runDetached(n, "busybox", "sh", "-c", "sleep 1003 & wait");
        JsonNode[] top = new JsonNode[1];
        assertThat(await(() -> {
            try {
                HullCommand.Result r = hull.run("top", "--format", "json", n);
                top[0] = JSON.readTree(r.out());
                return top[0].path("Processes").size() == 2;
            } catch (Exception e) {
                return false;
            }
        }, 10_000)).as("two processes: %s", top[0]).isTrue();
        assertThat(top[0].path("Titles").toString()).isEqualTo(
                "[\"UID\",\"PID\",\"PPID\",\"C\",\"STIME\",\"TTY\",\"TIME\",\"CMD\"]");
        JsonNode sh = top[0].path("Processes").get(0);
        JsonNode sleep = top[0].path("Processes").get(1);
        assertThat(sh.get(7).asText()).isEqualTo("sh -c sleep 1003 & wait");
        assertThat(sleep.get(7).asText()).isEqualTo("sleep 1003");
        assertThat(sleep.get(2).asText()).as("the sleep's parent is the shell").isEqualTo(sh.get(1).asText());
        assertThat(sh.get(0).asText()).isEqualTo("root");
        assertThat(sh.get(5).asText()).isEqualTo("?");
        assertThat(sh.get(6).asText()).matches("\\d\\d:\\d\\d:\\d\\d");
        // the shell's pid is the init's (host pid), as inspect tells
        assertThat(sh.get(1).asInt()).isEqualTo(inspect(n).path("State").path("Pid").asInt());

        HullCommand.Result table = hull.run("top", n);
        assertThat(table.exit()).as(table.toString()).isZero();
        assertThat(table.out().lines().findFirst().orElse("")).matches(
                "UID +PID +PPID +C +STIME +TTY +TIME +CMD");
        assertThat(table.out()).contains("sleep 1003\n").hasLineCount(3);

        // ps options go to the host's ps, rows kept for the container's pids
        HullCommand.Result ps = hull.run("top", n, "-o", "pid,args");
        assertThat(ps.exit()).as(ps.toString()).isZero();
        assertThat(ps.out()).hasLineCount(3).contains("sleep 1003");
    }

    @Test
    void topOfAStoppedContainerFails() throws Exception {
        String n = name("topstopped");
        made.add(n);
        HullCommand.Result c = hull.run("create", "--name", n, "busybox", "true");
        assertThat(c.exit()).as(c.toString()).isZero();
        HullCommand.Result r = hull.run("top", n);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("is not running");
    }

    // ---------------------------------------------------------------- pause / unpause

    @Test
    void pauseFreezesTheContainerAndUnpauseLetsItGoOn() throws Exception {
        String n = name("pause");
        String id = runDetached(n, "busybox", "sh", "-c", "i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done");
        assertThat(await(() -> logLines(id) > 3, 10_000)).as("it writes").isTrue();

        HullCommand.Result p = hull.run("pause", n);
        assertThat(p.exit()).as(p.toString()).isZero();
        assertThat(p.out()).isEqualTo(n + "\n");
        HullCommand.Result ps = hull.run("ps");
        assertThat(ps.out().lines().filter(l -> l.endsWith(n)).findFirst().orElse("")).matches(".*Up .* \\(Paused\\).*");
        assertThat(inspect(n).path("State").path("Status").asText()).isEqualTo("paused");
        long frozen = logLines(id);
        Thread.sleep(1000);
        assertThat(logLines(id)).as("no output while paused").isEqualTo(frozen);
        // a paused container still has stats (its processes are there)
        assertThat(statsJson(n).path("Hull").path("Pids").asLong()).isPositive();

        HullCommand.Result again = hull.run("pause", n);
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("already paused");

        HullCommand.Result u = hull.run("unpause", n);
        assertThat(u.exit()).as(u.toString()).isZero();
        assertThat(await(() -> logLines(id) > frozen + 3, 10_000)).as("it writes again").isTrue();
        assertThat(inspect(n).path("State").path("Status").asText()).isEqualTo("running");
        HullCommand.Result notPaused = hull.run("unpause", n);
        assertThat(notPaused.exit()).isEqualTo(1);
        assertThat(notPaused.err()).contains("is not paused");
    }

    @Test
    void aPausedContainerCanBeStopped() throws Exception {
        String n = name("pausestop");
        runDetached(n, "busybox", "sleep", "1000");
        assertThat(hull.run("pause", n).exit()).isZero();
        HullCommand.Result s = hull.run("stop", "-t", "1", n);
        assertThat(s.exit()).as(s.toString()).isZero();
        assertThat(inspect(n).path("State").path("Status").asText()).isEqualTo("exited");
    }

    // ---------------------------------------------------------------- update

    @Test
    void updateChangesTheCgroupAndTheNextStartKeepsIt() throws Exception {
        String n = name("update");
        runDetached(n, "-m", "64m", "busybox", "sleep", "1000");
        assertThat(memoryLimit(n)).isEqualTo(Long.toString(64L << 20));

        HullCommand.Result r = hull.run("update", "--memory", "96m", "--pids-limit", "30", "--cpus", "0.5", n);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo(n + "\n");
        assertThat(memoryLimit(n)).isEqualTo(Long.toString(96L << 20));
        assertThat(Files.readString(cgroupDir(n, "pids", "pids").resolve("pids.max")).strip()).isEqualTo("30");
        Path cpu = cgroupDir(n, "cpu", "cpu");
        if (Files.exists(cpu.resolve("cpu.cfs_quota_us"))) {
            assertThat(Files.readString(cpu.resolve("cpu.cfs_quota_us")).strip()).isEqualTo("50000");
        } else {
            assertThat(Files.readString(cpu.resolve("cpu.max")).strip()).isEqualTo("50000 100000");
        }
        JsonNode hc = inspect(n).path("HostConfig");
        assertThat(hc.path("Memory").asLong()).isEqualTo(96L << 20);
        assertThat(hc.path("PidsLimit").asLong()).isEqualTo(30);
        assertThat(hc.path("NanoCpus").asLong()).isEqualTo(500_000_000L);
        assertThat(statsJson(n).path("Hull").path("MemoryLimit").asLong()).isEqualTo(96L << 20);

        HullCommand.Result stop = hull.run("stop", "-t", "0", n);
        assertThat(stop.exit()).as(stop.toString()).isZero();
        HullCommand.Result start = hull.run("start", n);
        assertThat(start.exit()).as(start.toString()).isZero();
        assertThat(memoryLimit(n)).as("after stop/start").isEqualTo(Long.toString(96L << 20));
        assertThat(Files.readString(cgroupDir(n, "pids", "pids").resolve("pids.max")).strip()).isEqualTo("30");

        // lifting limits: --pids-limit 0 and --cpus 0 mean none
        r = hull.run("update", "--pids-limit", "0", "--cpus", "0", n);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(Files.readString(cgroupDir(n, "pids", "pids").resolve("pids.max")).strip()).isEqualTo("max");
        hc = inspect(n).path("HostConfig");
        assertThat(hc.path("PidsLimit").asLong()).isZero();
        assertThat(hc.path("NanoCpus").asLong()).isZero();
    }

    @Test
    void updateOfAStoppedContainerIsKeptForItsStart() throws Exception {
        String n = name("updcreated");
        made.add(n);
        HullCommand.Result c = hull.run("create", "--name", n, "busybox", "sleep", "1000");
        assertThat(c.exit()).as(c.toString()).isZero();
        HullCommand.Result r = hull.run("update", "-m", "48m", n);
        assertThat(r.exit()).as(r.toString()).isZero();
        HullCommand.Result s = hull.run("start", n);
        assertThat(s.exit()).as(s.toString()).isZero();
        assertThat(memoryLimit(n)).isEqualTo(Long.toString(48L << 20));
    }

    @Test
    void aRefusedUpdateIsNotKept() throws Exception {
        String n = name("refused");
        String id = runDetached(n, "-m", "64m", "busybox", "sleep", "1000");
        Path config = dir.resolve("home/containers").resolve(id).resolve("config.json");
        String before = Files.readString(config);
        // no CPU 4095 on this machine: the kernel refuses the cpuset
        HullCommand.Result r = hull.run("update", "--cpuset-cpus", "4095", n);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains(n).contains("cpuset.cpus");
        assertThat(Files.readString(config)).isEqualTo(before);
        assertThat(inspect(n).path("HostConfig").path("CpusetCpus").asText()).isEmpty();

        r = hull.run("update", "--memory-swap", "32m", n);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("--memory-swap must be at least --memory");
        r = hull.run("update", n);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("nothing to change");
        r = hull.run("update", "--restart", "sometimes", n);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("use no, on-failure[:N], always or unless-stopped");
        assertThat(Files.readString(config)).isEqualTo(before);
        assertThat(memoryLimit(n)).isEqualTo(Long.toString(64L << 20));
    }

    @Test
    void aNewRestartPolicyAppliesToTheRunningContainer() throws Exception {
        String n = name("restart");
        runDetached(n, "busybox", "sleep", "1000");
        HullCommand.Result r = hull.run("update", "--restart", "always", n);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(inspect(n).path("HostConfig").path("RestartPolicy").path("Name").asText()).isEqualTo("always");
        assertThat(hull.run("kill", n).exit()).isZero();
        assertThat(await(() -> {
            try {
                JsonNode i = inspect(n);
                return i.path("RestartCount").asInt() == 1 && i.path("State").path("Status").asText().equals("running");
            } catch (Exception e) {
                return false;
            }
        }, 15_000)).as("restarted by its monitor under the new policy").isTrue();

        r = hull.run("update", "--restart", "no", n);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(hull.run("kill", n).exit()).isZero();
        assertThat(await(() -> {
            try {
                return inspect(n).path("State").path("Status").asText().equals("exited");
            } catch (Exception e) {
                return false;
            }
        }, 15_000)).as("not restarted once the policy is no").isTrue();
        assertThat(inspect(n).path("RestartCount").asInt()).isEqualTo(1);
    }

    @Test
    void anRmContainerTakesNoRestartPolicy() throws Exception {
        String n = name("rmrestart");
        made.add(n);
        HullCommand.Result c = hull.run("create", "--rm", "--name", n, "busybox", "true");
        assertThat(c.exit()).as(c.toString()).isZero();
        HullCommand.Result r = hull.run("update", "--restart", "always", n);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("--rm");
    }

    @Test
    void helpShowsExamples() throws Exception {
        for (String cmd : new String[] {"stats", "top", "pause", "unpause", "update"}) {
            HullCommand.Result r = hull.run(cmd, "--help");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).as(cmd).contains("Example").contains("hull " + cmd);
        }
        HullCommand.Result r = hull.run("container", "stats", "--help");
        assertThat(r.exit()).as(r.toString()).isZero();
    }
}
