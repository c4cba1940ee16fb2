package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docker flags a docker user types without thinking, end to end: what the container sees of --domainname,
 * --sysctl, --oom-score-adj, --shm-size and --group-add; --cidfile, --label-file, exec --env-file, ps -n/-l/-s
 * and logs --details through the CLI; and docker's refusals.
 */
class DockerParityFlagsTest {
    static Flags f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("parity-flags");
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    @Test
    void specFlagsReachTheContainer() throws Exception {
        String out = f.output("--rm", "--network", "none", "--domainname", "example.org", "--sysctl",
                "kernel.shmmax=123456", "--sysctl", "net.ipv4.ip_forward=1", "--oom-score-adj", "500", "--shm-size", "8m",
                "--group-add", "1234", "--group-add", "tty", "busybox", "sh", "-c", "cat /proc/sys/kernel/domainname"
                        + " /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj;"
                        + " df -k /dev/shm | tail -1 | awk '{print $2}'; id -G");
        assertThat(out).isEqualTo("example.org\n123456\n1\n500\n8192\n0 5 1234\n");
    }

    @Test
    void cgroupFlagsReachTheCgroup() throws Exception {
        f.hull.ok("run", "-d", "--name", "pf-cg", "--network", "none", "--cpu-period", "50000", "--cpu-quota", "25000",
                "--cpuset-mems", "0", "--memory-reservation", "32m", "busybox", "sleep", "300");
        try {
            String path = f.hull.ok("inspect", "-f", "{{.Hull.CgroupPath}}", "pf-cg").out().strip();
            var cg = new dev.hull.linux.cgroup.CgroupResources(dev.hull.linux.cgroup.CgroupLayout.detect(), path);
            Path cpu = cg.target("cpu", "cpu").dir();
            Path mem = cg.target("memory", "memory").dir();
            Path cpuset = cg.target("cpuset", "cpuset").dir();
            if (Files.exists(cpu.resolve("cpu.cfs_quota_us"))) { // cgroup v1
                assertThat(Files.readString(cpu.resolve("cpu.cfs_period_us")).strip()).isEqualTo("50000");
                assertThat(Files.readString(cpu.resolve("cpu.cfs_quota_us")).strip()).isEqualTo("25000");
                assertThat(Files.readString(mem.resolve("memory.soft_limit_in_bytes")).strip()).isEqualTo("33554432");
            } else {
                assertThat(Files.readString(cpu.resolve("cpu.max")).strip()).isEqualTo("25000 50000");
                assertThat(Files.readString(mem.resolve("memory.low")).strip()).isEqualTo("33554432");
            }
            assertThat(Files.readString(cpuset.resolve("cpuset.mems")).strip()).isEqualTo("0");
            assertThat(f.hull.ok("inspect", "-f", "{{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}}"
                    + " {{.HostConfig.CpusetMems}} {{.HostConfig.MemoryReservation}} {{.HostConfig.ShmSize}}", "pf-cg")
                    .out()).isEqualTo("50000 25000 0 33554432 67108864\n");
        } finally {
            f.hull.run("rm", "-f", "pf-cg");
        }
    }

