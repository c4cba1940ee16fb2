package dev.hull.machine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hull.disk.Disk;
import dev.hull.engine.ContainerDisks;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerStore;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.engine.IdShift;
import dev.hull.engine.ImportJournal;
import dev.hull.engine.TreeClones;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * {@code hull machine export NAME FILE|-} and {@code import FILE|- [NAME]}: a machine as one tar stream,
 * to back it up or move it to another host. The archive's first entry, {@code hull-machine.json}, is
 * its config (distribution or image, the template's digest, limits, hostname, disk size, whether its
 * disk was encrypted); then {@code upper/}: what the machine wrote over its template (its overlay's
 * upper layer, whiteouts of the template files it removed included), with owners, modes, times, hard
 * links, device nodes, ACLs, file capabilities, user.* attributes and opaque-directory marks; sparse
 * files come back sparse. An import builds the distribution's template where it is missing and makes
 * a machine of it with that layer: the same files, the same machine id and ssh host keys (a move, not
 * a clone), on the importing host's network. The format has room for more entries (a checkpoint). A
 * running machine is frozen (its cgroup's freezer, as for a snapshot) while its files are read, so the
 * archive is one instant of it, and thawed after.
 * <p>
 * An encrypted machine is exported as plaintext — its files as the machine sees them (the disk must be
 * unlocked), {@code "Plaintext": true} in the config says so — and is imported onto a new encrypted disk
 * only with --key-file (a key of the importing host's choosing), else refused.
 */
final class MachineArchives {
    static final String CONFIG = "hull-machine.json", UPPER = "upper", FORMAT = "hull-machine/1";

    /** What hull-machine.json holds. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Config(String Format, String Name, String Distro, String Image, String TemplateId, long Memory,
            double Cpus, Long Pids, String Hostname, long DiskSize, boolean Encrypted, boolean Plaintext,
            boolean Autostart, boolean Privileged) {}

    private final Machines machines;
    private final Engine engine;

    MachineArchives(Machines machines) {
        this.machines = machines;
        this.engine = machines.engine();
    }

    /** Streams the machine (a running one frozen meanwhile) to out; the bytes of file content. */
    long export(String ref, OutputStream out) throws IOException, RuntimeError {
        ContainerInfo c = machines.resolve(ref);
        try (ContainerStore.Locked locked = engine.containers().lock(c)) {
            Path dir = engine.containers().dir(c.id());
            boolean disk = Disk.exists(dir);
            if (disk && Disk.status(dir).locked()) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "machine " + c.name() + "'s disk is locked: an"
                        + " export holds its files in plaintext, so it needs them readable (hull machine unlock "
                        + c.name() + " --key-file FILE)");
            }
            CreateOptions o = c.options();
            String distro = Machines.distroOf(c);
            Config cfg = new Config(FORMAT, c.name(), distro, distro == null ? c.image() : null,
                    c.imageId(), o.memory, o.cpus, o.pidsLimit, o.hostname != null && !o.hostname.equals(c.name())
                            ? o.hostname : null, disk ? Disk.meta(dir).Size() : 0,
                    disk && Disk.meta(dir).Encrypted(), true, "true".equals(o.labels.get(Machines.LABEL_AUTOSTART)),
                    !Machines.unprivileged(engine, c));
            byte[] json = MachineSnapshots.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(cfg);
            // a running machine frozen while its files are read (a snapshot's freeze: thawed after, also
            // on failure; a killed export's freeze is undone by the machine's next snapshot command)
            try (MachineSnapshots.Frozen f = machines.snapshots().freeze(c)) {
                // owners as the machine sees them (its root 0): an import puts them in its own range
                return TreeClones.exportArchive(CONFIG, json, ContainerDisks.upper(dir), UPPER, out, IdShift.of(dir));
            }
        }
    }

    /**
     * Makes a machine (name, or the archive's) from the archive in; keyFile: its disk encrypted under that
     * key file's key (needed for an archive of an encrypted machine). On failure the machine is removed, but
     * for an archive that ended short or whose stream broke (a download cut, a truncated file): that machine is
     * kept, incomplete (it does not start), for a resume. resume: goes on with the machine (name, or the
     * archive's) an interrupted import of this same archive left (see {@link ImportJournal}).
     */
    ContainerInfo importFrom(InputStream raw, String name, Path keyFile, boolean resume, java.io.PrintStream progress)
            throws IOException, RuntimeError {
        ContainerInfo[] made = {null}, resumed = {null};
        boolean done = false;
        ImportJournal journal = ImportJournal.of(resume);
        Watched in = new Watched(raw);
        try {
            TreeClones.importArchive(in, CONFIG, UPPER, json -> {
                Config cfg = config(json);
                String n = name != null ? name : cfg.Name();
                if (resume) {
                    ContainerInfo c = machines.resolve(n);
                    resumed[0] = c;
                    Path dir = engine.containers().dir(c.id());
                    try {
                        journal.at(dir.resolve(ImportJournal.FILE));
                    } catch (ImportJournal.Refused e) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "machine " + c.name() + ": " + e.getMessage());
                    }
                    progress.println("hull: machine " + c.name() + ": resuming its import after "
                            + journal.resumedFrom() + " entries");
                    return new TreeClones.Destination(ContainerDisks.upper(dir), IdShift.of(dir));
                }
                if (cfg.Encrypted() && keyFile == null) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "the archive is of an encrypted machine: give"
                            + " --key-file FILE to encrypt the imported machine's disk (its files are in the archive in"
                            + " plaintext)");
                }
                if (keyFile != null && cfg.DiskSize() == 0) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--key-file: the archive's machine has no disk"
                            + " of its own to encrypt");
                }
                made[0] = machines.create(new Machines.Request(n, cfg.Distro(), cfg.Image(), cfg.Memory(), cfg.Cpus(),
                        cfg.Pids(), cfg.Hostname(), null, null, cfg.Autostart(), null, null,
                        cfg.DiskSize() > 0 ? String.valueOf(cfg.DiskSize()) : null, keyFile != null, keyFile,
                        cfg.Privileged(), null), progress);
                if (cfg.TemplateId() != null && !cfg.TemplateId().equals(made[0].imageId())) {
                    progress.println("hull: machine " + n + ": this host's " + (cfg.Distro() != null ? cfg.Distro()
                            + " template" : "image " + cfg.Image()) + " is not the exported machine's (" + cfg.TemplateId()
                            + "): its files over it are restored as they were");
                }
                Path dir = engine.containers().dir(made[0].id());
                journal.at(dir.resolve(ImportJournal.FILE));
                // the archive's owners are as the machine saw them: written into this machine's range
                return new TreeClones.Destination(ContainerDisks.upper(dir), IdShift.of(dir));
            }, journal);
            journal.finish();
            done = true;
            return made[0] != null ? made[0] : resumed[0];
        } catch (ImportJournal.Refused e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "import --resume: " + e.getMessage());
        } catch (IOException e) {
            if (made[0] != null && in.broken() && journal.written() > 0) {
                done = true; // kept for a resume
                progress.println("hull: machine " + made[0].name() + " is kept, incomplete (it does not start): its"
                        + " import stopped after " + journal.written() + " entries (" + e.getMessage() + "); once the"
                        + " archive is whole, hull machine import --resume FILE " + made[0].name() + " goes on from"
                        + " there (or hull machine rm " + made[0].name() + ")");
            }
            throw e;
        } finally {
            if (!done && made[0] != null) {
                engine.remove(made[0].id(), true);
            }
        }
    }

    /** hull-machine.json read and checked. */
    private static Config config(byte[] json) throws RuntimeError {
        Config cfg;
        try {
            cfg = MachineSnapshots.JSON.readValue(json, Config.class);
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "not a machine archive: " + CONFIG + ": "
                    + e.getMessage());
        }
        if (!FORMAT.equals(cfg.Format())) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "not a machine archive Hull reads: format "
                    + cfg.Format() + " (this Hull reads " + FORMAT + ")");
        }
        return cfg;
    }

    /** Whether a machine's import was interrupted (it is incomplete until resumed). */
    static boolean importing(Path containerDir) {
        return ImportJournal.pending(containerDir.resolve(ImportJournal.FILE));
    }

    /** The archive's stream, telling whether it ended or failed (a cut archive) rather than what was read from it. */
    private static final class Watched extends java.io.FilterInputStream {
        private boolean broken;

        Watched(InputStream in) {
            super(in);
        }

        boolean broken() {
            return broken;
        }

        @Override
        public int read() throws IOException {
            try {
                int b = super.read();
                broken |= b < 0;
                return b;
            } catch (IOException e) {
                broken = true;
                throw e;
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = super.read(b, off, len);
                broken |= n < 0;
                return n;
            } catch (IOException e) {
                broken = true;
                throw e;
            }
        }
    }
}
