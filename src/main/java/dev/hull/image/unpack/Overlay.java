package dev.hull.image.unpack;

import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;

/** The overlayfs on-disk conventions a layer directory follows: whiteouts and opaque directories. */
final class Overlay {
    /** Tar (OCI/docker) markers. */
    static final String WHITEOUT_PREFIX = ".wh.", OPAQUE_MARKER = ".wh..wh..opq";
    /** overlayfs xattrs; every trusted.overlay.* belongs to overlayfs, not to the image. */
    static final String OPAQUE_XATTR = "trusted.overlay.opaque", XATTR_PREFIX = "trusted.overlay.";
    private static final byte[] YES = "y".getBytes(StandardCharsets.US_ASCII);

    private Overlay() {}

    /** Makes the whiteout for path: a 0:0 character device (path must not exist). */
    static void makeWhiteout(Path path) throws IOException {
        Syscalls.mknod(path.toString(), Syscalls.S_IFCHR, 0);
    }

    /** Whether path (not followed) is a whiteout: a character device numbered 0:0. */
    static boolean isWhiteout(Path path) throws IOException {
        int mode = (int) java.nio.file.Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & Syscalls.S_IFMT) == Syscalls.S_IFCHR
                && (long) java.nio.file.Files.getAttribute(path, "unix:rdev", LinkOption.NOFOLLOW_LINKS) == 0;
    }

    static void markOpaque(Path dir) throws IOException {
        Syscalls.lsetxattr(dir.toString(), OPAQUE_XATTR, YES);
    }

    static boolean isOpaque(Path dir) throws IOException {
        return Arrays.equals(Syscalls.lgetxattr(dir.toString(), OPAQUE_XATTR), YES);
    }
}
