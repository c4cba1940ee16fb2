package dev.hull.engine;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a rootless container could get a way out (issue 19): a user-mode network stack that owns a tap
 * device in the container's network namespace, as rootless podman does. The first usable of:
 * <ol>
 * <li>{@code pasta} (Debian's passt): podman 5's default, no NAT of its own (the container sees the
 * host's addresses) and the faster of the two in podman's and passt's published measurements;
 * <li>{@code slirp4netns}: the older one, podman 4's default.
 * </ol>
 * Both open {@code /dev/net/tun}, which the user must be able to (Debian's udev makes it 0666; some
 * hosts, like the test host, leave it 0600 root): without it, or without either program, the answer is
 * none, with why ({@link #choose}). The choice is made now; containers still get network none until
 * the tool is wired into their start.
 */
public final class RootlessNetwork {
    /** The candidates, best first: the program and the Debian package that has it. */
    enum Tool {
        PASTA("/usr/bin/pasta", "passt"),
        SLIRP4NETNS("/usr/bin/slirp4netns", "slirp4netns");

        final Path binary;
        final String pkg;

        Tool(String binary, String pkg) {
            this.binary = Path.of(binary);
            this.pkg = pkg;
        }
    }

    /** The tool to use (null: none) and why, in words for hull info and errors. */
    public record Choice(Tool tool, String why) {
        public String name() {
            return tool == null ? "none" : tool.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private RootlessNetwork() {}

    /** The first usable tool, or none with the reason. */
    public static Choice choose() {
        String tun = tunProblem(Path.of("/dev/net/tun"));
        if (tun != null) {
            return new Choice(null, "no way out: " + tun + ", which pasta and slirp4netns need (Debian's udev makes"
                    + " it 0666)");
        }
        for (Tool t : Tool.values()) {
            if (Files.isExecutable(t.binary)) {
                return new Choice(t, t.name().toLowerCase(java.util.Locale.ROOT) + " (" + t.binary + ") is usable,"
                        + " not wired into containers yet");
            }
        }
        return new Choice(null, "no way out: neither pasta (Debian: passt) nor slirp4netns is installed");
    }

    /** Why this process cannot open tun (a device it may read and write), or null when it can. */
    static String tunProblem(Path tun) {
        if (!Files.exists(tun)) {
            return tun + " is missing";
        }
        try {
            Syscalls.close(Syscalls.open(tun.toString(), Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0));
            return null;
        } catch (LinuxException e) {
            String mode;
            try {
                mode = java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(tun));
            } catch (java.io.IOException | UnsupportedOperationException x) {
                mode = "?";
            }
            return tun + " is not usable by this user (mode " + mode + ": " + e.getMessage() + ")";
        }
    }
}
