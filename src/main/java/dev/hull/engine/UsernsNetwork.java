package dev.hull.engine;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

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
        int nsFd = Syscalls.open(netnsFile.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            AtomicReference<IOException> failed = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("userns-netns-sysctl").start(() -> {
                try {
                    int self = Syscalls.open("/proc/thread-self/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
                    try {
                        Syscalls.setns(nsFd, 0x40000000); // CLONE_NEWNET: this thread only
                        for (var e : SYSCTLS.entrySet()) {
                            Files.writeString(Path.of("/proc/sys").resolve(e.getKey()),
                                    e.getValue());
                        }
                    } finally {
                        try {
                            Syscalls.setns(self, 0x40000000);
                        } catch (LinuxException back) {
                            // the thread ends right after, running nothing else
                        }
                        Syscalls.close(self);
                    }
                } catch (IOException e) {
                    failed.set(e);
                }
            });
            boolean interrupted = false;
            for (;;) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (failed.get() != null) {
                throw new IOException("the user namespace's network sysctls in " + netnsFile + ": "
                        + failed.get().getMessage(), failed.get());
            }
        } finally {
            Syscalls.close(nsFd);
        }
    }
}
