package dev.hull.engines;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A containerd of the test's own: its root, state, gRPC/ttrpc/debug sockets under the test's
 * directory (never /run/containerd or /var/lib/containerd), one namespace of the test's own, and
 * the fifos and runc roots ctr is told about under it too. containerd 1.6 keeps its shims' sockets
 * in /run/containerd/s whatever the config says; they are named by a hash of our own address, and
 * go with the shims.
 */
final class Containerd implements AutoCloseable {
    static final String CONTAINERD = "/usr/bin/containerd";
    static final String CTR = "/usr/bin/ctr";
    static final String SHIM = "/usr/bin/containerd-shim-runc-v2";

    final Path dir;
    final Path address;
    final String namespace;
    private final Process daemon;

    private Containerd(Path dir, String namespace, Process daemon) {
        this.dir = dir;
        this.address = dir.resolve("containerd.sock");
        this.namespace = namespace;
        this.daemon = daemon;
    }

    /** Why containerd cannot run here, or null. */
    static String missing() {
        for (String b : List.of(CONTAINERD, CTR, SHIM, "/usr/sbin/runc")) {
            if (!Engines.installed(b)) {
                return b + " is missing (./test installs Debian's containerd and runc)";
            }
        }
        return null;
    }

    /** Starts containerd with the extra TOML (plugin settings) appended to its own config. */
    static Containerd start(Path dir, String namespace, String extraToml) throws IOException {
        return start(dir, namespace, extraToml, List.of());
    }

    /** The same, with containerd run under a command prefix (nsenter into a network namespace). */
    static Containerd start(Path dir, String namespace, String extraToml, List<String> prefix) throws IOException {
        Path config = dir.resolve("containerd.toml");
        Files.writeString(config, """
                version = 2
                root = "%1$s/root"
                state = "%1$s/state"
                oom_score = 0
                [grpc]
                  address = "%1$s/containerd.sock"
                [ttrpc]
                  address = "%1$s/containerd.sock.ttrpc"
                [debug]
                  address = "%1$s/debug.sock"
                [metrics]
                  address = ""
                """.formatted(dir) + extraToml);
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(CONTAINERD, "--config", config.toString()));
        Process p = Engines.start(dir, "containerd", Map.of(), cmd);
        Containerd c = new Containerd(dir, namespace, p);
        boolean up = Engines.waitUntil(() -> !p.isAlive()
                || Files.exists(c.address) && Engines.run(dir, CTR, "-a", c.address.toString(), "version").exit() == 0);
        assertThat(up && p.isAlive()).as("containerd started: %s", Engines.read(dir.resolve("containerd.err")))
                .isTrue();
        return c;
    }

    List<String> ctrCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of(CTR, "-a", address.toString(), "-n", namespace));
        cmd.addAll(List.of(args));
        return cmd;
    }

    Engines.Result ctr(String... args) {
        return Engines.run(dir, Map.of(), ctrCommand(args));
    }

    String log() {
        return Engines.read(dir.resolve("containerd.err"));
    }

    @Override
    public void close() {
        Engines.stop(daemon, dir);
    }
}
