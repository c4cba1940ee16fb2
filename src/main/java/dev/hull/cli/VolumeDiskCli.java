package dev.hull.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.disk.Disk;
import dev.hull.disk.DiskSpec;
import dev.hull.engine.Engine;
import dev.hull.engine.VolumeStore;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull volume lock|unlock|resize}: a sized volume's disk; and what inspect shows of it. */
final class VolumeDiskCli {
    private VolumeDiskCli() {}

    /** Options (size, encrypt) and Status (image, allocated bytes, mounted, locked) of a volume with a disk. */
    static void describe(VolumeStore.Volume v, ObjectNode n) {
        Path dir = v.mountpoint().getParent().getParent();
        if (!v.mountpoint().endsWith(Path.of("disk", "data")) || !Disk.exists(dir)) {
            return;
        }
        try {
            Disk.Status st = Disk.status(dir);
            ObjectNode o = (ObjectNode) n.get("Options");
            o.put("size", Long.toString(st.size()));
            o.put("encrypt", Boolean.toString(st.encrypted()));
            ObjectNode s = n.putObject("Status");
            s.put("Disk", "loop");
            s.put("Image", st.image().toString());
            s.put("Size", st.size());
            s.put("Allocated", st.allocated());
            s.put("Mounted", st.mounted());
            if (st.device() != null) {
                s.put("Device", st.device());
            }
            s.put("Encrypted", st.encrypted());
            s.put("Locked", st.locked());
        } catch (IOException e) {
            n.putObject("Status").put("Error", e.getMessage());
        }
    }

    @Command(name = "lock", mixinStandardHelpOptions = true, description = {"Evict an encrypted volume's key: its"
        + " file names and contents become unreadable (files a running container holds open stay readable until"
        + " closed).", "", "Example:", "  hull volume lock secrets"})
    static final class Lock implements Callable<Integer> {
        @Parameters(paramLabel = "VOLUME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                if (Engine.defaults().volumes().lockDisk(name)) {
                    System.err.println("hull: volume " + name + " locked; files still open stay readable until closed");
                }
                System.out.println(name);
                return 0;
            });
        }
    }

    @Command(name = "unlock", mixinStandardHelpOptions = true, description = {"Add an encrypted volume's key back,"
        + " unwrapped with the key file it was made with (a wrong file is refused).", "", "Example:",
        "  hull volume unlock --key-file /root/secrets.key secrets"})
    static final class Unlock implements Callable<Integer> {
        @Option(names = "--key-file", required = true, paramLabel = "FILE", description = "The key file given at"
                + " create.")
        Path keyFile;
        @Parameters(paramLabel = "VOLUME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                Path f = dev.hull.disk.KeySources.absolute(keyFile);
                dev.hull.disk.KeySources.check(f, "--key-file");
                Engine.defaults().volumes().unlockDisk(name, f);
                System.out.println(name);
                return 0;
            });
        }
    }

    @Command(name = "resize", mixinStandardHelpOptions = true, description = {"Grow a sized volume's disk (online"
        + " where the kernel lets Hull, else unmounted: refused while a running container uses it).", "",
        "Example:", "  hull volume resize quota 2g"})
    static final class Resize implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "VOLUME")
        String name;
        @Parameters(index = "1", paramLabel = "SIZE", description = "The new size (larger), e.g. 2g.")
        String size;
        @Option(names = "--key-file", paramLabel = "FILE", description = "An encrypted volume's key file: growing it"
                + " unmounted drops its key, this adds it back.")
        Path keyFile;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                Engine.defaults().volumes().growDisk(name, DiskSpec.parseSize(size, "SIZE"),
                        dev.hull.disk.KeySources.absolute(keyFile));
                System.out.println(name);
                return 0;
            });
        }
    }
}
