package dev.hull.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.machine.MachineSnapshots;
import dev.hull.machine.Machines;
import dev.hull.runtime.RuntimeError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull machine snapshot [rm]|snapshots|restore|clone|lock|unlock}. */
final class MachineSnapshotCli {
    private MachineSnapshotCli() {}

    /** --key-file as the caller named it (relative to its directory), or null. */
    private static Path keyPath(Path keyFile) {
        return dev.hull.disk.KeySources.absolute(keyFile);
    }

    /** A machine just made (clone, import): started if asked, its name printed. */
    private static int made(Machines m, ContainerInfo c, boolean start) throws Exception {
        if (start) {
            m.start(c.id());
        }
        System.out.println(c.name());
        return 0;
    }

    @Command(name = "snapshot", mixinStandardHelpOptions = true, subcommands = SnapshotRm.class, description = {
        "Snapshot what a machine wrote (its writable layer, or its whole --disk image), stopped or running.", "",
        "A running machine's processes are frozen (its cgroup's freezer) and its disk synced for the copy, and"
            + " thawed after it, also when it fails. Copies are reflinks where the store's file system shares blocks"
            + " (XFS, btrfs), else sparse copies. SNAP defaults to snap-DATE-TIME (UTC).", "",
        "Examples:", "  hull machine snapshot web before-upgrade", "  hull machine snapshots web",
        "  hull machine restore web before-upgrade", "  hull machine snapshot rm web before-upgrade"})
    static final class Snapshot implements Callable<Integer> {
        // optional for picocli (else "snapshot rm" would ask for it), required below
        @Parameters(index = "0", arity = "0..1", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", arity = "0..1", paramLabel = "SNAP")
        String snap;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                if (name == null) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "snapshot: give the machine's NAME (hull"
                            + " machine snapshot NAME [SNAP])");
                }
                MachineSnapshots.Snapshot s = MachineCli.machines().snapshots().create(name, snap);
                System.out.println(s.Name());
                return 0;
            });
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove a machine's snapshot.")
    static final class SnapshotRm implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", arity = "1..*", paramLabel = "SNAP")
        List<String> snaps = new ArrayList<>();

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                MachineSnapshots s = MachineCli.machines().snapshots();
                for (String x : snaps) {
                    s.remove(name, x);
                    System.out.println(x);
                }
                return 0;
            });
        }
    }

    @Command(name = "snapshots", mixinStandardHelpOptions = true, description = "List a machine's snapshots:"
            + " NAME, CREATED, SIZE (what the copy holds; ALLOCATED in json: its blocks on the host).")
    static final class Snapshots implements Callable<Integer> {
        @Option(names = "--format", defaultValue = "table", description = "table (default) or json (one object a"
                + " line).")
        String format;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                if (!format.equals("table") && !format.equals("json")) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--format " + format + ": use table or json");
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"NAME", "CREATED", "SIZE"});
                for (MachineSnapshots.Snapshot s : MachineCli.machines().snapshots().list(name)) {
                    if (format.equals("json")) {
                        ObjectNode n = ImageCli.JSON.valueToTree(s);
                        System.out.println(ImageCli.JSON.writer().without(SerializationFeature.INDENT_OUTPUT)
                                .writeValueAsString(n));
                    } else {
                        rows.add(new String[] {s.Name(), s.Created(), MachineCli.binarySize(s.Size())});
                    }
                }
                if (format.equals("table")) {
                    ContainerCli.printTable(rows);
                }
                return 0;
            });
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true, description = {"Put a stopped machine back to a"
        + " snapshot: what it wrote since is gone.", "",
        "An encrypted disk comes back locked (its key goes when it is unmounted) unless --key-file is given."})
    static final class Restore implements Callable<Integer> {
        @Option(names = "--key-file", paramLabel = "FILE", description = "The encrypted disk's key file: unlock it.")
        Path keyFile;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "SNAP")
        String snap;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                Path key = keyPath(keyFile);
                if (MachineCli.machines().snapshots().restore(name, snap, key)) {
                    System.err.println("hull: machine " + name + "'s disk is locked: hull machine unlock " + name
                            + " --key-file FILE");
                }
                System.out.println(name);
                return 0;
            });
        }
    }

    @Command(name = "clone", mixinStandardHelpOptions = true, sortOptions = false, description = {"Make a new machine"
        + " from a copy of another (stopped; running: frozen for the copy; or one of its snapshots).", "",
        "The clone is a machine of its own: new machine id, MAC, address (or --ip), hostname (NEW or --hostname);"
            + " the copy's /etc/machine-id, D-Bus id, random seed and ssh host keys are removed, made anew at its"
            + " first boot.", "", "Examples:", "  hull machine clone golden web2", "  hull machine start web2"})
    static final class Clone implements Callable<Integer> {
        @Option(names = "--snapshot", paramLabel = "SNAP", description = "Copy this snapshot of SRC instead.")
        String snap;
        @Option(names = "--ip", paramLabel = "ADDRESS", description = "Its IPv4 address (on SRC's network).")
        String ip;
        @Option(names = "--hostname", description = "Hostname (default: NEW).")
        String hostname;
        @Option(names = "--key-file", paramLabel = "FILE", description = "SRC's key file, for an encrypted disk.")
        Path keyFile;
        @Option(names = "--start", description = "Start it once made.")
        boolean start;
        @Parameters(index = "0", paramLabel = "SRC")
        String src;
        @Parameters(index = "1", paramLabel = "NEW")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                Machines m = MachineCli.machines();
                Path key = keyPath(keyFile);
                return made(m, m.clone(src, name, snap, ip, hostname, key), start);
            });
        }
    }

    @Command(name = "lock", mixinStandardHelpOptions = true, description = {"Evict a stopped machine's encrypted"
        + " disk key: its files' names and contents become unreadable, on the host too.", "",
        "hull machine unlock NAME --key-file FILE adds it back."})
    static final class Lock implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                if (MachineCli.machines().lock(name)) {
                    System.err.println("hull: machine " + name + ": some of its files were still open: readable"
                            + " until closed");
                }
                System.out.println(name);
                return 0;
            });
        }
    }

    @Command(name = "unlock", mixinStandardHelpOptions = true, description = "Add an encrypted machine disk's key"
            + " back (a wrong key file is refused).")
    static final class Unlock implements Callable<Integer> {
        @Option(names = "--key-file", required = true, paramLabel = "FILE", description = "Its key file.")
        Path keyFile;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                MachineCli.machines().unlock(name, keyFile);
                System.out.println(name);
                return 0;
            });
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, description = {"Write a machine as a tar"
        + " stream: its config, then what it wrote over its template (owners, modes, xattrs, ACLs, capabilities,"
        + " hard links, devices, whiteouts; sparse files stay sparse).", "",
        "A running machine is frozen (its cgroup's freezer) while its files are read, and thawed after.", "",
        "An encrypted machine's files are written in plaintext (its disk must be unlocked): the archive's"
            + " hull-machine.json says \"Plaintext\": true.", "",
        "Examples:", "  hull machine export web web.tar", "  hull machine export web - | zstd > web.tar.zst"})
    static final class Export implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "FILE", description = "The archive, or - for stdout.")
        String file;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                Machines m = MachineCli.machines();
                m.resolve(name); // a missing machine: its error, before any file is made
                ArchiveOutput.write(file.equals("-") ? null : Path.of(file), out -> m.export(name, out));
                return 0;
            });
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = {"Make a machine from an archive"
        + " hull machine export wrote (plain, gzip or zstd): the same files, machine id and ssh host keys, on this"
        + " host's network; its distribution's template is built if missing.", "",
        "An archive of an encrypted machine needs --key-file: the imported disk is encrypted under it.", "",
        "An import cut short (killed, or its archive truncated or its stream broken) leaves the machine incomplete;"
        + " --resume with the whole archive goes on from where it stopped, after checking it is the same archive.",
        "", "Examples:", "  hull machine import web.tar", "  zstd -dc web.tar.zst | hull machine import - web2",
        "  hull machine import --resume web.tar.zst web2"})
    static final class Import implements Callable<Integer> {
        @Option(names = "--key-file", paramLabel = "FILE", description = "Encrypt its disk under this key file's key.")
        Path keyFile;
        @Option(names = "--start", description = "Start it once made.")
        boolean start;
        @Option(names = "--resume", description = "Go on with an interrupted import of this archive (NAME, or the"
                + " archive's).")
        boolean resume;
        @Parameters(index = "0", paramLabel = "FILE", description = "The archive, or - for stdin.")
        String file;
        @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "Its name (default: the"
                + " archive's).")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                Machines m = MachineCli.machines();
                Path key = keyPath(keyFile);
                ContainerInfo c;
                if (file.equals("-")) {
                    c = m.importFrom(System.in, name, key, resume, System.err);
                } else {
                    // the caller's file, opened with its rights (a warm caller other than root reads only what it may)
                    try (var src = dev.hull.runtime.CallerFiles.openRead(Invocation.current().resolve(Path.of(file)),
                            "import")) {
                        if (!java.nio.file.Files.isRegularFile(src.path())) {
                            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "import " + file + ": no such file");
                        }
                        try (java.io.InputStream in = new java.io.BufferedInputStream(
                                java.nio.file.Files.newInputStream(src.path()), 1 << 16)) {
                            c = m.importFrom(in, name, key, resume, System.err);
                        }
                    }
                }
                return made(m, c, start);
            });
        }
    }

    static Object[] commands() {
        return new Object[] {new Snapshot(), new Snapshots(), new Restore(), new Clone(), new Export(), new Import(),
            new Lock(), new Unlock()};
    }
}
