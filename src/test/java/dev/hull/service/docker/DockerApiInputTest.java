package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.body;
import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.testing.RegistryServer;
import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * docker login (POST /auth) against a registry with basic auth, docker diff (GET
 * /containers/{id}/changes), and hostile input: malformed, deep, unknown and huge JSON bodies get
 * a clear 4xx; clients that vanish mid-stream leave nothing behind in the service (its descriptors).
 */
class DockerApiInputTest extends ApiServiceTest {

    /**
     * Root is admitted at once (no search for its connection's groups); another user, who can reach the
     * socket here, still goes through the search and is refused (not in the group; no group here).
     */
    @Test
    void rootIsAdmittedAnotherUserIsRefused() throws Exception {
        assertThat(api.curl("http://d/_ping").out()).startsWith("HTTP/1.1 200");
        Path sock = api.dir.resolve("run/docker.sock");
        for (Path p = sock.getParent(); p != null && p.startsWith(tmp); p = p.getParent()) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        }
        Files.setPosixFilePermissions(sock, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
        try {
            Result other = api.run(null, List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "curl",
                    "-s", "-i", "--unix-socket", sock.toString(), "http://d/_ping"));
            assertThat(other.out()).as(other.toString()).startsWith("HTTP/1.1 403");
            assertThat(body(other)).contains("is for root");
        } finally {
            Files.setPosixFilePermissions(sock, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----"));
        }
    }

