package dev.hull.engine;

import static dev.hull.linux.AtFiles.*;

import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * The reading side of {@link TreeCopy}'s tar streams: entries to a {@link TreeCopy.Sink}, and for an import that
 * can be resumed ({@link ImportJournal}) the archive's chain digest and the skipping of what was written.
 */
final class TarReading {
    private TarReading() {}

    /** What an import that can be resumed is told as it reads (see {@link ImportJournal}). */
    interface Progress {
        /** Whether entry index was written by the import this one resumes: only digested (a directory: made again). */
        boolean done(long index);

        /** Entry index read (and written unless done): chain is the archive's digest up to it, size its content's. */
        void entered(long index, byte[] chain, long size) throws IOException;

        /** The entries are over: how many, and whether the tar's end-of-archive marker ended them. */
        void ended(long entries, boolean marked) throws IOException;
    }

    /**
     * Feeds a tar stream's entries to sink. Names are taken relative ("/" and "./" prefixes
     * dropped); a name or hard link with a ".." component is refused, naming it. Directories get
     * their modes and times at the end, deepest first. With progress: the archive's chain digest is
     * kept and told entry by entry, entries progress says are done are skipped (directories excepted).
     */
    static void readTar(InputStream in, TreeCopy.Sink sink, Progress progress) throws IOException {
        dev.hull.image.unpack.XattrTarInputStream tar = new dev.hull.image.unpack.XattrTarInputStream(in);
        List<String[]> dirs = new ArrayList<>();
        List<TreeCopy.Meta> dirMetas = new ArrayList<>();
        byte[] chain = new byte[32];
        long index = -1;
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) {
            index++;
            String path = TreeCopy.clean(e.getName());
            java.time.Instant mtime = e.getLastModifiedTime() == null ? java.time.Instant.EPOCH
                    : e.getLastModifiedTime().toInstant();
            int type = e.isDirectory() ? S_IFDIR : e.isSymbolicLink() ? S_IFLNK : e.isFIFO() ? S_IFIFO
                    : e.isCharacterDevice() ? S_IFCHR : e.isBlockDevice() ? S_IFBLK : S_IFREG;
            long rdev = e.isCharacterDevice() || e.isBlockDevice()
                    ? Syscalls.makedev(e.getDevMajor(), e.getDevMinor()) : 0;
            TreeCopy.Meta m = new TreeCopy.Meta(type | (e.getMode() & 07777), (int) e.getLongUserId(), (int) e.getLongGroupId(),
                    e.getSize(), mtime.getEpochSecond(), mtime.getNano(), rdev, tar.xattrs());
            java.security.MessageDigest content = progress == null ? null : sha256();
            InputStream data = progress == null ? tar : new java.security.DigestInputStream(tar, content);
            boolean skip = progress != null && progress.done(index) && !e.isDirectory();
            if (e.isDirectory()) {
                sink.directory(path, m);
                dirs.add(new String[] {path});
                dirMetas.add(m);
            } else if (path.isEmpty()) {
                throw new IOException("archive entry " + e.getName() + ": not a directory, yet names the destination");
            } else if (skip) {
                // written by the import this one resumes: only its digest
            } else if (e.isSymbolicLink()) {
                sink.symlink(path, m, e.getLinkName());
            } else if (e.isLink()) {
                sink.hardlink(path, TreeCopy.clean(e.getLinkName()));
            } else if (e.isFIFO() || e.isCharacterDevice() || e.isBlockDevice()) {
                sink.special(path, m);
            } else if (e.isFile()) {
                sink.file(path, m, TreeCopy.ofStream(data));
            }
            // other entry types (GNU volume headers, ...) carry nothing to copy
            if (progress != null) {
                data.transferTo(OutputStream.nullOutputStream()); // what the sink left (a skipped file: all)
                chain = link(chain, e, m, content.digest());
                progress.entered(index, chain, e.isFile() ? e.getSize() : 0);
            }
        }
        if (progress != null) {
            progress.ended(index + 1, tar.endMarked());
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < dirs.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingInt((Integer i) -> dirs.get(i)[0].split("/").length).reversed());
        for (int i : order) {
            sink.directoryDone(dirs.get(i)[0], dirMetas.get(i));
        }
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException x) {
            throw new IllegalStateException(x);
        }
    }

    /** The chain's next link: SHA-256 of the previous one, the entry's header and its content's digest. */
    private static byte[] link(byte[] previous, TarArchiveEntry e, TreeCopy.Meta m, byte[] content) throws IOException {
        java.security.MessageDigest d = sha256();
        java.io.DataOutputStream out = new java.io.DataOutputStream(new java.security.DigestOutputStream(
                OutputStream.nullOutputStream(), d));
        out.write(previous);
        out.writeUTF(e.getName());
        out.writeByte(e.isLink() ? 1 : 0);
        out.writeUTF(e.getLinkName() == null ? "" : e.getLinkName());
        out.writeInt(m.mode());
        out.writeInt(m.uid());
        out.writeInt(m.gid());
        out.writeLong(m.size());
        out.writeLong(m.mtimeSec());
        out.writeInt(m.mtimeNsec());
        out.writeLong(m.rdev());
        for (Map.Entry<String, byte[]> x : new java.util.TreeMap<>(m.xattrs()).entrySet()) {
            out.writeUTF(x.getKey());
            out.writeInt(x.getValue().length);
            out.write(x.getValue());
        }
        out.write(content);
        out.flush();
        return d.digest();
    }

}
