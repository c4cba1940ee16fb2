package dev.hull.machine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hull.disk.Disk;
import dev.hull.engine.ContainerDisks;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerStore;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.engine.IdShift;
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
     * key file's key (needed for an archive of an encrypted machine). On failure the machine is removed.
     */
    ContainerInfo importFrom(InputStream in, String name, Path keyFile, java.io.PrintStream progress)
            throws IOException, RuntimeError {
        ContainerInfo[] made = {null};
        boolean done = false;
        try {
            TreeClones.importArchive(in, CONFIG, UPPER, json -> {
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
                if (cfg.Encrypted() && keyFile == null) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "the archive is of an encrypted machine: give"
                            + " --key-file FILE to encrypt the imported machine's disk (its files are in the archive in"
                            + " plaintext)");
                }
                String n = name != null ? name : cfg.Name();
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
                return ContainerDisks.upper(engine.containers().dir(made[0].id()));
            });
            // the archive's owners are as the machine saw them: into this machine's range
            Path dir = engine.containers().dir(made[0].id());
            IdShift.shift(ContainerDisks.upper(dir), IdShift.HOST, IdShift.of(dir));
            done = true;
            return made[0];
        } finally {
            if (!done && made[0] != null) {
                engine.remove(made[0].id(), true);
            }
        }
    }
}
