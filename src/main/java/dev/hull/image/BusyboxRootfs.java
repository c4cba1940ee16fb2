package dev.hull.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The built-in {@code busybox} image: a root filesystem made from Debian's
 * static busybox with every applet linked, as {@code busybox --install -s}
 * would, plus the few files a container expects (/etc/passwd, /tmp, ...).
 * Built into a temporary directory and renamed into place, so a killed build
 * never leaves a half-made rootfs behind.
 */
public final class BusyboxRootfs {
    /** Where Debian's busybox-static puts the binary. */
    public static final Path HOST_BUSYBOX = Path.of("/bin/busybox");
    private static final String MARKER = ".hull-busybox-rootfs";
    /** Directories of the rootfs (besides tmp, which is 1777). */
    static final List<String> DIRS = List.of("bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys",
            "root", "home", "var/log", "run", "mnt");
    static final String PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    static final String GROUP = "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n";
    static final String HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost\n";

    private BusyboxRootfs() {}

    public static boolean isReady(Path rootfs) {
        return Files.isRegularFile(rootfs.resolve(MARKER));
    }

    /** Makes sure rootfs holds the busybox image; returns rootfs. */
    public static Path ensure(Path rootfs) throws IOException {
        if (isReady(rootfs)) {
            // Roots made by older versions were 0700, which mapped (user namespace) ids cannot enter.
            if (!Files.getPosixFilePermissions(rootfs).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                Files.setPosixFilePermissions(rootfs, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            return rootfs;
        }
        if (!isStaticBusybox(HOST_BUSYBOX)) {
            throw new IOException(HOST_BUSYBOX + " is missing or not statically linked: install Debian's busybox-static"
                    + " (apt-get install busybox-static)");
        }
        Path parent = rootfs.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, ".busybox-");
        try {
            build(tmp);
            try {
                Files.move(tmp, rootfs, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                if (!isReady(rootfs)) {
                    throw new IOException(rootfs + " exists but is not a busybox rootfs; remove it", e);
                }
            }
        } finally {
            if (Files.exists(tmp)) {
                deleteTree(tmp);
            }
        }
        return rootfs;
    }

    public static boolean isStaticBusybox(Path bin) throws IOException {
        if (!Files.isRegularFile(bin)) {
            return false;
        }
        // A static ELF has no PT_INTERP; cheap check: no "ld-linux" interpreter path in the first pages.
        byte[] head;
        try (InputStream in = Files.newInputStream(bin)) {
            head = in.readNBytes(4096);
        }
        return new String(head, StandardCharsets.ISO_8859_1).indexOf("/lib64/ld-linux") < 0;
    }

    private static void build(Path root) throws IOException {
        // createTempDirectory made it 0700: a rootfs must be usable by the (mapped) users of a container.
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String d : DIRS) {
            Files.createDirectories(root.resolve(d));
        }
        Path tmp = Files.createDirectories(root.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.copy(HOST_BUSYBOX, root.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : applets()) {
            Path link = root.resolve(applet);
            if (applet.equals("bin/busybox") || Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, Path.of("/bin/busybox"));
        }
        Files.writeString(root.resolve("etc/passwd"), PASSWD);
        Files.writeString(root.resolve("etc/group"), GROUP);
        Files.writeString(root.resolve("etc/hosts"), HOSTS);
        Files.writeString(root.resolve(MARKER), "busybox rootfs made by Hull from " + HOST_BUSYBOX + "\n");
    }

    /** Applet paths relative to /, from busybox itself. */
    static List<String> applets() throws IOException {
        Process p = new ProcessBuilder(HOST_BUSYBOX.toString(), "--list-full").redirectErrorStream(true).start();
        List<String> out = new ArrayList<>();
        try (var r = p.inputReader()) {
            r.lines().map(String::strip).filter(s -> !s.isEmpty()).forEach(out::add);
        }
        try {
            if (p.waitFor() != 0) {
                throw new IOException(HOST_BUSYBOX + " --list-full failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (out.isEmpty()) {
            throw new IOException(HOST_BUSYBOX + " --list-full listed no applets");
        }
        return out;
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
