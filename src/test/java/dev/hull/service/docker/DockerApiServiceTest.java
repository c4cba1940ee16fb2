package dev.hull.service.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hull system service and its Docker API socket: where it is (beside the service's socket, or
 * --docker-socket), its mode, turning it off, and the idle timeout that waits for API clients.
 * Each test starts its own service (own sockets, HULL_HOME, HULL_STATE) and stops it.
 */
class DockerApiServiceTest {
    private static final Path HULL = Path.of(System.getProperty("hull.home", ".")).toAbsolutePath().resolve("bin/hull");
    private static final Path DOCKER = Path.of("/usr/local/bin/docker");

    @TempDir
    Path tmp;
    private final List<Process> services = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : services) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    Process service(String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(HULL.toString(), "system", "service", "--socket",
                tmp.resolve("run/hull.sock").toString()));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("HULL_NO_SERVICE");
        pb.environment().remove("HULL_COLD");
        pb.environment().put("HULL_HOME", tmp.resolve("home").toString());
        pb.environment().put("HULL_STATE", tmp.resolve("state").toString());
        pb.environment().put("HULL_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().put("HULL_CONFIG", tmp.resolve("hull.json").toString());
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(tmp.resolve("service.log").toFile()).redirectErrorStream(true).start();
        services.add(p);
        await("the service's socket", () -> DockerApiTest.answers(tmp.resolve("run/hull.sock")), p);
        return p;
    }

    void await(String what, java.util.function.BooleanSupplier condition, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting for " + what + ":\n" + Files.readString(tmp.resolve("service.log")));
            }
            Thread.sleep(50);
        }
    }

    String log() {
        try {
            return Files.readString(tmp.resolve("service.log"));
        } catch (java.io.IOException e) {
            return "";
        }
    }

    String dockerVersion(Path socket) throws Exception {
        Process p = new ProcessBuilder(DOCKER.toString(), "-H", "unix://" + socket, "version", "--format",
                "{{.Server.APIVersion}}").redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes()).strip();
    }

    @Test
    void besideTheServiceSocketRootsOnlyAndGoneWithTheService() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DOCKER), "the docker CLI is not at " + DOCKER);
        Process p = service("--idle-timeout", "0");
        Path docker = tmp.resolve("run/docker.sock");
        await("the Docker API socket", () -> DockerApiTest.answers(docker), p);
        boolean hullGroup = Files.readAllLines(Path.of("/etc/group")).stream().anyMatch(l -> l.startsWith("hull:"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(docker, LinkOption.NOFOLLOW_LINKS)))
                .isEqualTo(hullGroup ? "rw-rw----" : "rw-------");
        assertThat(Files.getOwner(docker).getName()).isEqualTo("root");
        assertThat(dockerVersion(docker)).isEqualTo("1.51");
        p.destroy(); // SIGTERM: both sockets go
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(docker).doesNotExist();
        assertThat(tmp.resolve("run/hull.sock")).doesNotExist();
    }

    @Test
    void dockerSocketOptionChoosesOrDisables() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DOCKER), "the docker CLI is not at " + DOCKER);
        Path chosen = tmp.resolve("elsewhere/api.sock");
        Process p = service("--idle-timeout", "0", "--docker-socket", chosen.toString());
        await("the chosen Docker API socket", () -> DockerApiTest.answers(chosen), p);
        assertThat(dockerVersion(chosen)).isEqualTo("1.51");
        assertThat(tmp.resolve("run/docker.sock")).doesNotExist();
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

        Process none = service("--idle-timeout", "0", "--docker-socket", "");
        await("the service's start", () -> log().contains("listening on"), none);
        assertThat(Files.readString(tmp.resolve("service.log"))).doesNotContain("Docker API on");
        assertThat(tmp.resolve("run/docker.sock")).doesNotExist();
        assertThat(none.isAlive()).isTrue();
    }

    /** An API client that stays connected keeps the service from its idle exit; once it leaves, the exit comes. */
    @Test
    void idleTimeoutWaitsForConnectedApiClients() throws Exception {
        Process p = service("--idle-timeout", "2s");
        Path docker = tmp.resolve("run/docker.sock");
        await("the Docker API socket", () -> Files.exists(docker), p);
        try (SocketChannel client = SocketChannel.open(java.net.UnixDomainSocketAddress.of(docker))) {
            client.write(java.nio.ByteBuffer.wrap("GET /_ping HTTP/1.1\r\nHost: hull\r\n\r\n".getBytes()));
            java.nio.ByteBuffer answer = java.nio.ByteBuffer.allocate(4096);
            client.read(answer);
            assertThat(new String(answer.array(), 0, answer.position())).startsWith("HTTP/1.1 200");
            // three idle timeouts with the (keep-alive) connection open: the service stays
            assertThat(p.waitFor(6, TimeUnit.SECONDS)).as("the service exited with an API client connected").isFalse();
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the service's idle exit once the client left").isTrue();
        assertThat(Files.readString(tmp.resolve("service.log"))).contains("idle for 2 s");
        assertThat(docker).doesNotExist();
    }
}
