package dev.hull.disk;

import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** e2fsprogs on an image file: mkfs.ext4, and e2fsck + resize2fs to grow an unmounted one. */
final class Mkfs {
    private Mkfs() {}

    /** The mkfs.ext4 of this host, or null. */
    static Path find() {
        return find("mkfs.ext4");
    }

    static Path find(String tool) {
        for (String d : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** An ext4 filesystem on the whole image: 4 KiB blocks, no blocks reserved for root, with encryption if asked. */
    static void ext4(Path image, boolean encrypt) throws IOException, RuntimeError {
        Path mkfs = find();
        if (mkfs == null) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "sized disks need mkfs.ext4: apt-get install e2fsprogs");
        }
        List<String> cmd = new ArrayList<>(List.of(mkfs.toString(), "-q", "-F", "-b", "4096", "-m", "0", "-L", "hull",
                "-E", "root_owner=0:0"));
        if (encrypt) {
            cmd.addAll(List.of("-O", "encrypt"));
        }
        cmd.add(image.toString());
        run(cmd, "mkfs.ext4 " + image);
    }

    /** Grows the unmounted filesystem on the image (already grown) to fill it: e2fsck -f first, as resize2fs asks. */
    static void growOffline(Path image) throws IOException, RuntimeError {
        Path fsck = find("e2fsck");
        Path resize = find("resize2fs");
        if (fsck == null || resize == null) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "growing a disk needs e2fsck and resize2fs: apt-get"
                    + " install e2fsprogs");
        }
        run(List.of(fsck.toString(), "-f", "-p", image.toString()), "e2fsck " + image);
        run(List.of(resize.toString(), image.toString()), "resize2fs " + image);
    }

    private static void run(List<String> cmd, String what) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (p.waitFor() != 0) {
                throw new IOException(what + " failed (" + p.exitValue() + "): " + out);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + what, e);
        }
    }
}
