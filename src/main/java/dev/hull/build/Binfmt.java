package dev.hull.build;

import dev.hull.image.Platform;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Whether this host can run another platform's programs: the kernel's binfmt_misc has an enabled
 * interpreter (an emulator such as qemu-user) whose magic and mask take that platform's ELF
 * executables, registered with the F flag (the interpreter opened when it was registered, so a
 * container whose root filesystem lacks it still gets it). A RUN step for a foreign platform needs
 * one; every other step (FROM, COPY, metadata) works for any platform without it.
 */
final class Binfmt {
    static final Path DIR = Path.of("/proc/sys/fs/binfmt_misc");

    /** ELF class (1: 32-bit, 2: 64-bit), byte order (1: little, 2: big endian) and e_machine, by architecture. */
    private record Elf(int cls, int data, int machine) {}

    private static final Map<String, Elf> ELF = Map.of("amd64", new Elf(2, 1, 62), "arm64", new Elf(2, 1, 183),
            "arm", new Elf(1, 1, 40), "386", new Elf(1, 1, 3), "ppc64le", new Elf(2, 1, 21), "s390x",
            new Elf(2, 2, 22), "riscv64", new Elf(2, 1, 243), "mips64le", new Elf(2, 1, 8), "loong64",
            new Elf(2, 1, 258));

    private Binfmt() {}

    /**
     * Why a RUN for target cannot run here, or null when it can (this host's platform, or an
     * emulator binfmt_misc hands its executables to).
     */
    static String missing(Platform target) {
        Platform host = Platform.host();
        if (target.architecture().equals(host.architecture())
                || host.architecture().equals("amd64") && target.architecture().equals("386")) {
            return null;
        }
        Elf elf = ELF.get(target.architecture());
        if (elf == null) {
            return "hull does not know the executables of " + target;
        }
        byte[] header = header(elf);
        String noFix = null;
        if (!Files.isRegularFile(DIR.resolve("status"))) {
            return DIR + " is not mounted (mount -t binfmt_misc binfmt_misc " + DIR + ", then register an emulator,"
                    + " e.g. apt-get install qemu-user-static)";
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(DIR)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.equals("status") || name.equals("register")) {
                    continue;
                }
                List<String> lines;
                try {
                    lines = Files.readAllLines(p);
                } catch (IOException e) {
                    continue;
                }
                if (!lines.contains("enabled") || !takes(lines, header)) {
                    continue;
                }
                String flags = value(lines, "flags:");
                if (flags != null && flags.contains("F")) {
                    return null;
                }
                noFix = name + " (" + value(lines, "interpreter") + ")";
            }
        } catch (IOException e) {
            return DIR + " cannot be read: " + e.getMessage();
        }
        if (noFix != null) {
            return "binfmt_misc's " + noFix + " takes " + target.architecture() + " executables but is registered"
                    + " without the F flag, so a container cannot reach it";
        }
        return "binfmt_misc (" + DIR + ") has no emulator for " + target.architecture() + " executables"
                + " (e.g. apt-get install qemu-user-static registers them)";
    }

    /** The first bytes of an ELF executable of that kind (through e_machine). */
    private static byte[] header(Elf elf) {
        byte[] h = new byte[20];
        h[0] = 0x7f;
        h[1] = 'E';
        h[2] = 'L';
        h[3] = 'F';
        h[4] = (byte) elf.cls();
        h[5] = (byte) elf.data();
        h[6] = 1;
        boolean little = elf.data() == 1;
        h[little ? 16 : 17] = 2; // ET_EXEC
        h[little ? 18 : 19] = (byte) (elf.machine() & 0xff);
        h[little ? 19 : 18] = (byte) (elf.machine() >> 8);
        return h;
    }

    /** Whether an entry's magic (under its mask, at its offset) matches header. */
    private static boolean takes(List<String> lines, byte[] header) {
        String magic = value(lines, "magic");
        if (magic == null) {
            return false; // an extension entry (E), not magic
        }
        String off = value(lines, "offset");
        int offset = off == null ? 0 : Integer.parseInt(off);
        byte[] m = HexFormat.of().parseHex(magic);
        String maskText = value(lines, "mask");
        byte[] mask = maskText == null ? null : HexFormat.of().parseHex(maskText);
        for (int i = 0; i < m.length; i++) {
            int at = offset + i;
            int want = m[i] & 0xff;
            int have = at < header.length ? header[at] & 0xff : 0;
            int k = mask == null || i >= mask.length ? 0xff : mask[i] & 0xff;
            if ((have & k) != (want & k)) {
                return false;
            }
        }
        return true;
    }

    private static String value(List<String> lines, String key) {
        for (String l : lines) {
            if (l.startsWith(key + " ")) {
                return l.substring(key.length() + 1).strip();
            }
        }
        return null;
    }
}
