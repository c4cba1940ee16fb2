package dev.hull.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Which user namespace this process runs in. */
public final class UserNamespaces {
    private static volatile Boolean nested;

    private UserNamespaces() {}

    /**
     * Whether this process is in a user namespace other than the initial one (rootless Hull: root of
     * the user's namespace), by its uid_map: the initial namespace maps 0..2^32-2 onto itself. There
     * mknod is refused (devices are bind mounts of the host's) and the host's cgroups are not ours.
     */
    public static boolean nested() {
        Boolean n = nested;
        if (n == null) {
            try {
                n = !Files.readString(Path.of("/proc/self/uid_map")).trim().matches("0\\s+0\\s+4294967295");
            } catch (IOException e) {
                n = false;
            }
            nested = n;
        }
        return n;
    }
}
