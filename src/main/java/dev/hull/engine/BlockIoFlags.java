package dev.hull.engine;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * docker's block I/O flags as the OCI config's linux.resources.blockIO: --blkio-weight,
 * --blkio-weight-device DEVICE:WEIGHT, --device-read-bps/--device-write-bps DEVICE:RATE[kb|mb|gb]
 * and --device-read-iops/--device-write-iops DEVICE:N. Devices are named by path and recorded by
 * number (the host's block device, checked at create). docker discards a weight the host's I/O
 * scheduler cannot honour, with a warning; Hull refuses it, so a limit asked for is one applied.
 */
final class BlockIoFlags {
    private static final Path V1_BLKIO = Path.of("/sys/fs/cgroup/blkio");

    private BlockIoFlags() {}

    static void apply(CreateOptions o, ObjectNode resources) throws RuntimeError {
        boolean weight = o.blkioWeight != null && o.blkioWeight != 0;
        if (!weight && o.blkioWeightDevices.isEmpty() && o.deviceReadBps.isEmpty() && o.deviceWriteBps.isEmpty()
                && o.deviceReadIops.isEmpty() && o.deviceWriteIops.isEmpty()) {
            return;
        }
        ObjectNode b = resources.putObject("blockIO");
        if (weight) {
            if (o.blkioWeight < 10 || o.blkioWeight > 1000) {
                throw bad("Range of blkio weight is from 10 to 1000");
            }
            checkWeights("--blkio-weight");
            b.put("weight", o.blkioWeight);
        }
        if (!o.blkioWeightDevices.isEmpty()) {
            ArrayNode a = b.putArray("weightDevice");
            for (String v : o.blkioWeightDevices) {
                String[] dv = split(v);
                long w;
                try {
                    w = Long.parseLong(dv[1]);
                } catch (NumberFormatException e) {
                    w = -1;
                }
                if (w < 0 || w > 0 && (w < 10 || w > 1000)) {
                    throw bad("invalid weight for device: " + v);
                }
                device(a.addObject(), dv[0]).put("weight", w);
            }
            checkWeights("--blkio-weight-device"); // after the values: a typo is reported as such first
        }
        throttles(b, "throttleReadBpsDevice", o.deviceReadBps, true);
        throttles(b, "throttleWriteBpsDevice", o.deviceWriteBps, true);
        throttles(b, "throttleReadIOPSDevice", o.deviceReadIops, false);
        throttles(b, "throttleWriteIOPSDevice", o.deviceWriteIops, false);
    }

    private static void throttles(ObjectNode b, String field, List<String> values, boolean bytes) throws RuntimeError {
        if (values.isEmpty()) {
            return;
        }
        ArrayNode a = b.putArray(field);
        for (String v : values) {
            String[] dv = split(v);
            long rate;
            try {
                rate = bytes ? Engine.parseSize(dv[1], "rate") : Long.parseLong(dv[1]);
            } catch (RuntimeError | NumberFormatException e) {
                rate = -1;
            }
            if (rate < 0) {
                throw bad("invalid rate for device: " + v + ". The correct format is <device-path>:<number>"
                        + (bytes ? "[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb"
                                : ". Number must be a positive integer"));
            }
            device(a.addObject(), dv[0]).put("rate", rate);
        }
    }

    /** DEVICE:VALUE, the device under /dev (docker's checks and words). */
    private static String[] split(String v) throws RuntimeError {
        String[] dv = v.split(":", -1);
        if (dv.length != 2) {
            throw bad("bad format: " + v);
        }
        if (!dv[0].startsWith("/dev/")) {
            throw bad("bad format for device path: " + v);
        }
        return dv;
    }

    /** Puts the host's block device at path, by number, into entry. */
    private static ObjectNode device(ObjectNode entry, String path) throws RuntimeError {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(Path.of(path), "unix:mode,rdev"); // a symlink (/dev/disk/by-id/...) followed
        } catch (IOException e) {
            throw bad(path + ": no such block device on this host");
        }
        if (((Integer) a.get("mode") & 0170000) != 0060000) {
            throw bad(path + " is not a block device");
        }
        long rdev = (Long) a.get("rdev");
        entry.put("major", ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
        entry.put("minor", (rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
        return entry;
    }

    /** On a v1 host, a weight needs the blkio controller's weight files (CFQ's or BFQ's). */
    private static void checkWeights(String flag) throws RuntimeError {
        if (Files.isDirectory(V1_BLKIO, LinkOption.NOFOLLOW_LINKS) && !Files.exists(V1_BLKIO.resolve("blkio.weight"))
                && !Files.exists(V1_BLKIO.resolve("blkio.bfq.weight"))) {
            throw bad(flag + ": this host's I/O schedulers offer no weights (" + V1_BLKIO
                    + " has neither blkio.weight nor blkio.bfq.weight; docker would discard it)");
        }
    }

    private static RuntimeError bad(String message) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, message);
    }
}
