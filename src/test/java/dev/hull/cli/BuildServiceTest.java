package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import dev.hull.runtime.executor.ExecutorSession;
import dev.hull.service.WarmServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull build through Hull's service (the client, what bin/hull runs, with a service listening):
 * its RUN output reaches the client, and Ctrl-C on the client ends the build and removes the
 * step's container — the service interrupts the command's thread rather than ending a JVM.
 */
class BuildServiceTest {
    static Path tmp;
    static Path socket;
    static Path coldLauncher;
    static WarmServer server;

    @BeforeAll
    static void startServer() throws Exception {
        tmp = Files.createTempDirectory(Path.of("/tmp"), "hull-build-warm-");
        socket = tmp.resolve("warm.sock");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        coldLauncher = tmp.resolve("hull-cold");
        Files.writeString(coldLauncher, "#!/bin/sh\nexec " + java + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
                + " --enable-native-access=ALL-UNNAMED -Dhull.program=hull -Dhull.executor=" + ExecutorSession.binary()
                + " -cp '" + System.getProperty("java.class.path") + "' dev.hull.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(coldLauncher, PosixFilePermissions.fromString("rwxr-xr-x"));
        server = WarmServer.bind(socket);
        Thread.ofPlatform().daemon().start(() -> {
            try {
                server.serve(new ServiceCommands());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        SnapshotStore.deleteTree(tmp);
    }

    static ProcessBuilder client(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ExecutorSession.binary().toString(), "--client", "--program",
                "hull", socket.toString(), coldLauncher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
        pb.environment().put("HULL_HOME", tmp.resolve("home").toString());
        pb.environment().put("HULL_STATE", tmp.resolve("state").toString());
        pb.environment().put("HULL_NO_SERVICE", "0");
        return pb;
    }

    @Test
    void aBuildThroughTheServiceStreamsItsOutputAndEndsOnCtrlC() throws Exception {
        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nRUN echo through the service\n");
        Process p = client("build", "ctx").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("STEP 2/2: RUN echo through the service\nthrough the service\n--> ");

        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nRUN echo started; sleep 78\n");
        p = client("build", "ctx").redirectErrorStream(true).start();
        var reader = p.inputReader();
        for (String line; (line = reader.readLine()) != null && !line.equals("started"); ) {
            // the steps' progress
        }
        new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the client ends on SIGINT").isTrue();
        assertThat(p.exitValue()).isEqualTo(130);
        // the service's thread goes on only to kill and remove the step's container
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String ps;
        do {
            Thread.sleep(200);
            Process q = client("ps", "-a", "-q").start();
            ps = new String(q.getInputStream().readAllBytes());
            q.waitFor();
        } while (!ps.isEmpty() && System.nanoTime() < deadline);
        assertThat(ps).as("containers left").isEmpty();
        assertThat(new String(new ProcessBuilder("pgrep", "-f", "sleep 78").start().getInputStream().readAllBytes()))
                .as("the step's process").isEmpty();
    }
}
