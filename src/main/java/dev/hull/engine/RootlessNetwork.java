package dev.hull.engine;

import dev.hull.engine.network.UserModeNetwork;
import dev.hull.engine.network.UserModeNetwork.Tool;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which user-mode network stack gives rootless containers their way out and published ports
 * ({@link UserModeNetwork}, issue 19): the first usable of
 * <ol>
 * <li>{@code pasta} (Debian's passt): podman 5's default, no NAT of its own (the container sees the
 * host's addresses), and measured here at several times slirp4netns's throughput through a published
 * port (README, Rootless);
 * <li>{@code slirp4netns}: the older one, podman 4's default.
 * </ol>
 * HULL_ROOTLESS_NETWORK=pasta|slirp4netns asks for one. Both open {@code /dev/net/tun}, which the user
 * must be able to (Debian's udev makes it 0666; some hosts, like the test host, leave it 0600 root):
 * without it, or without either program, the answer is none, with why ({@link #choose}), and rootless
 * containers get network none.
 */
public final class RootlessNetwork {
    /** The tool to use (null: none) and why, in words for hull info and errors. */
    public record Choice(Tool tool, String why) {
        public String name() {
            return tool == null ? "none" : tool.label();
        }
    }

    private RootlessNetwork() {}

    /** The first usable tool (or the one HULL_ROOTLESS_NETWORK names), or none with the reason. */
    public static Choice choose() {
        String tun = tunProblem(Path.of("/dev/net/tun"));
        if (tun != null) {
            return new Choice(null, "no way out: " + tun + ", which pasta and slirp4netns need (Debian's udev makes"
                    + " it 0666)");
        }
        String asked = dev.hull.runtime.Caller.getenv("HULL_ROOTLESS_NETWORK");
        for (Tool t : Tool.values()) {
            if (asked != null && !asked.isEmpty() && !asked.equals(t.label())) {
                continue;
            }
            if (Files.isExecutable(t.binary)) {
                return new Choice(t, t.label() + " (" + t.binary + ")");
            }
            if (asked != null && !asked.isEmpty()) {
                return new Choice(null, "no way out: HULL_ROOTLESS_NETWORK=" + asked + ", but " + t.binary
                        + " is not installed (Debian: " + t.pkg + ")");
            }
        }
        if (asked != null && !asked.isEmpty()) {
            return new Choice(null, "no way out: HULL_ROOTLESS_NETWORK=" + asked + " is neither pasta nor slirp4netns");
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
