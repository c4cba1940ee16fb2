package dev.hull.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A container with a user namespace of its own joins a network namespace Hull made, which the host's user
 * namespace owns: its root lacks CAP_NET_BIND_SERVICE and CAP_NET_RAW there, so sshd could not listen on
 * port 22 nor ping send. As podman does for rootless containers, that network namespace (the container's
 * alone) lets every id bind any port and send ICMP echo: set from the host before the container starts.
 */
final class UsernsNetwork {
    static final Map<String, String> SYSCTLS = Map.of(
            "net/ipv4/ip_unprivileged_port_start", "0",
            "net/ipv4/ping_group_range", "0 2147483647");

    private UsernsNetwork() {}

    /** Writes {@link #SYSCTLS} in the network namespace of netnsFile (a fresh thread joins it, then ends). */
    static void grant(Path netnsFile) throws IOException {
        try {
            dev.hull.linux.net.NetworkNamespaces.callIn(netnsFile, "userns-netns-sysctl", () -> {
                for (var e : SYSCTLS.entrySet()) {
                    Files.writeString(Path.of("/proc/sys").resolve(e.getKey()), e.getValue());
                }
                return null;
            }, null);
        } catch (IOException | RuntimeException e) {
            throw new IOException("the user namespace's network sysctls in " + netnsFile + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IOException("the user namespace's network sysctls in " + netnsFile + ": " + e, e);
        }
    }
}
