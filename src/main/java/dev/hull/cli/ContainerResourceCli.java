package dev.hull.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerResources;
import dev.hull.engine.ContainerStats;
import dev.hull.engine.ContainerTop;
import dev.hull.engine.Engine;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Stack;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What containers use and may use: stats, top, pause, unpause, update (docker's commands). */
final class ContainerResourceCli {
    private ContainerResourceCli() {}

    /** Adds these commands to {@code hull container}. */
    static void addTo(CommandLine group) {
        for (Object sub : new Object[] {new Stats(), new Top(), new Pause(), new Unpause(), new Update()}) {
            CommandLine cl = new CommandLine(sub);
            group.addSubcommand(cl.getCommandName(), cl);
        }
    }

    private static String table(List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < cols; i++) {
                line.append(r[i]);
                if (i < cols - 1) {
                    line.append(" ".repeat(w[i] - r[i].length() + 3));
                }
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    private static void checkFormat(String format) throws RuntimeError {
        if (!format.equals("table") && !format.equals("json")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--format " + format + ": use table or json");
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true, description = {
        "Show what containers use: CPU, memory, network, block I/O, processes.", "",
        "CPU % is the container's CPU time over the last second: 100% is one whole CPU. MEM USAGE leaves the"
            + " page cache the kernel can drop first out (as docker does); LIMIT is the container's memory limit,"
            + " or the host's memory when it has none. NET I/O is its network namespace's traffic (\"--\" with"
            + " --network host). BLOCK I/O is bytes read / written. Without --no-stream the numbers are"
            + " redrawn every second until Ctrl-C.",
        "",
        "Without CONTAINER: every running container (with -a: every container).", "",
        "Examples:", "  hull stats", "  hull stats --no-stream web db", "  hull stats --no-stream --format json web"},
            sortOptions = false)
    static final class Stats implements Callable<Integer> {
        @Option(names = {"-a", "--all"}, description = "Every container, stopped ones too (as zeros).")
        boolean all;
        @Option(names = "--no-stream", description = "Print one reading (taken over one second) and exit.")
        boolean noStream;
        @Option(names = "--format", defaultValue = "table", description = "table (default) or json: one JSON"
                + " object per container and reading (docker's keys, plus \"Hull\" with the numbers).")
        String format;
        @Parameters(arity = "0..*", paramLabel = "CONTAINER", description = "Containers (names or ids).")
        List<String> refs = new ArrayList<>();

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                checkFormat(format);
                Engine engine = Engine.defaults();
                Map<String, String> given = new LinkedHashMap<>(); // id -> the name the user gave
                for (String ref : refs) {
                    given.put(engine.containers().resolve(ref).id(), ref);
                }
                boolean terminal = dev.hull.service.Stdio.isTerminal(); // the client's, on the warm path
                Map<String, ContainerStats.Sample> before = sampleAll(engine, given);
                for (;;) {
                    long next = System.nanoTime() + 1_000_000_000L;
                    sleepUntil(next);
                    Map<String, ContainerStats.Sample> now = sampleAll(engine, given);
                    StringBuilder frame = new StringBuilder();
                    List<String[]> rows = new ArrayList<>();
                    rows.add(ContainerStats.TITLES);
                    for (ContainerInfo c : containers(engine, given)) {
                        if (!now.containsKey(c.id()) && !all && given.isEmpty()) {
                            continue; // stopped meanwhile
                        }
                        ContainerStats.Usage u = ContainerStats.usage(c, before.get(c.id()), now.get(c.id()));
                        if (format.equals("json")) {
                            frame.append(ImageCli.JSON.writer().without(SerializationFeature.INDENT_OUTPUT)
                                    .writeValueAsString(ContainerStats.json(u, given.get(c.id())))).append('\n');
                        } else {
                            rows.add(ContainerStats.row(u));
                        }
                    }
                    if (format.equals("table")) {
                        frame.append(table(rows));
                    }
                    if (terminal && !noStream) {
                        System.out.print("\033[2J\033[H");
                    }
                    System.out.print(frame);
                    System.out.flush();
                    if (System.out.checkError()) {
                        return 0; // the reader went away (hull stats | head -1)
                    }
                    if (noStream) {
                        return 0;
                    }
                    before = now;
                }
            });
        }

        /** The containers to show now: the given ones (while they exist), else the running (or all). */
        private List<ContainerInfo> containers(Engine engine, Map<String, String> given) throws Exception {
            List<ContainerInfo> out = new ArrayList<>();
            if (!given.isEmpty()) {
                for (String id : given.keySet()) {
                    ContainerInfo c = engine.containers().read(id);
                    if (c != null) {
                        out.add(c);
                    }
                }
                return out;
            }
            for (ContainerInfo c : engine.containers().list()) {
                if (all || engine.state(c).running()) {
                    out.add(c);
                }
            }
            return out;
        }

        private Map<String, ContainerStats.Sample> sampleAll(Engine engine, Map<String, String> given)
                throws Exception {
            Map<String, ContainerStats.Sample> out = new HashMap<>();
            for (ContainerInfo c : containers(engine, given)) {
                ContainerStats.Sample s = ContainerStats.sample(engine, c);
                if (s != null) {
                    out.put(c.id(), s);
                }
            }
            return out;
        }

        private static void sleepUntil(long nanoTime) throws InterruptedException {
            long left = nanoTime - System.nanoTime();
            if (left > 0) {
                Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
            }
        }
    }

    @Command(name = "top", mixinStandardHelpOptions = true, description = {
        "Show the processes of a running container.", "",
        "Without ps options: ps -ef's columns (UID PID PPID C STIME TTY TIME CMD), read from the host's /proc:"
            + " host pids and user names, as docker shows them; nothing runs in the container, so images without"
            + " ps work. With ps options (everything after CONTAINER), the host's ps runs with them and only the"
            + " container's processes are kept; the output must have a PID column.",
        "", "Examples:", "  hull top web", "  hull top web -o pid,rss,args", "  hull top --format json web"},
            sortOptions = false)
    static final class Top implements Callable<Integer> {
        @Option(names = "--format", defaultValue = "table", description = "table (default) or json ({\"Titles\":"
                + " [...], \"Processes\": [[...], ...]}, docker's API shape). Goes before CONTAINER.")
        String format;
        @Parameters(index = "0", paramLabel = "CONTAINER", parameterConsumer = ContainerThenPsOptions.class,
                description = "The container (name or id).")
        String ref;
        @Parameters(index = "1..*", paramLabel = "PS_OPTIONS", description = "Options for the host's ps.")
        List<String> psArgs = new ArrayList<>();

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                checkFormat(format);
                ContainerTop.Top top = ContainerTop.top(Engine.defaults(), ref, psArgs);
                if (format.equals("json")) {
                    System.out.println(ImageCli.JSON.writer().without(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(top.json()));
                    return 0;
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(top.titles().toArray(String[]::new));
                for (List<String> p : top.processes()) {
                    String[] r = new String[top.titles().size()];
                    for (int i = 0; i < r.length; i++) {
                        r[i] = i < p.size() ? p.get(i) : "";
                    }
                    rows.add(r);
                }
                if (!top.titles().isEmpty()) {
                    System.out.print(table(rows));
                }
                return 0;
            });
        }
    }

    /** docker top's parsing: the first positional is the container, everything after it goes to ps. */
    static final class ContainerThenPsOptions implements CommandLine.IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, CommandLine.Model.ArgSpec argSpec,
                CommandLine.Model.CommandSpec spec) {
            argSpec.setValue(args.pop());
            List<String> rest = new ArrayList<>();
            while (!args.isEmpty()) {
                rest.add(args.pop());
            }
            spec.positionalParameters().get(1).setValue(rest);
        }
    }

    /** Runs body for each container; "hull: REF: message" for each failure, exit 1 if any failed. */
    private static int each(List<String> refs, ForOne body) {
        int failed = 0;
        Engine engine = Engine.defaults();
        for (String ref : refs) {
            try {
                body.run(engine, ref);
                System.out.println(ref);
            } catch (RuntimeError e) {
                System.err.println("hull: " + ref + ": " + e.getMessage());
                failed = 1;
            } catch (Exception e) {
                System.err.println("hull: " + ref + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                failed = 1;
            }
        }
        return failed;
    }

    @FunctionalInterface
    private interface ForOne {
        void run(Engine engine, String ref) throws Exception;
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = {
        "Suspend every process of running containers (cgroup freezer).", "",
        "hull ps shows them as \"Up ... (Paused)\"; hull unpause resumes them. hull stop and rm -f work on a"
            + " paused container.", "", "Example:", "  hull pause web && hull unpause web"})
    static final class Pause implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            return each(refs, ContainerResources::pause);
        }
    }

    @Command(name = "unpause", mixinStandardHelpOptions = true, description = {
        "Resume every process of paused containers.", "", "Example:", "  hull unpause web"})
    static final class Unpause implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            return each(refs, ContainerResources::unpause);
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true, description = {
        "Change the resource limits or restart policy of containers.", "",
        "A running (or paused) container's cgroup takes the new limits at once; they are also kept in the"
            + " container (config.json and its options), so hull start, hull restart and hull inspect have them."
            + " A stopped container just keeps them for its next start. If the kernel refuses a value, the"
            + " update fails and is not kept.",
        "",
        "--restart is kept for the next start and also applies to a running container at once: its monitor"
            + " reads the new policy before it decides whether to restart (the on-failure count goes on from"
            + " where it is).",
        "", "Examples:", "  hull update --memory 256m --memory-swap 512m web", "  hull update --cpus 1.5 --pids-limit 200 web db",
        "  hull update --restart on-failure:3 web", "  hull update --cpus 0 web      # no CPU limit"},
            sortOptions = false)
    static final class Update implements Callable<Integer> {
        @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", description = "Memory limit (e.g. 512m, 2g).")
        String memory;
        @Option(names = "--memory-swap", paramLabel = "SIZE", description = "Memory + swap limit (at least --memory);"
                + " -1: unlimited swap.")
        String memorySwap;
        @Option(names = "--cpus", paramLabel = "N", description = "CPUs the container may use (e.g. 1.5; 0: no limit).")
        Double cpus;
        @Option(names = {"-c", "--cpu-shares"}, paramLabel = "N", description = "Relative CPU weight (default 1024).")
        Long cpuShares;
        @Option(names = "--cpuset-cpus", paramLabel = "LIST", description = "CPUs to run on (e.g. 0-1, 0,2).")
        String cpusetCpus;
        @Option(names = "--pids-limit", paramLabel = "N", description = "Most processes at once (-1 or 0: no limit).")
        Long pidsLimit;
        @Option(names = "--restart", paramLabel = "POLICY", description = "no, on-failure[:N], always,"
                + " unless-stopped (applies at once, and from the next start).")
        String restart;
        @Option(names = "--storage-opt", paramLabel = "KEY=VALUE", description = "size=SIZE grows the disk of a"
                + " container made with --storage-opt size= (online where the kernel allows, else while it is stopped);"
                + " key-file=FILE unlocks an encrypted one (or keeps it unlocked while it is grown).")
        List<String> storageOpts = new ArrayList<>();
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            ContainerResources.Update u;
            long size = 0;
            java.nio.file.Path key = null;
            try {
                for (String so : storageOpts) {
                    if (so.startsWith("size=")) {
                        size = dev.hull.disk.DiskSpec.parseSize(so.substring(5), "--storage-opt");
                    } else if (so.startsWith("key-file=")) {
                        key = dev.hull.runtime.Caller.absolute(java.nio.file.Path.of(so.substring(9)));
                    } else {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--storage-opt " + so
                                + ": update takes size= and key-file=");
                    }
                }
                u = new ContainerResources.Update(memory == null ? null : Engine.parseSize(memory, "--memory"),
                        memorySwap == null ? null : memorySwap.strip().equals("-1") ? Long.valueOf(-1)
                                : Long.valueOf(Engine.parseSize(memorySwap, "--memory-swap")),
                        cpus, cpuShares, cpusetCpus, pidsLimit, restart);
            } catch (RuntimeError e) {
                System.err.println("hull: " + e.getMessage());
                return 1;
            }
            long grow = size;
            java.nio.file.Path keyFile = key;
            return each(refs, (engine, ref) -> {
                if (grow > 0) {
                    dev.hull.engine.ContainerDisks.grow(engine, ref, grow, keyFile);
                } else if (keyFile != null) {
                    dev.hull.engine.ContainerDisks.unlock(engine, ref, keyFile);
                }
                if (storageOpts.isEmpty() || !u.empty()) {
                    ContainerResources.update(engine, ref, u);
                }
            });
        }
    }
}
