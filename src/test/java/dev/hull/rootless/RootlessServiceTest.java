package dev.hull.rootless;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.HullCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rootless Hull's resident service (issue 19): an ordinary user's first command starts the user's own
 * service in the user's namespace, on hull.sock with the Docker API on docker.sock in
 * $XDG_RUNTIME_DIR/hull; later commands and the docker CLI go through it; anyone else (root included)
 * is refused; it exits when idle, and when the user's namespace holder is gone.
 */
class RootlessServiceTest {
    private static final Path DOCKER = Path.of("/usr/local/bin/docker");
    @org.junit.jupiter.api.extension.RegisterExtension
    static final RootlessUser.Fixture FIXTURE = new RootlessUser.Fixture("hulltest-rlsvc");
    static Path dir;
    static RootlessUser user;

    @BeforeAll
    static void setUp() {
        dir = FIXTURE.dir();
        user = FIXTURE.user();
    }

    /** A runtime directory of the user's own (0700, as systemd's /run/user/UID), and the environment naming it. */
    private static Map<String, String> runtimeDir(String name, Map<String, String> more) throws Exception {
        Path run = user.home.resolve(name);
        assertThat(RootlessUser.run("runuser", "-u", user.name, "--", "mkdir", "-m", "700", run.toString()).exit())
                .isZero();
        var env = new java.util.HashMap<>(more);
        env.put("XDG_RUNTIME_DIR", run.toString());
        env.put("HULL_NO_SERVICE", "0"); // these tests are about the service
        return env;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 1200 && !condition.getAsBoolean(); i++) { // up to 2 min: loaded hosts are slow
            Thread.sleep(100);
        }
        assertThat(condition.getAsBoolean()).as(what).isTrue();
    }

    private static boolean logSays(Path socket, String what) {
        try {
            return Files.readString(socket.resolveSibling("hull.sock.log")).contains(what);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void theFirstCommandStartsTheUsersServiceWhichServesHullAndDockerForThatUserOnly() throws Exception {
        Map<String, String> env = runtimeDir("run-svc", Map.of());
        Path state = Path.of(env.get("XDG_RUNTIME_DIR"), "hull");
        Path socket = state.resolve("hull.sock");
        Path docker = state.resolve("docker.sock");
        HullCommand.Result r = user.hull(env, "run", "--rm", "busybox", "echo", "cold");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("cold\n");
        await("the user's service listens on " + socket, () -> Files.exists(socket) && Files.exists(docker));
        assertThat(Files.getOwner(socket).getName()).isEqualTo(user.name);
        String log = Files.readString(state.resolve("hull.sock.log"));
        assertThat(log).contains("listening on " + socket).contains("Docker API on " + docker);
        try {
            // warm: the command ran in the service (hull info says so), in the user's namespace
            await("a command runs in the service", () -> {
                try {
                    return user.hull(env, "info").out().contains("Service: pid ");
                } catch (Exception e) {
                    return false;
                }
            });
            r = user.hull(env, "info");
            assertThat(r.out()).contains("socket " + socket).contains("Rootless: yes (uid_map 0 " + user.uid + " 1 ");
            r = user.hull(env, "run", "-d", "--name", "rlsvc-web", "busybox", "sh", "-c", "echo up; exec sleep 1000");
            assertThat(r.exit()).as(r.toString()).isZero();
            r = user.hull(env, "exec", "rlsvc-web", "id", "-u");
            assertThat(r.out()).as(r.toString()).isEqualTo("0\n");
            r = user.hull(env, "ps");
            assertThat(r.out()).as(r.toString()).contains("rlsvc-web");

            // the docker CLI, as the user, on the user's Docker API socket
            if (Files.isExecutable(DOCKER)) {
                Map<String, String> denv = Map.of("DOCKER_HOST", "unix://" + docker);
                r = user.as(denv, DOCKER.toString(), "run", "--rm", "busybox", "echo", "hi");
                assertThat(r.exit()).as(r.toString()).isZero();
                assertThat(r.out()).isEqualTo("hi\n");
                r = user.as(denv, DOCKER.toString(), "ps", "--format", "{{.Names}}");
                assertThat(r.out()).as(r.toString()).contains("rlsvc-web");
                // root is another user to this service: refused (the file's mode does not stop root)
                r = RootlessUser.run("env", "DOCKER_HOST=unix://" + docker, DOCKER.toString(), "ps");
                assertThat(r.exit()).as(r.toString()).isNotZero();
                assertThat(r.err()).contains("rootless Docker API on " + docker + " serves only its own user");
            }
            r = RootlessUser.run("env", "HULL_RUNTIME_SOCKET=" + socket, dir.resolve("install/bin/hull").toString(), "ps");
            assertThat(r.exit()).as(r.toString()).isEqualTo(125);
            assertThat(r.err()).contains("the rootless Hull service on " + socket + " serves only its own user (uid "
                    + user.uid + ")");
        } finally {
            user.hull(env, "rm", "-f", "rlsvc-web");
        }
        // the namespace holder killed (as hull system migrate does): the service ends with it
        String holder = Files.readString(state.resolve("userns.pid")).strip().split(" ")[0];
        RootlessUser.run("kill", "-KILL", holder);
        await("the service ends with the user's namespace", () -> !Files.exists(socket)
                && logSays(socket, "stopping: the user's namespace holder"));
    }

    @Test
    void theUsersServiceExitsWhenIdle() throws Exception {
        Path config = user.home.resolve("idle-config");
        RootlessUser.run("runuser", "-u", user.name, "--", "mkdir", "-p", config.resolve("hull").toString());
        RootlessUser.run("runuser", "-u", user.name, "--", "sh", "-c",
                "echo '{\"serviceIdleTimeout\": \"2s\"}' > " + config.resolve("hull/hull.json"));
        Map<String, String> env = runtimeDir("run-idle", Map.of("XDG_CONFIG_HOME", config.toString()));
        Path socket = Path.of(env.get("XDG_RUNTIME_DIR"), "hull/hull.sock");
        HullCommand.Result r = user.hull(env, "version");
        assertThat(r.exit()).as(r.toString()).isZero();
        await("the user's service listens", () -> Files.exists(socket));
        // the socket goes first, then the log line
        await("the idle service exits", () -> !Files.exists(socket) && logSays(socket, "stopped: idle for 2 s"));
        String holder = Files.readString(socket.resolveSibling("userns.pid")).strip().split(" ")[0];
        RootlessUser.run("kill", "-KILL", holder); // this test's own namespace
    }

    @Test
    void withoutARuntimeDirectoryTheServiceIsInTmp() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/tmp")), "no /tmp");
        Map<String, String> env = Map.of("HULL_NO_SERVICE", "0");
        Path socket = user.state().resolve("hull.sock");
        HullCommand.Result r = user.hull(env, "run", "--rm", "busybox", "echo", "one");
        assertThat(r.out()).as(r.toString()).isEqualTo("one\n");
        await("the user's service listens in /tmp/hull-UID", () -> Files.exists(socket));
        await("a command runs in the service", () -> {
            try {
                return user.hull(env, "info").out().contains("socket " + socket);
            } catch (Exception e) {
                return false;
            }
        });
        r = user.hull(env, "run", "--rm", "busybox", "echo", "two");
        assertThat(r.out()).as(r.toString()).isEqualTo("two\n");
    }
}
