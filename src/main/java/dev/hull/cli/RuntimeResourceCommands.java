package dev.hull.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.ResourceControl;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.Json;
import dev.hull.runtime.spec.ResourcesSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The resource subcommands of {@code hull-runtime}: update, pause, resume, events, ps (as runc has them). */
final class RuntimeResourceCommands {
    private RuntimeResourceCommands() {}

    static final class Update extends RuntimeCli.Sub {
        String resources;
        String memory;
        String memoryReservation;
        String memorySwap;
        String kernelMemory;
        String kernelMemoryTcp;
        Long cpuShares;
        Long cpuQuota;
        Long cpuPeriod;
        Long cpuRtPeriod;
        Long cpuRtRuntime;
        Long cpuIdle;
        String cpusetCpus;
        String cpusetMems;
        Long pidsLimit;
        Long blkioWeight;
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Update a container's resource limits.",
                    "--resources takes a linux.resources JSON object (\"-\" for stdin); the flags override its fields.",
                    "Sizes accept suffixes: 512m, 1g, 64k (binary units). Device rules are ignored, as in runc.");
            m.option("-r, --resources=FILE", String.class, v -> resources = v, "JSON file with the resources, or - for stdin.");
            m.option("--memory=SIZE", String.class, v -> memory = v, "Memory limit.");
            m.option("--memory-reservation=SIZE", String.class, v -> memoryReservation = v, "Memory soft limit.");
            m.option("--memory-swap=SIZE", String.class, v -> memorySwap = v, "Memory plus swap limit (-1: unlimited).");
            m.option("--kernel-memory=SIZE", String.class, v -> kernelMemory = v).hidden();
            m.option("--kernel-memory-tcp=SIZE", String.class, v -> kernelMemoryTcp = v).hidden();
            m.option("--cpu-shares, --cpu-share=N", Long.class, v -> cpuShares = v, "CPU shares (relative weight).");
            m.option("--cpu-quota=USEC", Long.class, v -> cpuQuota = v, "CPU CFS quota per period (-1: none).");
            m.option("--cpu-period=USEC", Long.class, v -> cpuPeriod = v, "CPU CFS period.");
            m.option("--cpu-rt-period=USEC", Long.class, v -> cpuRtPeriod = v, "Realtime period (v1).");
            m.option("--cpu-rt-runtime=USEC", Long.class, v -> cpuRtRuntime = v, "Realtime runtime (v1).");
            m.option("--cpu-idle=0|1", Long.class, v -> cpuIdle = v, "SCHED_IDLE for the cgroup.");
            m.option("--cpuset-cpus=LIST", String.class, v -> cpusetCpus = v, "CPUs to run on, e.g. 0-1,3.");
            m.option("--cpuset-mems=LIST", String.class, v -> cpusetMems = v, "Memory nodes, e.g. 0.");
            m.option("--pids-limit=N", Long.class, v -> pidsLimit = v, "Maximum number of processes (<= 0: unlimited).");
            m.option("--blkio-weight=N", Long.class, v -> blkioWeight = v, "Block I/O weight, 10 to 1000.");
            m.param(0, "ID", String.class, v -> id = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            ObjectNode r;
            if (resources != null) {
                byte[] data = resources.equals("-") ? readStdin(parent.inv.stdio())
                        : Files.readAllBytes(parent.inv.resolve(Path.of(resources)));
                JsonNode n;
                try {
                    n = Json.read(data);
                } catch (IOException e) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--resources " + resources + ": invalid JSON: "
                            + e.getMessage().lines().findFirst().orElse(""));
                }
                if (n == null || !n.isObject()) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--resources " + resources
                            + ": linux.resources: must be an object");
                }
                r = (ObjectNode) n;
            } else {
                r = JsonNodeFactory.instance.objectNode();
            }
            setSize(r, "memory", "limit", memory, "--memory");
            setSize(r, "memory", "reservation", memoryReservation, "--memory-reservation");
            setSize(r, "memory", "swap", memorySwap, "--memory-swap");
            setSize(r, "memory", "kernel", kernelMemory, "--kernel-memory");
            setSize(r, "memory", "kernelTCP", kernelMemoryTcp, "--kernel-memory-tcp");
            set(r, "cpu", "shares", cpuShares);
            set(r, "cpu", "quota", cpuQuota);
            set(r, "cpu", "period", cpuPeriod);
            set(r, "cpu", "realtimePeriod", cpuRtPeriod);
            set(r, "cpu", "realtimeRuntime", cpuRtRuntime);
            set(r, "cpu", "idle", cpuIdle);
            if (cpusetCpus != null) {
                obj(r, "cpu").put("cpus", cpusetCpus);
            }
            if (cpusetMems != null) {
                obj(r, "cpu").put("mems", cpusetMems);
            }
            set(r, "pids", "limit", pidsLimit);
            set(r, "blockIO", "weight", blkioWeight);
            try {
                new ResourceControl(rt).update(id, ResourcesSpec.parse(r, "linux.resources"));
            } catch (ConfigException e) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "update: " + e.getMessage());
            }
            return 0;
        }

        private static ObjectNode obj(ObjectNode r, String name) {
            return r.get(name) instanceof ObjectNode o ? o : r.putObject(name);
        }

        private static void set(ObjectNode r, String group, String field, Long v) {
            if (v != null) {
                obj(r, group).put(field, v);
            }
        }

        private static void setSize(ObjectNode r, String group, String field, String v, String flag)
                throws RuntimeError {
            if (v != null) {
                obj(r, group).put(field, parseSize(v, flag));
            }
        }
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?) ?([kmgtp])?(?:i?b)?");

    /** A size like docker's RAMInBytes: "512m", "1g", "1.5g", "1024", "64KiB"; "-1" is unlimited. */
    static long parseSize(String s, String flag) throws RuntimeError {
        if (s.strip().equals("-1")) {
            return -1;
        }
        Matcher m = SIZE.matcher(s.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + ": invalid size \"" + s
                    + "\" (expected a number of bytes, optionally with k, m, g, t or p, e.g. 512m)");
        }
        long mult = 1;
        if (m.group(2) != null) {
            mult = 1L << (10 * ("kmgtp".indexOf(m.group(2)) + 1));
        }
        java.math.BigDecimal v = new java.math.BigDecimal(m.group(1)).multiply(java.math.BigDecimal.valueOf(mult));
        if (v.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + ": size \"" + s + "\" is too large");
        }
        return v.longValue();
    }

    static byte[] readStdin(int[] stdio) throws IOException {
        if (stdio == null) {
            return System.in.readAllBytes();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (true) {
            int n;
            try {
                n = Syscalls.read(stdio[0], buf, 0, buf.length);
            } catch (LinuxException e) {
                throw new IOException("reading --resources from stdin: " + e.getMessage(), e);
            }
            if (n <= 0) {
                return out.toByteArray();
            }
            out.write(buf, 0, n);
        }
    }

    static final class Pause extends RuntimeCli.Sub {
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Suspend every process of a container (cgroup freezer).");
            m.param(0, "ID", String.class, v -> id = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            new ResourceControl(rt).pause(id);
            return 0;
        }
    }

    static final class Resume extends RuntimeCli.Sub {
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Resume a paused container.");
            m.param(0, "ID", String.class, v -> id = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            new ResourceControl(rt).resume(id);
            return 0;
        }
    }

    static final class Events extends RuntimeCli.Sub {
        boolean stats;
        String interval;
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Print a container's events as JSON lines: resource statistics every --interval, and"
                    + " {\"type\":\"oom\"} when the OOM killer kills one of its processes. Ends when the container stops.",
                    "With --stats: print the statistics once and exit.");
            m.flag("--stats", v -> stats = v, "Print statistics once and exit.");
            m.option("--interval=DURATION", String.class, v -> interval = v,
                    "Statistics interval, e.g. 5s, 500ms, 1m (default: ${DEFAULT-VALUE}).").defaultValue("5s");
            m.param(0, "ID", String.class, v -> id = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            Duration every = parseDuration(interval);
            ResourceControl rc = new ResourceControl(rt);
            PrintWriter out = parent.inv.out();
            if (stats) {
                out.println(Json.write(rc.statsEvent(id), false));
                return 0;
            }
            rc.events(id, every, ev -> {
                out.println(Json.write(ev, false));
                out.flush();
            });
            return 0;
        }
    }

    /** A Go-style duration: "5s", "100ms", "1m", "1h", or combinations like "1m30s". */
    static Duration parseDuration(String s) throws RuntimeError {
        return dev.hull.runtime.GoDuration.parse(s, "--interval", false);
    }

    static final class Ps extends RuntimeCli.Sub {
        String format;
        String id;
        List<String> psArgs;

        @Override
        void define(CommandModel m) {
            m.describe("List the processes of a container.", "--format table runs the host's ps (with PS_ARGS, default"
                    + " -ef) and keeps the container's rows; --format json prints the pids as a JSON array.");
            m.option("-f, --format=<format>", String.class, v -> format = v, "table or json.").defaultValue("table");
            m.param(0, "ID", String.class, v -> id = v);
            m.rest(1, "PS_ARGS", String.class, v -> psArgs = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            if (!format.equals("table") && !format.equals("json")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--format must be table or json, not " + format);
            }
            List<Integer> pids = new ResourceControl(rt).pids(id);
            PrintWriter out = parent.inv.out();
            if (format.equals("json")) {
                out.println(pids.toString().replace(" ", ""));
                return 0;
            }
            List<String> cmd = new ArrayList<>(List.of("ps"));
            cmd.addAll(psArgs == null || psArgs.isEmpty() ? List.of("-ef") : psArgs);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, String.join(" ", cmd) + " failed: " + text.strip());
            }
            List<String> lines = text.lines().toList();
            if (lines.isEmpty()) {
                return 0;
            }
            int col = List.of(lines.getFirst().trim().split("\\s+")).indexOf("PID");
            if (col < 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "ps " + String.join(" ", cmd.subList(1, cmd.size()))
                        + ": its output has no PID column");
            }
            Set<Integer> mine = Set.copyOf(pids);
            out.println(lines.getFirst());
            for (String l : lines.subList(1, lines.size())) {
                String[] f = l.trim().split("\\s+");
                if (f.length > col && f[col].chars().allMatch(Character::isDigit) && mine.contains(Integer.parseInt(f[col]))) {
                    out.println(l);
                }
            }
            return 0;
        }
    }
}
