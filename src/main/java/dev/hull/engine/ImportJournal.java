package dev.hull.engine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;

/**
 * What makes an archive import ({@code hull machine import}, {@code hull volume import}) resumable: a small
 * file beside what is imported recording how far it got, so that an import cut short (killed, or its archive
 * truncated, or a stream that broke) can go on with {@code --resume} instead of writing everything again.
 * <p>
 * The reader ({@link TarReading#readTar}) keeps a chain
 * digest of the archive: after each entry, SHA-256 of the previous link, the entry's header (name, type, mode,
 * owner, size, time, link target, device, extended attributes) and the SHA-256 of its content. Every
 * {@link #EVERY} entries (and every {@link #EVERY_BYTES} of content, and after the first entry) the journal
 * records the number of entries written and the chain's link after the last of them; a resume reads the archive
 * again from its start, writes nothing for the entries already written (directories excepted: they exist, and
 * get their modes and times at the end as in any import), only digests them, and goes on writing from the first
 * entry not recorded. The archive must be the same one: its first entry's link and the link at the recorded
 * entry must be those the journal holds, else the resume is refused before (or without) writing anything more.
 * Entries written after the last record are written again (what stands in their way is replaced), so the result
 * is the same as an import that was never interrupted. The journal is removed when the import ends whole;
 * an import that ends before the tar's end-of-archive marker is cut short, not whole.
 */
public final class ImportJournal implements TarReading.Progress {
    public static final String FILE = "import-journal.json";
    static final long EVERY = 256, EVERY_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A resume refused: the archive is not the one the interrupted import read. */
    public static final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    /** The file's content. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Recorded(String First, long Entries, String Chain) {}

    private final boolean resume;
    private Path file;
    private Recorded recorded;
    private String first;
    private long written, unsaved, unsavedBytes;

    private ImportJournal(boolean resume) {
        this.resume = resume;
    }

    /** A journal whose file is named later ({@link #at}): a machine's, known once the archive's config is read. */
    public static ImportJournal of(boolean resume) {
        return new ImportJournal(resume);
    }

    /** A fresh import's journal at file (a stale one removed), or a resume's from file (which must be there). */
    public static ImportJournal at(Path file, boolean resume) throws IOException {
        ImportJournal j = new ImportJournal(resume);
        j.at(file);
        return j;
    }

    /** Whether an interrupted import left its journal at file. */
    public static boolean pending(Path file) {
        return Files.exists(file);
    }

    /** Names the file: a resume loads it (a missing one: there is nothing to resume), a fresh import drops a stale one. */
    public void at(Path file) throws IOException {
        this.file = file;
        if (!resume) {
            Files.deleteIfExists(file);
            return;
        }
        if (!Files.exists(file)) {
            throw new Refused("no interrupted import to resume (" + file + " is not there): import it afresh");
        }
        recorded = JSON.readValue(file.toFile(), Recorded.class);
    }

    /** Entries written by the import this one resumes. */
    public long resumedFrom() {
        return recorded == null ? 0 : recorded.Entries();
    }

    @Override
    public boolean done(long index) {
        return recorded != null && index < recorded.Entries();
    }

    @Override
    public void entered(long index, byte[] chain, long size) throws IOException {
        String link = HexFormat.of().formatHex(chain);
        if (index == 0) {
            first = link;
            if (recorded != null && !link.equals(recorded.First())) {
                throw new Refused("not the archive the interrupted import read: its first entry differs");
            }
        }
        if (recorded != null && index == recorded.Entries() - 1 && !link.equals(recorded.Chain())) {
            throw new Refused("not the archive the interrupted import read: its first " + recorded.Entries()
                    + " entries differ");
        }
        if (done(index)) {
            return;
        }
        written = index + 1;
        unsaved++;
        unsavedBytes += size;
        if (file != null && (index == 0 || unsaved >= EVERY || unsavedBytes >= EVERY_BYTES)) {
            save(link);
        }
    }

    @Override
    public void ended(long entries, boolean marked) throws IOException {
        if (recorded != null && entries < recorded.Entries()) {
            throw new Refused("the archive has " + entries + " entries, the interrupted import had written "
                    + recorded.Entries() + ": not the same archive, or it is still cut short");
        }
        if (!marked) {
            throw new java.io.EOFException("the archive is cut short: it ends after " + entries + " entries, without"
                    + " the end-of-archive marker");
        }
    }

    /** The import ended whole: the journal goes. */
    public void finish() throws IOException {
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    /** Entries written, counting those of the import resumed. */
    public long written() {
        return Math.max(written, resumedFrom());
    }

    private void save(String link) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writeValue(tmp.toFile(), new Recorded(first, written, link));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        unsaved = 0;
        unsavedBytes = 0;
    }
}