    @Test
    void loginChecksTheCredentialsAgainstTheRegistry() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).htpasswd("alice", "s3cret")
                .start()) {
            Result good = api.dockerIn("s3cret\n", "login", "-u", "alice", "--password-stdin", registry.host());
            assertThat(good.exit()).as("%s", good).isZero();
            assertThat(good.out()).contains("Login Succeeded");
            Result bad = api.dockerIn("wrong\n", "login", "-u", "alice", "--password-stdin", registry.host());
            assertThat(bad.exit()).as("%s", bad).isNotZero();
            assertThat(bad.err()).contains("bad username or password");
            Result raw = api.curl("-X", "POST", "-H", "Content-Type: application/json", "-d",
                    "{\"username\":\"alice\",\"password\":\"nope\",\"serveraddress\":\"" + registry.host() + "\"}",
                    "http://hull/v1.51/auth");
            assertThat(raw.out()).startsWith("HTTP/1.1 401");
            assertThat(body(raw)).contains("\"message\"");
            Result okRaw = api.curl("-X", "POST", "-H", "Content-Type: application/json", "-d",
                    "{\"username\":\"alice\",\"password\":\"s3cret\",\"serveraddress\":\"http://" + registry.host()
                    + "/v2/\"}", "http://hull/v1.51/auth");
            assertThat(okRaw.out()).startsWith("HTTP/1.1 200");
            assertThat(body(okRaw)).contains("\"Status\":\"Login Succeeded\"");
        }
        Result nobody = api.curl("-X", "POST", "-d", "{\"password\":\"x\"}", "http://hull/v1.51/auth");
        assertThat(nobody.out()).startsWith("HTTP/1.1 400");
        assertThat(body(nobody)).contains("username is required");
    }

    @Test
    void diffListsWhatTheContainerChanged() throws Exception {
        String name = "diff-" + ProcessHandle.current().pid();
        try {
            ok(api.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                    "touch /tmp/new; mkdir -p /srv/a; echo x > /srv/a/f; rm /bin/ls; echo >> /etc/passwd;"
                    + " touch /ready; sleep 1000"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (api.docker("exec", name, "test", "-e", "/ready").exit() != 0) {
                assertThat(System.nanoTime()).as("the container's changes were made").isLessThan(deadline);
                Thread.sleep(50);
            }
            List<String> diff = ok(api.docker("diff", name)).out().lines().toList();
            assertThat(diff).contains("C /bin", "D /bin/ls", "C /etc", "C /etc/passwd", "A /srv", "A /srv/a",
                    "A /srv/a/f", "C /tmp", "A /tmp/new", "A /ready");
            // the runtime's own mount points (/etc/hosts, /etc/resolv.conf, /etc/hostname) are not the container's
            assertThat(diff).noneMatch(l -> l.startsWith("A /etc/") || l.equals("C /etc/hosts"));
            assertThat(body(ok(api.curl("http://hull/v1.51/containers/" + name + "/changes"))))
                    .contains("{\"Path\":\"/bin/ls\",\"Kind\":2}", "{\"Path\":\"/tmp/new\",\"Kind\":1}",
                            "{\"Path\":\"/tmp\",\"Kind\":0}");
            Result missing = api.curl("http://hull/v1.51/containers/no-such-" + name + "/changes");
            assertThat(missing.out()).startsWith("HTTP/1.1 404");
        } finally {
            api.docker("rm", "-f", name);
        }
    }

    @Test
    void importMakesAnImageOfAFilesystemTar() throws Exception {
        String name = "imp-" + ProcessHandle.current().pid();
        Path tar = tmp.resolve(name + ".tar");
        try {
            ok(api.docker("create", "--name", name, "busybox", "true"));
            ok(api.docker("export", "-o", tar.toString(), name));
            Result imported = ok(api.docker("import", "-c", "CMD [\"/bin/echo\", \"imported\"]", "-m", "flat",
                    tar.toString(), name + ":1"));
            assertThat(imported.out().strip()).matches("sha256:[0-9a-f]{64}");
            assertThat(ok(api.docker("run", "--rm", "--network", "none", name + ":1")).out()).isEqualTo("imported\n");
            assertThat(ok(api.docker("history", "--format", "{{.Comment}}", name + ":1")).out()).contains("flat");
            Result notTar = api.dockerIn("this is no tar\n", "import", "-", name + ":2");
            assertThat(notTar.exit()).as("%s", notTar).isNotZero();
            assertThat(ok(api.docker("images", "-q", name + ":2")).out()).isBlank();
            Result url = api.curl("-X", "POST", "http://hull/v1.51/images/create?fromSrc=http://example.invalid/x.tar");
            assertThat(url.out()).startsWith("HTTP/1.1 400");
        } finally {
            api.docker("rm", "-f", name);
            api.docker("rmi", name + ":1");
        }
    }

    private static Result post(String path, Path bodyFile, String... headers) throws Exception {
        List<String> args = new ArrayList<>(List.of("-X", "POST", "-H", "Content-Type: application/json"));
        for (String h : headers) {
            args.addAll(List.of("-H", h));
        }
        args.addAll(List.of("--data-binary", "@" + bodyFile, "http://hull/v1.51" + path));
        return api.curl(args.toArray(String[]::new));
    }

    @Test
    void hostileBodiesGetClearErrors() throws Exception {
        String name = "bad-" + ProcessHandle.current().pid();
        record Case(String body, String status, String message) {}
        List<Case> cases = List.of(
                new Case("{\"Image\": \"busybox\",", "400", "invalid JSON in the request body"),
                new Case("{\"Image\": \"busybox\", \"Bogus\": 1}", "400", "Config.Bogus is not supported by Hull"),
                new Case("{\"Image\": \"busybox\", \"HostConfig\": {\"Bogus\": 1}}", "400",
                        "HostConfig.Bogus is not supported by Hull"),
                new Case("[1, 2]", "400", "needs a JSON object"),
                new Case("\"just a string\"", "400", "needs a JSON object"),
                new Case("{\"Image\": \"busybox\"}\u0000garbage", "400", "invalid JSON"),
                new Case("[".repeat(100_000) + "]".repeat(100_000), "400", "nesting depth"));
        try {
            for (Case c : cases) {
                Path f = Files.writeString(tmp.resolve("body.json"), c.body());
                Result r = post("/containers/create?name=" + name, f);
                assertThat(r.out()).as("%s", c.body().length() > 60 ? c.body().substring(0, 60) : c.body())
                        .startsWith("HTTP/1.1 " + c.status());
                assertThat(body(r)).contains("\"message\"").contains(c.message());
            }
        } finally {
            api.docker("rm", "-f", name);
        }
        // 6 MiB: refused by its length, and sent chunked (no length) refused once past the limit
        Path big = tmp.resolve("big.json");
        Files.write(big, ("{\"Image\":\"busybox\",\"Env\":[\"A=" + "x".repeat(6 << 20) + "\"]}").getBytes());
        Result sized = post("/containers/create?name=" + name, big);
        assertThat(sized.out()).startsWith("HTTP/1.1 413");
        assertThat(body(sized)).contains("refused");
        Result chunked = post("/containers/create?name=" + name, big, "Transfer-Encoding: chunked", "Expect:");
        assertThat(chunked.out()).startsWith("HTTP/1.1 413");
        assertThat(body(chunked)).contains("refused");
        // none of them made a container
        assertThat(ok(api.docker("ps", "-a", "--filter", "name=^/" + name + "$", "-q")).out()).isBlank();
        // and the service still answers
        assertThat(body(ok(api.curl("http://hull/_ping")))).isEqualTo("OK");
    }

    /** The service's open descriptors. */
    private static long fds(long pid) throws Exception {
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return s.count();
        }
    }

    @Test
    void clientsThatVanishMidStreamLeaveNothing() throws Exception {
        String name = "vanish-" + ProcessHandle.current().pid();
        long service = api.servicePid();
        try {
            ok(api.docker("run", "-d", "--name", name, "busybox", "sh", "-c", "while true; do echo tick; sleep 0.2; done"));
            api.awaitLog(name, "tick");
            ok(api.curl("http://hull/_ping"));
            long before = fds(service);
            List<Process> clients = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                for (String path : List.of("/containers/" + name + "/logs?follow=1&stdout=1",
                        "/containers/" + name + "/stats", "/events")) {
                    clients.add(new ProcessBuilder("curl", "-s", "-N", "--unix-socket", api.dockerSocket.toString(),
                            "http://hull/v1.51" + path).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .redirectError(ProcessBuilder.Redirect.DISCARD).start());
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (fds(service) < before + clients.size()) { // every stream connected
                assertThat(System.nanoTime()).as("30 streams connected").isLessThan(deadline);
                Thread.sleep(50);
            }
            for (Process p : clients) {
                p.destroyForcibly(); // kill -9: the connection just drops
            }
            for (Process p : clients) {
                p.waitFor();
            }
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (fds(service) > before + 2) { // (slack: a log file the streams' follower may still hold briefly)
                assertThat(System.nanoTime()).as("the service's descriptors back to %d, now %d", before, fds(service))
                        .isLessThan(deadline);
                Thread.sleep(100);
            }
            // the container is as it was, and goes normally
            assertThat(ok(api.docker("inspect", "-f", "{{.State.Status}}", name)).out().strip()).isEqualTo("running");
            ok(api.docker("rm", "-f", name));
            assertThat(ok(api.docker("ps", "-a", "--filter", "name=^/" + name + "$", "-q")).out()).isBlank();
        } finally {
            api.docker("rm", "-f", name);
        }
    }
}
