package dev.hull.service.docker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerStats;
import dev.hull.engine.Engine;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * GET /containers/{id}/stats: dockerd's StatsJSON from the engine's {@link ContainerStats} samples
 * — cpu_stats and precpu_stats (the container's CPU time and the host's, in nanoseconds, from which
 * the docker CLI computes CPU %), memory_stats, blkio_stats, pids_stats, networks. stream (the
 * default): one object a second until the client leaves or the container ends; stream=false: one,
 * with precpu_stats from a sample half a second before (one-shot=true: without it).
 */
final class ContainerStatsApi {

    /** A sample of the container with the host's CPU time at the same moment. */
    private record Reading(ContainerStats.Sample sample, long systemNanos, Instant at) {}

    void stats(Exchange x, ContainerInfo c) throws Exception {
        boolean stream = x.param("stream") == null || x.flag("stream");
        boolean oneShot = x.flag("one-shot");
        Engine e = Engine.defaults();
        Reading before = oneShot ? null : read(e, c);
        OutputStream out = x.stream(200, "application/json");
        try {
            if (!stream) {
                if (before != null && before.sample() != null) {
                    Thread.sleep(500);
                }
                Reading now = read(e, c);
                write(out, c, now, before);
            } else {
                for (;;) {
                    Reading now = read(e, c);
                    write(out, c, now, before);
                    if (now.sample() == null) {
                        break; // not running (any more): one zeroed object, as dockerd ends
                    }
                    before = now;
                    Thread.sleep(1000);
                }
            }
        } catch (IOException gone) {
            x.callback.failed(gone);
            return;
        }
        x.finish(out);
    }

    private static Reading read(Engine e, ContainerInfo c) throws IOException {
        return new Reading(ContainerStats.sample(e, c), systemNanos(), Instant.now());
    }

    private static void write(OutputStream out, ContainerInfo c, Reading now, Reading before) throws IOException {
        out.write(Exchange.JSON.writeValueAsBytes(json(c, now, before)));
        out.write('\n');
        out.flush();
    }

    static ObjectNode json(ContainerInfo c, Reading now, Reading before) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        ContainerStats.Sample s = now.sample();
        n.put("name", "/" + c.name());
        n.put("id", c.id());
        n.put("read", s == null ? "0001-01-01T00:00:00Z" : now.at().toString());
        n.put("preread", before == null || before.sample() == null ? "0001-01-01T00:00:00Z" : before.at().toString());
        n.putObject("pids_stats").put("current", s == null ? 0 : s.pids());
        ObjectNode blkio = n.putObject("blkio_stats");
        var io = blkio.putArray("io_service_bytes_recursive");
        if (s != null) {
            io.addObject().put("major", 0).put("minor", 0).put("op", "read").put("value", s.blkRead());
            io.addObject().put("major", 0).put("minor", 0).put("op", "write").put("value", s.blkWrite());
        }
        n.put("num_procs", 0);
        n.putObject("storage_stats");
        n.set("cpu_stats", cpu(now));
        n.set("precpu_stats", before == null ? cpu(new Reading(null, 0, now.at())) : cpu(before));
        ObjectNode mem = n.putObject("memory_stats");
        if (s != null) {
            mem.put("usage", s.memUsage());
            mem.putObject("stats");
            mem.put("limit", s.memLimit());
        }
        if (s != null && s.netRx() != null) {
            ObjectNode eth0 = n.putObject("networks").putObject("eth0");
            eth0.put("rx_bytes", s.netRx());
            eth0.put("rx_packets", 0);
            eth0.put("rx_errors", 0);
            eth0.put("rx_dropped", 0);
            eth0.put("tx_bytes", s.netTx());
            eth0.put("tx_packets", 0);
            eth0.put("tx_errors", 0);
            eth0.put("tx_dropped", 0);
        }
        return n;
    }

    private static ObjectNode cpu(Reading r) {
        ObjectNode cpu = Exchange.JSON.createObjectNode();
        ObjectNode usage = cpu.putObject("cpu_usage");
        usage.put("total_usage", r.sample() == null ? 0 : r.sample().cpuNanos());
        usage.put("usage_in_kernelmode", 0);
        usage.put("usage_in_usermode", 0);
        if (r.sample() != null) {
            cpu.put("system_cpu_usage", r.systemNanos());
            cpu.put("online_cpus", Runtime.getRuntime().availableProcessors());
        }
        cpu.putObject("throttling_data").put("periods", 0).put("throttled_periods", 0).put("throttled_time", 0);
        return cpu;
    }

    /** The host's CPU time (every CPU, every state) in nanoseconds: /proc/stat's cpu line, USER_HZ ticks. */
    private static long systemNanos() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
            if (line.startsWith("cpu ")) {
                long ticks = 0;
                String[] f = line.substring(4).strip().split("\\s+");
                for (int i = 0; i < Math.min(f.length, 7); i++) { // user nice system idle iowait irq softirq
                    ticks += Long.parseLong(f[i]);
                }
                return ticks * (1_000_000_000L / 100);
            }
        }
        return 0;
    }
}
