package dev.hull.engine;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Extended attributes in archives Hull writes and reads back (volume export and import). In the
 * tar stream: a value that is UTF-8 text as {@code SCHILY.xattr.NAME} (GNU tar's and Go's form), any
 * other (ACLs, file capabilities) as libarchive's {@code LIBARCHIVE.xattr.NAME} in base64, since
 * commons-compress writes PAX values as UTF-8 text only.
 * <p>
 * Restored from an archive are only the attributes a file's owner or the file's meaning needs:
 * {@code user.*}, POSIX ACLs and file capabilities. {@code trusted.*} (overlayfs keeps its
 * redirects and whiteouts there: an archive must not be able to plant them) and other
 * {@code security.*} labels are left out.
 */
final class ArchiveXattrs {
    private ArchiveXattrs() {}

    static boolean restorable(String name) {
        return name.startsWith("user.") && name.length() > 5 || name.equals("system.posix_acl_access")
                || name.equals("system.posix_acl_default") || name.equals("security.capability");
    }

    /** Adds x to the entry's PAX headers. */
    static void write(TarArchiveEntry e, Map<String, byte[]> x) {
        for (Map.Entry<String, byte[]> a : x.entrySet()) {
            String text = text(a.getValue());
            if (text != null) {
                e.addPaxHeader("SCHILY.xattr." + a.getKey(), text);
            } else {
                e.addPaxHeader("LIBARCHIVE.xattr." + percentEncoded(a.getKey()),
                        Base64.getEncoder().encodeToString(a.getValue()));
            }
        }
    }

    /** The value as text if it is UTF-8 without NUL (so it goes through a UTF-8 PAX value unchanged); else null. */
    private static String text(byte[] v) {
        for (byte b : v) {
            if (b == 0) {
                return null;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(v)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** libarchive's name encoding: bytes other than letters, digits and . _ - as %XX. */
    static String percentEncoded(String name) {
        StringBuilder out = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
                    || c == '-') {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }
}
