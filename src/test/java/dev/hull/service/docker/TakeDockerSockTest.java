package dev.hull.service.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hull system service --take-docker-sock=PATH} (PATH defaults to /var/run/docker.sock; these
 * tests give a temporary one): the Docker API served there when nobody holds it (also over a stale
 * socket), the socket removed when the service stops; a live dockerd's socket (Debian's dockerd,
 * started here on its own data root) refused with a clear message and left as it was, as is a path
 * that is no socket.
 */
class TakeDockerSockTest {
    @TempDir
    Path tmp;

    private Process service(Path take, Path log) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ApiService.HULL_DIR.resolve("bin/hull").toString(), "system",
                "service", "--socket", tmp.resolve("run/hull.sock").toString(), "--docker-socket", "none",
                "--idle-timeout", "0", "--take-docker-sock=" + take));
        Files.createDirectories(tmp.resolve("run"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("HULL_NO_SERVICE");
        pb.environment().put("HULL_HOME", tmp.resolve("home").toString());
        pb.environment().put("HULL_STATE", tmp.resolve("state").toString());
        pb.environment().put("HULL_CONFIG", tmp.resolve("hull.json").toString());
        pb.environment().put("HULL_CLASSPATH", System.getProperty("java.class.path"));
        return pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(log.toFile()).redirectErrorStream(true).start();
    }

    private ApiService.Result docker(Path socket, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ApiService.DOCKER.toString(), "-H", "unix://" + socket));
        cmd.addAll(List.of(args));
        Path out = tmp.resolve("docker.out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new ApiService.Result(p.exitValue(), Files.readString(out), "");
    }

    private static void await(Path socket, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!ApiService.answers(socket)) {
            assertThat(p.isAlive()).as("the server ended: %s", Files.exists(log) ? Files.readString(log) : "").isTrue();
            assertThat(System.nanoTime() < deadline).as("%s never answered", socket).isTrue();
            Thread.sleep(50);
        }
    }

    private static void stop(Process p) throws Exception {
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
        }
    }

    @Test
    void servesThereWhenNobodyHoldsItAStaleSocketToo() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(ApiService.DOCKER), "the docker CLI is not at " + ApiService.DOCKER);
        Path sock = tmp.resolve("var-run/docker.sock");
        Files.createDirectories(sock.getParent());
        try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(sock)); // closed below without removing it: a stale socket
        }
        assertThat(ApiService.answers(sock)).isFalse();
        Path log = tmp.resolve("service.log");
        Process p = service(sock, log);
        try {
            await(sock, p, log);
            ApiService.Result v = docker(sock, "version", "--format", "{{.Server.Platform.Name}}");
            assertThat(v.exit()).as("%s", v).isZero();
            assertThat(v.out()).contains("Hull");
        } finally {
            stop(p);
        }
        assertThat(sock).as("its socket goes with the service").doesNotExist();
    }

    @Test
    void aLiveDockerdsSocketIsRefusedAndLeftAlone() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PrivateDockerd.DOCKERD), "Debian's dockerd is not installed");
        Assumptions.assumeTrue(Files.isExecutable(ApiService.DOCKER), "the docker CLI is not at " + ApiService.DOCKER);
        try (PrivateDockerd dockerd = PrivateDockerd.start(tmp.resolve("dockerd"))) {
            Path sock = dockerd.socket;
            Object inode = Files.readAttributes(sock, BasicFileAttributes.class).fileKey();
            Path log = tmp.resolve("service.log");
            Process p = service(sock, log);
            boolean ended = p.waitFor(120, TimeUnit.SECONDS);
            if (!ended) {
                stop(p);
            }
            assertThat(ended).as("the service refuses to start").isTrue();
            assertThat(p.exitValue()).isEqualTo(1);
            assertThat(Files.readString(log)).contains("hull: --take-docker-sock: something already serves on " + sock);
            assertThat(Files.readAttributes(sock, BasicFileAttributes.class).fileKey()).isEqualTo(inode);
            ApiService.Result v = dockerd.docker("version", "--format", "{{.Server.Platform.Name}}");
            assertThat(v.exit()).as("%s", v).isZero();
            assertThat(v.out()).doesNotContain("Hull"); // dockerd still answers there
        }
    }

    @Test
    void aPathThatIsNoSocketIsLeftAlone() throws Exception {
        Path file = tmp.resolve("not-a-socket");
        Files.writeString(file, "mine\n");
        Path log = tmp.resolve("service.log");
        Process p = service(file, log);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(Files.readString(log)).contains("exists and is not a socket");
        assertThat(file).hasContent("mine");
    }
}
