package dev.hull.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerStats;
import dev.hull.engine.DiskUsage;
import dev.hull.engine.Engine;
import dev.hull.machine.Machines;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull machine stats}: what machines use, from their cgroups, network namespaces and writable layers. */
final class MachineStatsCli {
    private MachineStatsCli() {}

    @Command(name = "stats", mixinStandardHelpOptions = true, description = {"Show what machines use: CPU, memory,"
        + " processes, network and block I/O, and the disk their own files take (the template's not counted).", "",
        "Without NAME, every running machine. A new reading every second until interrupted; --no-stream prints one"
            + " (taken over one second) and exits.", "", "Example:", "  hull machine stats --no-stream web"})
    static final class Stats implements Callable<Integer> {
        @Option(names = "--no-stream", description = "Print one reading and exit.")
        boolean noStream;
        @Option(names = "--format", defaultValue = "table", description = "table (default) or json (one object a"
                + " machine and reading, numbers in bytes and percent).")
        String format;
        @Parameters(arity = "0..*", paramLabel = "NAME")
        List<String> names = new ArrayList<>();

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                if (!format.equals("table") && !format.equals("json")) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--format " + format + ": use table or json");
                }
                Machines machines = new Machines(Engine.defaults());
                Engine engine = machines.engine();
                List<ContainerInfo> given = new ArrayList<>();
                for (String n : names) {
                    given.add(machines.resolve(n));
                }
                boolean terminal = dev.hull.service.Stdio.isTerminal();
                List<ContainerInfo> shown = given.isEmpty() ? running(machines) : given;
                Map<String, ContainerStats.Sample> before = sample(engine, shown);
                for (;;) {
                    Thread.sleep(1000);
                    if (given.isEmpty()) {
                        shown = running(machines);
                    }
                    Map<String, ContainerStats.Sample> now = sample(engine, shown);
                    StringBuilder frame = new StringBuilder();
                    List<String[]> rows = new ArrayList<>();
                    rows.add(new String[] {"NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS",
                        "DISK"});
                    for (ContainerInfo c : shown) {
                        ContainerStats.Usage u = ContainerStats.usage(c, before.get(c.id()), now.get(c.id()));
                        long disk = DiskUsage.writableSize(engine, c);
                        if (format.equals("json")) {
                            frame.append(ImageCli.JSON.writer().without(SerializationFeature.INDENT_OUTPUT)
                                    .writeValueAsString(json(u, disk))).append('\n');
                        } else {
                            String[] r = ContainerStats.row(u);
                            rows.add(new String[] {c.name(), r[2], r[3], r[4], r[5], r[6], r[7],
                                MachineCli.binarySize(disk)});
                        }
                    }
                    if (terminal && !noStream && format.equals("table")) {
                        System.out.print("\033[2J\033[H");
                    }
                    System.out.print(frame);
                    if (format.equals("table")) {
                        ContainerCli.printTable(rows);
                    }
                    System.out.flush();
                    if (noStream || System.out.checkError()) {
                        return 0;
                    }
                    before = now;
                }
            });
        }

        private static List<ContainerInfo> running(Machines machines) throws Exception {
            List<ContainerInfo> out = new ArrayList<>();
            for (Machines.Machine m : machines.list()) {
                if (m.state().equals("running")) {
                    out.add(machines.resolve(m.id()));
                }
            }
            return out;
        }

        private static Map<String, ContainerStats.Sample> sample(Engine engine, List<ContainerInfo> cs)
                throws Exception {
            Map<String, ContainerStats.Sample> out = new LinkedHashMap<>();
            for (ContainerInfo c : cs) {
                ContainerStats.Sample s = ContainerStats.sample(engine, c);
                if (s != null) {
                    out.put(c.id(), s);
                }
            }
            return out;
        }

        private static ObjectNode json(ContainerStats.Usage u, long disk) {
            ObjectNode n = ImageCli.JSON.createObjectNode();
            n.put("Name", u.name());
            n.put("Id", u.id());
            n.put("Running", u.running());
            n.put("CpuPercent", Math.round(u.cpuPercent() * 100) / 100.0);
            n.put("MemoryUsage", u.memUsage());
            n.put("MemoryLimit", u.memLimit());
            n.put("Pids", u.pids());
            if (u.netRx() != null) {
                n.put("NetRx", u.netRx());
                n.put("NetTx", u.netTx());
            }
            n.put("BlockRead", u.blkRead());
            n.put("BlockWrite", u.blkWrite());
            n.put("Disk", disk);
            return n;
        }
    }
}
