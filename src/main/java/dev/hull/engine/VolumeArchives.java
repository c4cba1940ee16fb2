package dev.hull.engine;

import static dev.hull.linux.AtFiles.*;

import dev.hull.disk.Disk;
import dev.hull.linux.AtFiles;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * {@code hull volume export} and {@code import}: a volume's content as a tar stream (podman's
 * format: the content at the archive's root), kept whole — owners, modes, times, hard links,
 * device nodes, FIFOs, extended attributes (ACLs, file capabilities, user.*; see
 * {@link ArchiveXattrs}), and the root directory's own owner and mode as "./". Sparse files come
 * back sparse: blocks of zeros are written as holes.
 * <p>
 * Both sides go through {@link TreeCopy}: the walk never follows a symlink, and the import makes
 * each entry beneath the volume's directory (an archive naming .. or leading through a symlink
 * is refused), so a hostile archive cannot write outside the volume.
 */
public final class VolumeArchives {
    private final VolumeStore volumes;

    public VolumeArchives(VolumeStore volumes) {
        this.volumes = volumes;
    }

    /** Writes the volume's content to out as a tar stream; the bytes of file content. */
    public long export(String name, OutputStream out) throws IOException, RuntimeError {
        int fd = open(name);
        try {
            AtFiles.Stat st = AtFiles.fstat(fd);
            TreeCopy.TarSink sink = new TreeCopy.TarSink(out, true);
            // a file system mounted below the content (none Hull makes) is not the volume's: left empty
            TreeCopy.Walker w = new TreeCopy.Walker(sink, st.dev(), true);
            w.directory(fd, "", TreeCopy.Meta.of(st).withXattrs(dev.hull.linux.FdXattrs.read(fd)));
            sink.finish();
            return sink.bytes();
        } finally {
            Syscalls.close(fd);
        }
    }

    /**
     * Adds a tar stream's entries (plain, gzip or zstd) to the volume's content, replacing what
     * stands in their way, as {@code podman volume import} does; the bytes of file content. The import
     * keeps a journal beside the content (see {@link ImportJournal}) while it runs: one cut short (killed,
     * an archive that ends early) is gone on with by resume with the same archive, from where it stopped.
     */
    public long importInto(String name, InputStream in, boolean resume) throws IOException, RuntimeError {
        int fd = open(name);
        try (TreeCopy.DirWriter w = new TreeCopy.DirWriter(fd, null, null, true, "volume " + name + ":", true)) {
            ImportJournal journal = ImportJournal.at(journal(name), resume);
            TarReading.readTar(dev.hull.image.unpack.Compression.decompressAny(in), w, journal);
            journal.finish();
            return w.bytes();
        } catch (ImportJournal.Refused e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "volume " + name + ": import --resume: " + e.getMessage());
        } finally {
            Syscalls.close(fd);
        }
    }

    /** Where a volume's import records its progress: beside its content, not in it. */
    private Path journal(String name) {
        return volumes.root().resolve(name).resolve(ImportJournal.FILE);
    }

    /** Whether an import into the volume was cut short (and can be resumed). */
    public boolean importing(String name) {
        return ImportJournal.pending(journal(name));
    }

    /** The volume's content directory, open for reading; a locked encrypted volume is an error. */
    private int open(String name) throws IOException, RuntimeError {
        Path content = volumes.mountpoint(name, false);
        Path dir = volumes.root().resolve(name);
        if (Disk.exists(dir) && Disk.status(dir).locked()) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "volume " + name + " is locked: its key is not"
                    + " loaded (hull volume unlock --key-file FILE " + name + ")");
        }
        return AtFiles.openat2(AT_FDCWD, content.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 0);
    }
}
