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
 * libarchive's form is read too: {@code LIBARCHIVE.xattr.NAME} with the name %-encoded and the
 * value in base64 (what Hull writes for a value that is not UTF-8 text).
 */
public final class XattrTarInputStream extends TarArchiveInputStream {
    private static final String SCHILY_XATTR = "SCHILY.xattr.", LIBARCHIVE_XATTR = "LIBARCHIVE.xattr.";
    private final ByteArrayOutputStream pax = new ByteArrayOutputStream();
    private int depth; // getNextEntry calls itself after reading a PAX header

    public XattrTarInputStream(InputStream in) {
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

    /** Whether the entries ended at the tar's end-of-archive marker (not at a stream that stopped short). */
    public boolean endMarked() {
        return isAtEOF();
    }

    /** The current entry's xattr PAX records (SCHILY.xattr.*, LIBARCHIVE.xattr.*): name to raw value. */
    public Map<String, byte[]> xattrs() throws IOException {
        Map<String, byte[]> xattrs = new LinkedHashMap<>();
        if (pax.size() == 0) {
            return xattrs;
        }
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
            } else if (key.startsWith(LIBARCHIVE_XATTR) && key.length() > LIBARCHIVE_XATTR.length()) {
                try {
                    xattrs.put(percentDecoded(key.substring(LIBARCHIVE_XATTR.length())), java.util.Base64.getDecoder()
                            .decode(new String(b, eq + 1, end - 1 - (eq + 1), StandardCharsets.US_ASCII).trim()));
                } catch (IllegalArgumentException e) {
                    throw new IOException("malformed " + key + " PAX record (a %-encoded name and a base64 value)");
                }
            }
            i = end;
        }
        return xattrs;
    }

    /** libarchive's %XX encoding of an xattr name undone. */
    static String percentDecoded(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
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
