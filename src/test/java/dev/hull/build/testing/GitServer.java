package dev.hull.build.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A git repository of the test's own, served by {@code git daemon} on 127.0.0.1 (git://), for
 * builds from git. The repository: app/Dockerfile (COPY . /app/, CMD cat /app/version) and
 * app/version, "one" at tag v1 ({@link #first}) and "two" at main's head.
 */
public final class GitServer implements AutoCloseable {
    public final String url;
    public final String first;
    private final Process daemon;

    /** A change the test makes to the work tree (files, links) before a last commit on main. */
    public interface Change {
        void apply(Path work) throws Exception;
    }

    public GitServer(Path dir) throws Exception {
        this(dir, null);
    }

    /** The repository as above, then change (if any) committed on main as "three". */
    public GitServer(Path dir, Change change) throws Exception {
        Path work = Files.createDirectories(dir.resolve("gitwork"));
        git(work, "init", "-q");
        Files.createDirectories(work.resolve("app"));
        Files.writeString(work.resolve("app/Dockerfile"), "FROM busybox\nCOPY . /app/\nCMD [\"cat\", \"/app/version\"]\n");
        Files.writeString(work.resolve("app/version"), "one\n");
        git(work, "add", "-A");
        git(work, "commit", "-q", "-m", "one");
        git(work, "tag", "v1");
        first = git(work, "rev-parse", "HEAD");
        Files.writeString(work.resolve("app/version"), "two\n");
        git(work, "commit", "-q", "-am", "two");
        if (change != null) {
            change.apply(work);
            git(work, "add", "-A");
            git(work, "commit", "-q", "-m", "three");
        }
        Path served = Files.createDirectories(dir.resolve("gitserved"));
        git(served, "clone", "-q", "--bare", work.toString(), "repo.git");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        daemon = new ProcessBuilder("git", "daemon", "--reuseaddr", "--listen=127.0.0.1", "--port=" + port,
                "--export-all", "--base-path=" + served, served.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("git-daemon.log").toFile()).start();
        for (int i = 0; i < 600 && daemon.isAlive(); i++) { // until it listens
            try (Socket probe = new Socket("127.0.0.1", port)) {
                break;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        url = "git://127.0.0.1:" + port + "/repo.git";
    }

    /** Whether the host has git (./test installs it). */
    public static boolean available() {
        return Files.isExecutable(Path.of("/usr/bin/git"));
    }

    /** Runs git in dir; its output. */
    public static String git(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                "-c", "init.defaultBranch=main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("git " + String.join(" ", args) + ": " + out).isZero();
        return out.strip();
    }

    @Override
    public void close() throws InterruptedException {
        daemon.destroy();
        daemon.waitFor();
    }
}
