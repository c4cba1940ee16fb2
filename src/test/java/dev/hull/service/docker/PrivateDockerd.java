package dev.hull.service.docker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's dockerd, for a test's comparisons: on its own data root, exec root, socket and pid file
 * under dir, its containers under a cgroup parent of its own, with no bridge and no iptables rules
 * (nothing of the host's touched), stopped by close (which removes that cgroup parent too).
 */
final class PrivateDockerd implements AutoCloseable {
    static final Path DOCKERD = Path.of("/usr/sbin/dockerd");
    final Path dir;
    final Path socket;
    /** The cgroup its containers go under: one per test process and directory. */
    private final String cgroup;
    private final Process process;

    private PrivateDockerd(Path dir, String cgroup, Process process) {
        this.dir = dir;
        this.socket = dir.resolve("dockerd.sock");
        this.cgroup = cgroup;
        this.process = process;
    }

    static PrivateDockerd start(Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("daemon.json"), "{}");
        Path log = dir.resolve("dockerd.log");
        String cgroup = "hull-test-dockerd-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(dir.hashCode());
        Process p = new ProcessBuilder(DOCKERD.toString(), "--config-file", dir.resolve("daemon.json").toString(),
                "--data-root", dir.resolve("data").toString(), "--exec-root", dir.resolve("exec").toString(),
                "-H", "unix://" + dir.resolve("dockerd.sock"), "--pidfile", dir.resolve("dockerd.pid").toString(),
                "--cgroup-parent", "/" + cgroup, "--bridge=none", "--iptables=false", "--ip6tables=false",
                "--ip-masq=false")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrivateDockerd d = new PrivateDockerd(dir, cgroup, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!ApiService.answers(d.socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                d.close();
                throw new AssertionError("dockerd did not answer on " + d.socket + ":\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return d;
    }

    /** The docker CLI against this dockerd; both streams in out. */
    ApiService.Result docker(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ApiService.DOCKER.toString(), "-H", "unix://" + socket));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    /** A GET of path on this dockerd's socket (curl): the body. */
    String get(String path) throws Exception {
        return run(List.of("curl", "-sf", "--unix-socket", socket.toString(), "http://localhost" + path)).out();
    }

    private ApiService.Result run(List<String> cmd) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError(cmd + " did not finish in 300 s");
        }
        return new ApiService.Result(p.exitValue(), Files.readString(out), "");
    }

    /** Its containers removed, then dockerd stopped (SIGTERM: it stops what it runs). */
    @Override
    public void close() throws Exception {
        try {
            if (process.isAlive()) {
                for (String id : docker("ps", "-aq").out().split("\\s+")) {
                    if (!id.isBlank()) {
                        docker("rm", "-f", id);
                    }
                }
            }
        } finally {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            removeCgroups();
        }
    }

    /** Its cgroup parent in every hierarchy, empty once its containers are gone. */
    private void removeCgroups() throws java.io.IOException {
        List<Path> dirs = new ArrayList<>(List.of(Path.of("/sys/fs/cgroup", cgroup)));
        try (var hierarchies = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies) {
                dirs.add(h.resolve(cgroup));
            }
        }
        for (Path d : dirs) {
            if (Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try (var walk = Files.walk(d)) {
                    for (Path c : walk.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(c); // rmdir of a cgroup: its files are the kernel's
                    }
                } catch (java.io.IOException busy) {
                    // still in use: left for the host to see
                }
            }
        }
    }
}
