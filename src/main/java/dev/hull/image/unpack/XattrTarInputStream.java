package dev.hull.image.unpack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A TarArchiveInputStream that also keeps the raw bytes of each entry's PAX header, so xattr values
 * come out byte for byte: commons-compress decodes PAX values as UTF-8, which mangles binary values
 * such as security.capability (Go's archive/tar, which writes most layers, stores them raw).
 */
final class XattrTarInputStream extends TarArchiveInputStream {
    private static final String SCHILY_XATTR = "SCHILY.xattr.";
    private final ByteArrayOutputStream pax = new ByteArrayOutputStream();
    private int depth; // getNextEntry calls itself after reading a PAX header

    XattrTarInputStream(InputStream in) {
        super(in);
    }

    @Override
    public TarArchiveEntry getNextEntry() throws IOException {
        if (depth++ == 0) {
            pax.reset();
        }
        try {
            return super.getNextEntry();
        } finally {
            depth--;
        }
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        TarArchiveEntry current = getCurrentEntry();
        if (n > 0 && current != null && current.isPaxHeader()) {
            pax.write(buf, off, n);
        }
        return n;
    }

    /** The current entry's SCHILY.xattr.* PAX records: name (without the prefix) to raw value. */
    Map<String, byte[]> xattrs() throws IOException {
        Map<String, byte[]> xattrs = new LinkedHashMap<>();
        byte[] b = pax.toByteArray();
        int i = 0;
        while (i < b.length) {
            int space = indexOf(b, (byte) ' ', i);
            int length;
            try {
                length = space < 0 ? -1 : Integer.parseInt(new String(b, i, space - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                length = -1;
            }
            int end = i + length;
            int eq = space < 0 ? -1 : indexOf(b, (byte) '=', space + 1);
            if (length <= 0 || end > b.length || eq < 0 || eq >= end || b[end - 1] != '\n') {
                throw new IOException("malformed PAX header record at byte " + i);
            }
            String key = new String(b, space + 1, eq - space - 1, StandardCharsets.UTF_8);
            if (key.startsWith(SCHILY_XATTR) && key.length() > SCHILY_XATTR.length()) {
                xattrs.put(key.substring(SCHILY_XATTR.length()), Arrays.copyOfRange(b, eq + 1, end - 1));
            }
            i = end;
        }
        return xattrs;
    }

    private static int indexOf(byte[] b, byte c, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
