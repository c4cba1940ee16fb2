package dev.hull.image.unpack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Builds layer tars in tests, PAX format (long names, xattrs, sub-second mtimes; commons-compress
 * keeps mtimes to 100 ns).
 */
final class TarBuilder {
    static final FileTime MTIME = FileTime.from(Instant.parse("2021-03-04T05:06:07.1234567Z"));
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar;

    TarBuilder() {
        tar = new TarArchiveOutputStream(bytes);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    }

    static TarArchiveEntry entry(String name, byte type) {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        e.setModTime(MTIME);
        return e;
    }

    TarBuilder dir(String name, int mode) {
        TarArchiveEntry e = entry(name, TarConstants.LF_DIR);
        e.setMode(mode);
        return add(e, null);
    }

    TarBuilder file(String name, String content, int mode) {
        return file(name, content.getBytes(StandardCharsets.UTF_8), mode);
    }

    TarBuilder file(String name, byte[] content, int mode) {
        TarArchiveEntry e = entry(name, TarConstants.LF_NORMAL);
        e.setMode(mode);
        e.setSize(content.length);
        return add(e, content);
    }

    TarBuilder symlink(String name, String target) {
        TarArchiveEntry e = entry(name, TarConstants.LF_SYMLINK);
        e.setLinkName(target);
        e.setMode(0777);
        return add(e, null);
    }

    TarBuilder hardlink(String name, String target) {
        TarArchiveEntry e = entry(name, TarConstants.LF_LINK);
        e.setLinkName(target);
        return add(e, null);
    }

    /** Adds e (with content, or none); the caller set size, mode, ownership, PAX headers. */
    TarBuilder add(TarArchiveEntry e, byte[] content) {
        try {
            tar.putArchiveEntry(e);
            if (content != null) {
                tar.write(content);
            }
            tar.closeArchiveEntry();
            return this;
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    /** A raw PAX extended header ('x') with the given record bytes, applying to the next entry. */
    TarBuilder rawPax(byte[] records) {
        TarArchiveEntry e = new TarArchiveEntry("./PaxHeaders/x", TarConstants.LF_PAX_EXTENDED_HEADER_LC, true);
        e.setSize(records.length);
        e.setModTime(FileTime.fromMillis(0)); // a sub-second time would make the writer add a PAX header of its own
        return add(e, records);
    }

    /** One PAX record "LEN key=value\n" with value as raw bytes. */
    static byte[] paxRecord(String key, byte[] value) {
        byte[] k = (" " + key + "=").getBytes(StandardCharsets.UTF_8);
        int body = k.length + value.length + 1;
        int len = body + String.valueOf(body).length();
        if (String.valueOf(len).length() != String.valueOf(body).length()) {
            len++;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(String.valueOf(len).getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(k);
        out.writeBytes(value);
        out.write('\n');
        return out.toByteArray();
    }

    /** The finished tar (end blocks included). */
    byte[] bytes() {
        try {
            tar.finish();
            tar.close();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
        return bytes.toByteArray();
    }

    static byte[] compress(Compression c, byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream z = c.compress(out)) {
            z.write(plain);
        }
        return out.toByteArray();
    }
}
