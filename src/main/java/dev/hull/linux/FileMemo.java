package dev.hull.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What small files that are replaced whole (written beside, then renamed over) parse to, kept in
 * memory and checked against the file on every use: a stat instead of a read and a parse. The
 * file stays the truth, whoever writes it (another process, a monitor, a command killed -9): an
 * entry is used only while the file has the same inode, size and modification time as when it
 * was read. A file modified within {@link #SETTLE_MS} of its stat is not remembered (its next
 * write could carry the same coarse timestamp: the kernel's file clock ticks in jiffies; git's
 * "racy" entries, the same way). Values are shared: callers must not change them.
 */
public final class FileMemo<T> {
    /** Files younger than this at their stat are read again next time. */
    static final long SETTLE_MS = 200;
    private static final int MAX_ENTRIES = 8192;

    @FunctionalInterface
    public interface Parser<T> {
        T parse(byte[] bytes) throws IOException;
    }

    private record Entry(Object fileKey, long modifiedNanos, long size, Object value) {
        boolean matches(BasicFileAttributes a) {
            return a.size() == size && java.util.Objects.equals(a.fileKey(), fileKey)
                    && nanos(a) == modifiedNanos;
        }
    }

    private final ConcurrentHashMap<Path, Entry> entries = new ConcurrentHashMap<>();
    private final Parser<T> parser;

    public FileMemo(Parser<T> parser) {
        this.parser = parser;
    }

    /** The file's value, or null when there is no such file. */
    @SuppressWarnings("unchecked")
    public T read(Path file) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            entries.remove(file);
            return null;
        }
        long now = System.currentTimeMillis(); // after the stat: a later write is at least this new
        Entry e = entries.get(file);
        if (e != null && e.matches(a)) {
            return (T) e.value();
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file); // read after the stat: if replaced meanwhile, the key is stale, not the value
        } catch (NoSuchFileException gone) {
            entries.remove(file);
            return null;
        }
        T value = parser.parse(bytes);
        if (a.lastModifiedTime().toMillis() < now - SETTLE_MS && bytes.length == a.size()) {
            if (entries.size() >= MAX_ENTRIES) {
                entries.clear(); // containers come and go: forget the lot rather than keep the gone ones
            }
            entries.put(file, new Entry(a.fileKey(), nanos(a), a.size(), value));
        } else {
            entries.remove(file);
        }
        return value;
    }

    private static long nanos(BasicFileAttributes a) {
        return a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }
}