    @Test
    void badValuesAreRefusedAsDockerDoes() throws Exception {
        for (var c : java.util.List.of(
                new String[] {"--sysctl", "vm.swappiness=1", "--sysctl vm.swappiness: not allowed"},
                new String[] {"--sysctl", "kernel.domainname", "--sysctl kernel.domainname: use KEY=VALUE"},
                new String[] {"--oom-score-adj", "1001", "--oom-score-adj 1001: the range is -1000 to 1000"},
                new String[] {"--group-add", "no-such-group", "--group-add no-such-group: no such group"},
                new String[] {"--cpu-period", "999", "CPU cfs period can not be less than 1ms"},
                new String[] {"--cpu-quota", "999", "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
                new String[] {"--cpuset-mems", "a", "--cpuset-mems a: use a list"})) {
            HullCommand.Result r = f.hull.run("run", "--rm", "--network", "none", c[0], c[1], "busybox", "true");
            assertThat(r.exit()).as(r.toString()).isEqualTo(125);
            assertThat(r.err()).as(c[0]).startsWith("hull: " + c[2]);
        }
        HullCommand.Result r = f.hull.run("run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1",
                "busybox", "true");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("not allowed with --network host");
        r = f.hull.run("run", "--rm", "--cpus", "1", "--cpu-period", "50000", "busybox", "true");
        assertThat(r.err()).isEqualTo("hull: Conflicting options: Nano CPUs and CPU Period cannot both be set\n");
        r = f.hull.run("run", "--rm", "-m", "16m", "--memory-reservation", "32m", "busybox", "true");
        assertThat(r.err()).isEqualTo("hull: Minimum memory limit can not be less than memory reservation limit, see"
                + " usage\n");
    }

    @Test
    void cidFileLabelFileAndExecEnvFile() throws Exception {
        Path cid = f.dir.resolve("cid");
        Path labels = f.dir.resolve("labels");
        Files.writeString(labels, "# labels\na=1\nb\n");
        Path env = f.dir.resolve("exec.env");
        Files.writeString(env, "# env\nX=from-file\nY=y\n");
        f.hull.ok("run", "-d", "--name", "pf-cid", "--network", "none", "--cidfile", cid.toString(), "--label-file",
                labels.toString(), "busybox", "sleep", "300");
        try {
            String id = f.hull.ok("inspect", "-f", "{{.Id}}", "pf-cid").out().strip();
            assertThat(Files.readString(cid)).isEqualTo(id);
            assertThat(f.hull.ok("inspect", "-f", "{{json .Config.Labels}}", "pf-cid").out().strip())
                    .isEqualTo("{\"a\":\"1\",\"b\":\"\"}");
            assertThat(f.hull.ok("exec", "--env-file", env.toString(), "-e", "Y=flag", "pf-cid", "sh", "-c",
                    "echo $X $Y").out()).isEqualTo("from-file flag\n");
            // docker refuses a second container with the same --cidfile, before making it
            HullCommand.Result r = f.hull.run("create", "--name", "pf-cid2", "--cidfile", cid.toString(), "busybox");
            assertThat(r.exit()).isEqualTo(125);
            assertThat(r.err()).isEqualTo("hull: container ID file found, make sure the other container isn't running"
                    + " or delete " + cid + "\n");
            assertThat(f.hull.ok("ps", "-a", "-q", "--filter", "name=pf-cid2").out()).isEmpty();
        } finally {
            f.hull.run("rm", "-f", "pf-cid");
        }
    }

    @Test
    void psLastLatestSizeAndLogsDetails() throws Exception {
        for (String n : new String[] {"pf-ps-1", "pf-ps-2", "pf-ps-3"}) {
            f.hull.ok("create", "--name", n, "--network", "none", "busybox", "echo", n);
        }
        try {
            // created, not running: -n and -l take every state, as docker's do
            assertThat(f.hull.ok("ps", "-l", "--filter", "name=pf-ps-", "--format", "{{.Names}}").out())
                    .isEqualTo("pf-ps-3\n");
            assertThat(f.hull.ok("ps", "-n", "2", "--filter", "name=pf-ps-", "--format", "{{.Names}}").out())
                    .as("the two last created, newest first").isEqualTo("pf-ps-3\npf-ps-2\n");
            assertThat(f.hull.ok("ps", "-a", "--filter", "name=pf-ps-", "--format", "{{.Names}}").out())
                    .as("newest first, as docker lists").isEqualTo("pf-ps-3\npf-ps-2\npf-ps-1\n");
            assertThat(f.hull.ok("ps", "--filter", "name=pf-ps-", "-q").out()).as("without -n: running only").isEmpty();
            String table = f.hull.ok("ps", "-a", "-s", "--filter", "name=pf-ps-1").out();
            assertThat(table.lines().findFirst().orElseThrow()).matches(".*NAMES +SIZE");
            f.hull.ok("start", "-a", "pf-ps-1");
            assertThat(f.hull.ok("logs", "--details", "pf-ps-1").out()).isEqualTo("pf-ps-1\n");
        } finally {
            f.hull.run("rm", "-f", "pf-ps-1", "pf-ps-2", "pf-ps-3");
        }
    }

    /** Runs hull with args and expects exit 125 with exactly message on stderr. */
    private static void refused(String message, String... args) throws Exception {
        HullCommand.Result r = f.hull.run(args);
        assertThat(r.exit()).as(String.join(" ", args)).isEqualTo(125);
        assertThat(r.err()).isEqualTo(message);
    }

    @Test
    void attachChoosesTheStreamsThatReachTheCallerAndTheLogKeepsAll() throws Exception {
        String both = "echo to-out; echo to-err >&2";
        HullCommand.Result out = f.hull.run("run", "--name", "pf-attach", "--network", "none", "-a", "stdout",
                "busybox", "sh", "-c", both);
        assertThat(out.exit()).isZero();
        assertThat(out.out()).isEqualTo("to-out\n");
        assertThat(out.err()).isEmpty();
        try {
            HullCommand.Result logs = f.hull.ok("logs", "pf-attach");
            assertThat(logs.out()).isEqualTo("to-out\n");
            assertThat(logs.err()).as("stderr's line is in the log though not shown").isEqualTo("to-err\n");
        } finally {
            f.hull.run("rm", "-f", "pf-attach");
        }
        HullCommand.Result err = f.hull.run("run", "--rm", "--network", "none", "-a", "STDERR", "busybox", "sh", "-c",
                both);
        assertThat(err.out()).isEmpty();
        assertThat(err.err()).isEqualTo("to-err\n");
        refused("hull: invalid argument \"stdnothing\" for \"-a, --attach\" flag: valid streams"
                + " are STDIN, STDOUT and STDERR\n", "run", "--rm", "-a", "stdnothing", "busybox", "true");
        refused("hull: Conflicting options: -a and -d\n", "run", "-d", "-a", "stdout", "busybox", "true");
    }

    @Test
    void logDriversNoneLocalAndRefusals() throws Exception {
        HullCommand.Result none = f.hull.run("run", "--name", "pf-nolog", "--network", "none", "--log-driver", "none",
                "busybox", "echo", "shown anyway");
        try {
            assertThat(none.exit()).isZero();
            assertThat(none.out()).as("an attached run still shows the output").isEqualTo("shown anyway\n");
            HullCommand.Result logs = f.hull.run("logs", "pf-nolog");
            assertThat(logs.exit()).isNotZero();
            assertThat(logs.err()).isEqualTo("hull: configured logging driver does not support reading\n");
            assertThat(f.hull.ok("inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "pf-nolog").out()).isEqualTo("none\n");
            f.hull.ok("create", "--name", "pf-local", "--network", "none", "--log-driver", "local", "busybox", "echo",
                    "kept");
            f.hull.ok("start", "-a", "pf-local");
            assertThat(f.hull.ok("logs", "pf-local").out()).isEqualTo("kept\n");
            assertThat(f.hull.ok("inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "pf-local").out()).isEqualTo("local\n");
        } finally {
            f.hull.run("rm", "-f", "pf-nolog", "pf-local");
        }
        refused("hull: --log-driver syslog: Hull logs with json-file (the default), local or"
                + " none\n", "run", "--rm", "--log-driver", "syslog", "busybox", "true");
        refused("hull: --log-opt max-size: the none log driver takes no options\n", "run", "--rm", "--log-driver",
                "none", "--log-opt", "max-size=1m", "busybox",
                "true");
    }

    @Test
    void blockIoThrottlesReachTheContainersCgroupAndBadOnesAreRefused() throws Exception {
        Path img = Files.createTempFile("pf-blkio", ".img");
        java.io.RandomAccessFile raf = new java.io.RandomAccessFile(img.toFile(), "rw");
        raf.setLength(16 << 20);
        raf.close();
        Process p = new ProcessBuilder("losetup", "-f", "--show", img.toString()).redirectErrorStream(true).start();
        String loop = new String(p.getInputStream().readAllBytes()).strip();
        org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0 && loop.startsWith("/dev/loop"),
                "needs a free loop device (losetup): " + loop);
        try {
            String rdev = Files.readString(Path.of("/sys/class/block", Path.of(loop).getFileName().toString(), "dev"))
                    .strip();
            Path v1 = Path.of("/sys/fs/cgroup/blkio");
            String show = Files.isDirectory(v1)
                    ? "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device"
                    : "cat /sys/fs/cgroup/io.max";
            String out = f.hull.ok("run", "--name", "pf-blkio", "--network", "none", "--device-read-bps", loop + ":1mb",
                    "--device-write-iops", loop + ":100", "busybox", "sh", "-c", show).out();
            try {
                if (Files.isDirectory(v1)) {
                    assertThat(out).isEqualTo(rdev + " 1048576\n" + rdev + " 100\n");
                } else {
                    assertThat(out).contains(rdev + " rbps=1048576").contains("wiops=100");
                }
                assertThat(f.hull.ok("inspect", "-f", "{{json .HostConfig.BlkioDeviceReadBps}}", "pf-blkio").out().strip())
                        .isEqualTo("[{\"Path\":\"" + loop + "\",\"Rate\":1048576}]");
            } finally {
                f.hull.run("rm", "-f", "pf-blkio");
            }
            String[][] refused = {
                {"--device-read-bps", "/dev/null:1m", "hull: /dev/null is not a block device"},
                {"--device-read-bps", loop + ":1x", "hull: invalid rate for device: " + loop + ":1x. The correct format is"
                    + " <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be"
                    + " kb, mb, or gb"},
                {"--device-write-iops", "sda:5", "hull: bad format for device path: sda:5"},
                {"--blkio-weight-device", loop + ":5", "hull: invalid weight for device: " + loop + ":5"},
                {"--blkio-weight", "5000", "hull: Range of blkio weight is from 10 to 1000"},
            };
            for (String[] r : refused) {
                HullCommand.Result res = f.hull.run("create", "--network", "none", r[0], r[1], "busybox");
                assertThat(res.exit()).as(r[0] + " " + r[1]).isEqualTo(125);
                assertThat(res.err()).isEqualTo(r[2] + "\n");
            }
        } finally {
            new ProcessBuilder("losetup", "-d", loop).start().waitFor();
            Files.deleteIfExists(img);
        }
    }

    @Test
    void usernsHostIsTheDefaultAndWhatIsNotOfferedIsRefusedByName() throws Exception {
        assertThat(f.hull.ok("run", "--rm", "--network", "none", "--userns", "host", "busybox", "cat",
                "/proc/self/uid_map").out()).as("the host's ids, no user namespace").matches("\\s*0\\s+0\\s+4294967295\\s*");
        refused("hull: --userns private: use host (the default) or auto[:size=N] (a user namespace of its own, N ids"
                + " from 1 to 16777216, 65536 by default)\n", "run", "--rm", "--userns", "private", "busybox", "true");
    }
}
