package dev.hull.cli;

import dev.hull.runtime.executor.ExecutorSession;
import dev.hull.service.WarmServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A Hull service in the test JVM, for the CLI tests that run warm ({@link HullCommand}): started on
 * first use on a socket of its own in a temp dir, serving until the JVM exits. Commands reach it as
 * bin/hull sends them, through the static client (hull-executor --client), which falls back to a
 * cold JVM when nothing answers; each command carries its own HULL_HOME/HULL_STATE, so tests keep
 * their own stores.
 */
final class TestService {
    private static Path dir;
    private static Path socket;
    private static Path coldLauncher;

    private TestService() {}

    /** A JVM per command: java with the test classpath running dev.hull.cli.Main. */
    static List<String> coldCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED", "-Dhull.program=hull",
                "-Dhull.executor=" + System.getProperty("hull.executor"), "-cp", System.getProperty("java.class.path"),
                "dev.hull.cli.Main");
    }

    /** The static client's command line, to the service (started now if it is not yet). */
    static synchronized List<String> client() {
        if (socket == null) {
            start();
        }
        return List.of(ExecutorSession.binary().toString(), "--client", "--program", "hull", socket.toString(),
                coldLauncher.toString());
    }

    private static void start() {
        try {
            dir = Files.createTempDirectory(Path.of("/tmp"), "hull-test-service-");
            coldLauncher = dir.resolve("hull-cold");
            StringBuilder sh = new StringBuilder("#!/bin/sh\nexec");
            for (String a : coldCommand()) {
                sh.append(" '").append(a.replace("'", "'\\''")).append('\'');
            }
            Files.writeString(coldLauncher, sh.append(" \"$@\"\n").toString());
            Files.setPosixFilePermissions(coldLauncher, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path s = dir.resolve("hull.sock");
            WarmServer server = WarmServer.bind(s);
            Thread.ofPlatform().daemon().name("test-hull-service").start(() -> {
                try {
                    server.serve(new ServiceCommands());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.close();
                } catch (IOException ignored) {
                    // the JVM exits anyway
                }
            }));
            socket = s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
