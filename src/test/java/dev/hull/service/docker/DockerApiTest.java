package dev.hull.service.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.testing.RegistryServer;
import dev.hull.service.docker.ApiService.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Docker Engine API driven by the real docker CLI ({@code docker -H unix://…}) against a Hull
 * service this class starts with bin/hull on sockets of its own, with its own HULL_HOME and
 * HULL_STATE (so every container, image, network and volume here is this class's). Raw requests
 * (headers, status codes, version negotiation) go through curl on the same socket.
 */
class DockerApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path DOCKER = ApiService.DOCKER;

    @TempDir
    static Path tmp;
    static ApiService api;

    @BeforeAll
    static void startService() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DOCKER), "the docker CLI is not at " + DOCKER);
        api = ApiService.start(tmp);
    }

    @AfterAll
    static void stopService() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    static boolean answers(Path p) {
        return ApiService.answers(p);
    }

    static Result run(String stdin, List<String> cmd) throws Exception {
        return api.run(stdin, cmd);
    }

    static Result docker(String... args) throws Exception {
        return api.docker(args);
    }

    static Result dockerIn(String stdin, String... args) throws Exception {
        return api.dockerIn(stdin, args);
    }

    static Result curl(String... args) throws Exception {
        return api.curl(args);
    }

    static String body(Result r) {
        return ApiService.body(r);
    }

    static Result ok(Result r) {
        return ApiService.ok(r);
    }

    // ---------------------------------------------------------------- system

    @Test
    void pingVersionInfoAndNegotiation() throws Exception {
        Result head = ok(curl("-I", "http://hull/_ping"));
        assertThat(head.out()).startsWith("HTTP/1.1 200").contains("Api-Version: 1.51", "Ostype: linux",
                "Docker-Experimental: false");
        assertThat(body(ok(curl("http://hull/_ping")))).isEqualTo("OK");
        assertThat(ok(curl("http://hull/v1.24/_ping")).out()).startsWith("HTTP/1.1 200");

        // the CLI negotiates (it sends its own version, 1.50 for docker 28.2, or what the server has)
        Result v = ok(docker("version", "--format", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}"));
        assertThat(v.out().strip()).isEqualTo("1.51 1.24 linux");
        Result info = ok(docker("info", "--format", "{{.OSType}} {{.LoggingDriver}} {{.DockerRootDir}}"));
        assertThat(info.out().strip()).isEqualTo("linux json-file " + tmp.resolve("home"));

        // version-prefixed and bare paths; versions out of range are refused as dockerd refuses them
        JsonNode bare = JSON.readTree(body(ok(curl("http://hull/version"))));
        JsonNode old = JSON.readTree(body(ok(curl("http://hull/v1.24/version"))));
        assertThat(bare.path("ApiVersion").asText()).isEqualTo("1.51");
        assertThat(old.path("MinAPIVersion").asText()).isEqualTo("1.24");
        Result tooOld = ok(curl("http://hull/v1.23/version"));
        assertThat(tooOld.out()).startsWith("HTTP/1.1 400");
        assertThat(JSON.readTree(body(tooOld)).path("message").asText()).contains("1.23 is too old");
        Result tooNew = ok(curl("http://hull/v1.99/version"));
        assertThat(tooNew.out()).startsWith("HTTP/1.1 400");
        assertThat(JSON.readTree(body(tooNew)).path("message").asText()).contains("too new");

        Result missing = ok(curl("http://hull/v1.51/containers/no-such-container/json"));
        assertThat(missing.out()).startsWith("HTTP/1.1 404");
        assertThat(JSON.readTree(body(missing)).path("message").asText()).isEqualTo("No such container: no-such-container");
        Result noImage = ok(curl("http://hull/images/no-such-image/json"));
        assertThat(noImage.out()).startsWith("HTTP/1.1 404");
        assertThat(JSON.readTree(body(noImage)).path("message").asText()).isEqualTo("No such image: no-such-image:latest");
        Result bad = ok(curl("-X", "POST", "-H", "Content-Type: application/json", "-d", "{not json",
                "http://hull/containers/create"));
        assertThat(bad.out()).startsWith("HTTP/1.1 400");
        // /build without a context: dockerd's answer for a context without its Dockerfile
        assertThat(ok(curl("-X", "POST", "http://hull/build")).out()).startsWith("HTTP/1.1 500")
                .contains("Cannot locate specified Dockerfile: Dockerfile");
    }

    // ---------------------------------------------------------------- docker run

    @Test
    void runInTheForegroundWithDockersExitCodes() throws Exception {
        Result hi = docker("run", "--rm", "--name", "fg-hi", "busybox", "echo", "hi");
        assertThat(hi.exit()).as("%s", hi).isZero();
        assertThat(hi.out()).isEqualTo("hi\n");

        Result three = docker("run", "--rm", "--name", "fg-three", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(three.exit()).as("%s", three).isEqualTo(3);
        assertThat(three.out()).isEqualTo("out\n");
        assertThat(three.err()).isEqualTo("err\n");

        Result notFound = docker("run", "--rm", "--name", "fg-127", "busybox", "no-such-command");
        assertThat(notFound.exit()).as("%s", notFound).isEqualTo(127);
        assertThat(notFound.err()).contains("executable file not found");

        Result notExecutable = docker("run", "--rm", "--name", "fg-126", "busybox", "/etc");
        assertThat(notExecutable.exit()).as("%s", notExecutable).isEqualTo(126);

        // refused by Hull: 125, the field named
        Result badSignal = docker("run", "--rm", "--name", "fg-125", "--stop-signal", "NOSUCHSIG", "busybox", "true");
        assertThat(badSignal.exit()).as("%s", badSignal).isEqualTo(125);
        Result unsupported = docker("run", "--rm", "--name", "fg-125b", "--cpu-rt-period", "1000", "busybox", "true");
        assertThat(unsupported.exit()).as("%s", unsupported).isEqualTo(125);
        assertThat(unsupported.err()).contains("HostConfig.CpuRealtimePeriod");

        // --rm: none of them is left (the failed starts too)
        Result left = ok(docker("ps", "-a", "--filter", "name=^/fg-", "--format", "{{.Names}}"));
        assertThat(left.out()).isEmpty();

        // without --rm the container stays, exited with its code
        Result kept = docker("run", "--name", "fg-kept", "-e", "GREETING=hello", "-w", "/tmp", "busybox",
                "sh", "-c", "echo $GREETING from $(pwd); exit 7");
        assertThat(kept.exit()).as("%s", kept).isEqualTo(7);
        assertThat(kept.out()).isEqualTo("hello from /tmp\n");
        assertThat(ok(docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "fg-kept")).out().strip())
                .isEqualTo("exited 7");
        ok(docker("rm", "fg-kept"));
    }

    @Test
    void stdinAndATerminal() throws Exception {
        Result cat = dockerIn("line one\nline two\n", "run", "--rm", "-i", "--name", "in-cat", "busybox", "cat");
        assertThat(cat.exit()).as("%s", cat).isZero();
        assertThat(cat.out()).isEqualTo("line one\nline two\n");

        // -it under script: a real terminal on the client's side, the container's pty on ours
        Result tty = run("tty\necho $((6*7))\nexit 5\n", List.of("script", "-q", "-e", "-c",
                DOCKER + " run --rm -it --name in-tty busybox sh", "/dev/null"));
        assertThat(tty.exit()).as("%s", tty).isEqualTo(5);
        assertThat(tty.out()).contains("/dev/pts/0", "42");
    }

    // ---------------------------------------------------------------- docker run -d, ps, logs, exec, stop, rm

    @Test
    void detachedContainerLifecycle() throws Exception {
        Result started = docker("run", "-d", "--name", "life", "-l", "suite=docker-api", "--restart", "no",
                "busybox", "sh", "-c", "echo started; echo oops >&2; trap 'echo bye; exit 0' TERM; "
                        + "while true; do sleep 0.2; done");
        assertThat(started.exit()).as("%s", started).isZero();
        String id = started.out().strip();
        assertThat(id).matches("[0-9a-f]{64}");

        Result ps = ok(docker("ps", "--filter", "label=suite=docker-api", "--format", "{{.ID}} {{.Names}} {{.State}}"));
        assertThat(ps.out().strip()).isEqualTo(id.substring(0, 12) + " life running");
        assertThat(ok(docker("ps", "--filter", "status=exited", "--filter", "name=^/life$", "-q")).out()).isEmpty();

        awaitLog("life", "started");
        Result logs = ok(docker("logs", "life"));
        assertThat(logs.out()).isEqualTo("started\n");
        assertThat(logs.err()).isEqualTo("oops\n");
        Result stamped = ok(docker("logs", "-t", "--tail", "1", "life"));
        assertThat(stamped.out() + stamped.err()).matches("(?s)\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z (started|oops)\n");

        Result exec = docker("exec", "life", "sh", "-c", "echo in $(hostname); exit 4");
        assertThat(exec.exit()).as("%s", exec).isEqualTo(4);
        assertThat(exec.out()).isEqualTo("in " + id.substring(0, 12) + "\n");
        Result execIn = dockerIn("piped\n", "exec", "-i", "life", "cat");
        assertThat(execIn.out()).isEqualTo("piped\n");
        Result execMissing = docker("exec", "life", "no-such-tool");
        assertThat(execMissing.exit()).as("%s", execMissing).isEqualTo(127);

        assertThat(docker("rm", "life").exit()).as("a running container is not removed").isNotZero();
        ok(docker("rename", "life", "life2"));
        ok(docker("stop", "life2"));
        assertThat(ok(docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", id)).out().strip())
                .isEqualTo("exited 0 /life2");
        assertThat(ok(docker("logs", "--tail", "1", "life2")).out()).isEqualTo("bye\n");
        Result again = ok(curl("-X", "POST", "http://hull/v1.51/containers/life2/stop"));
        assertThat(again.out()).as("stopping a stopped container").startsWith("HTTP/1.1 304");
        assertThat(ok(docker("ps", "-a", "--filter", "name=^/life2$", "--format", "{{.Status}}")).out())
                .startsWith("Exited (0)");

        // one engine: the hull command line sees what the API made
        Result hull = runHull("inspect", "-f", "{{.State.Status}}", "life2");
        assertThat(hull.out().strip()).as("%s", hull).isEqualTo("exited");

        ok(docker("rm", "life2"));
        Result gone = docker("container", "inspect", "life2");
        assertThat(gone.exit()).isNotZero();
        assertThat(gone.err()).contains("No such container: life2");
    }

    @Test
    void waitKillRestartAndFollowedLogs() throws Exception {
        ok(docker("run", "-d", "--name", "waiter", "busybox", "sh", "-c", "echo one; sleep 1000"));
        awaitLog("waiter", "one");
        Process follow = spawn(tmp.resolve("follow.txt"), "logs", "-f", "waiter");
        Process wait = spawn(tmp.resolve("wait.txt"), "wait", "waiter");
        try {
            ok(docker("kill", "-s", "KILL", "waiter"));
            assertThat(wait.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(tmp.resolve("wait.txt")).strip()).isEqualTo("137");
            assertThat(follow.waitFor(60, TimeUnit.SECONDS)).as("logs -f ends with the container").isTrue();
            assertThat(Files.readString(tmp.resolve("follow.txt"))).isEqualTo("one\n");
        } finally {
            follow.destroyForcibly();
            wait.destroyForcibly();
        }
        Result kill = docker("kill", "waiter");
        assertThat(kill.exit()).as("killing a stopped container").isNotZero();
        ok(docker("restart", "waiter"));
        assertThat(ok(docker("inspect", "-f", "{{.State.Running}}", "waiter")).out().strip()).isEqualTo("true");
        ok(docker("rm", "-f", "waiter"));
        assertThat(ok(docker("ps", "-aq", "--filter", "name=^/waiter$")).out()).isEmpty();
    }

    private static Process spawn(Path out, String... args) throws IOException {
        return api.spawn(out, args);
    }

    private static void awaitLog(String container, String text) throws Exception {
        api.awaitLog(container, text);
    }

    static Result runHull(String... args) throws Exception {
        return api.hull(args);
    }

    // ---------------------------------------------------------------- images

    @Test
    void imagesPullTagRemove() throws Exception {
        Result images = ok(docker("images", "--format", "{{.Repository}}:{{.Tag}}"));
        // the built-in busybox is made on first use, which other tests of this class may have done already
        ok(docker("image", "inspect", "busybox"));
        Result inspect = ok(docker("image", "inspect", "-f", "{{.Os}} {{.Architecture}} {{json .RepoTags}}", "busybox"));
        assertThat(inspect.out().strip()).isEqualTo("linux amd64 [\"busybox:latest\"]");
        assertThat(images.exit()).isZero();

        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start()) {
            String remote = registry.host() + "/suite/bb:1";
            ok(docker("tag", "busybox", remote));
            assertThat(ok(docker("images", "--format", "{{.Repository}}:{{.Tag}}")).out()).contains(remote);
            // pushed with hull (the API has no push yet), into the registry the pull reads from
            Result push = runHull("push", "--tls-verify=false", remote);
            assertThat(push.exit()).as("%s", push).isZero();
            Result rmi = ok(docker("rmi", remote));
            assertThat(rmi.out()).contains("Untagged: " + remote);
            assertThat(ok(docker("images", "--format", "{{.Repository}}:{{.Tag}}")).out()).doesNotContain(remote);

            Result pull = docker("pull", remote);
            assertThat(pull.exit()).as("%s", pull).isZero();
            assertThat(pull.out()).contains("Pulling from " + registry.host() + "/suite/bb", "Digest: sha256:",
                    "Status: Downloaded newer image for " + remote);
            assertThat(ok(docker("images", "--format", "{{.Repository}}:{{.Tag}}")).out()).contains(remote);
            Result fromPulled = docker("run", "--rm", remote, "echo", "pulled");
            assertThat(fromPulled.out()).as("%s", fromPulled).isEqualTo("pulled\n");

            Result missing = docker("pull", registry.host() + "/suite/missing:1");
            assertThat(missing.exit()).isNotZero();
            assertThat(missing.err()).contains("pull access denied", "manifest unknown");

            // run pulls an image it does not have (create's 404, then the CLI's pull)
            ok(docker("rmi", remote));
            Result runPulls = docker("run", "--rm", remote, "echo", "after-pull");
            assertThat(runPulls.exit()).as("%s", runPulls).isZero();
            assertThat(runPulls.out()).endsWith("after-pull\n");
            assertThat(runPulls.err()).contains("Unable to find image");
            ok(docker("rmi", remote));
        }
        Result noImage = docker("rmi", "no-such-image:1");
        assertThat(noImage.exit()).isNotZero();
        assertThat(noImage.err()).contains("No such image: no-such-image:1");
    }

    // ---------------------------------------------------------------- networks and volumes

    @Test
    void containersFindEachOtherByNameOnANetwork() throws Exception {
        Result created = ok(docker("network", "create", "--label", "suite=docker-api", "apinet"));
        String netId = created.out().strip();
        assertThat(ok(docker("network", "ls", "--filter", "label=suite=docker-api", "--format", "{{.Name}}")).out())
                .isEqualTo("apinet\n");
        assertThat(docker("network", "create", "apinet").exit()).as("a second network of that name").isNotZero();
        try {
            ok(docker("run", "-d", "--name", "apidb", "--network", "apinet", "--network-alias", "database", "busybox",
                    "sleep", "1000"));
            Result ping = docker("run", "--rm", "--network", "apinet", "busybox", "sh", "-c",
                    "ping -c1 -W5 apidb && ping -c1 -W5 database");
            assertThat(ping.exit()).as("%s", ping).isZero();
            assertThat(ping.out()).contains("1 packets received");
            Result inspect = ok(docker("network", "inspect", "-f", "{{.Id}} {{range .Containers}}{{.Name}}{{end}}",
                    "apinet"));
            assertThat(inspect.out().strip()).isEqualTo(netId + " apidb");
            assertThat(docker("network", "rm", "apinet").exit()).as("in use").isNotZero();
        } finally {
            docker("rm", "-f", "apidb");
        }
        ok(docker("network", "rm", "apinet"));
        assertThat(docker("network", "inspect", "apinet").exit()).isNotZero();
    }

    @Test
    void publishedPortsNetworkConnectAndResize() throws Exception {
        Path site = Files.createDirectories(tmp.resolve("site"));
        Files.writeString(site.resolve("index.html"), "served through a published port\n");
        ok(docker("run", "-d", "--name", "pub", "-p", "127.0.0.1::80", "-v", site + ":/www:ro", "busybox",
                "httpd", "-f", "-h", "/www"));
        try {
            String port = ok(docker("port", "pub", "80")).out().strip();
            assertThat(port).matches("127\\.0\\.0\\.1:\\d+");
            var http = java.net.http.HttpClient.newHttpClient();
            String body = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (body == null) {
                try {
                    body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + port + "/"))
                            .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                } catch (IOException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
            assertThat(body).isEqualTo("served through a published port\n");
            assertThat(ok(docker("ps", "--filter", "name=^/pub$", "--format", "{{.Ports}}")).out().strip())
                    .isEqualTo(port + "->80/tcp");

            ok(docker("network", "create", "pubnet"));
            ok(docker("network", "connect", "pubnet", "pub"));
            String nets = "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}";
            assertThat(ok(docker("inspect", "-f", nets, "pub")).out().strip()).isEqualTo("bridge pubnet");
            ok(docker("network", "disconnect", "pubnet", "pub"));
            assertThat(ok(docker("inspect", "-f", nets, "pub")).out().strip()).isEqualTo("bridge");
        } finally {
            docker("rm", "-f", "pub");
            docker("network", "rm", "pubnet");
        }

        // a terminal container's pty takes the client's size (resize), as its processes see it
        ok(docker("run", "-d", "-it", "--name", "sized", "busybox", "sh"));
        try {
            Result resize = ok(curl("-X", "POST", "http://hull/v1.51/containers/sized/resize?h=33&w=111"));
            assertThat(resize.out()).startsWith("HTTP/1.1 200");
            assertThat(ok(docker("exec", "sized", "stty", "-F", "/proc/1/fd/0", "size")).out().strip())
                    .isEqualTo("33 111");
        } finally {
            docker("rm", "-f", "sized");
        }
        Result noTty = ok(curl("-X", "POST", "http://hull/containers/no-such/resize?h=1&w=1"));
        assertThat(noTty.out()).startsWith("HTTP/1.1 404");
    }

    @Test
    void namedVolumes() throws Exception {
        ok(docker("volume", "create", "--label", "suite=docker-api", "apivol"));
        assertThat(ok(docker("volume", "ls", "--filter", "label=suite=docker-api", "--format", "{{.Name}}")).out())
                .isEqualTo("apivol\n");
        ok(docker("run", "--rm", "-v", "apivol:/srv", "busybox", "sh", "-c", "echo kept > /srv/f"));
        Result read = ok(docker("run", "--rm", "-v", "apivol:/srv:ro", "busybox", "cat", "/srv/f"));
        assertThat(read.out()).isEqualTo("kept\n");
        Result mp = ok(docker("volume", "inspect", "-f", "{{.Mountpoint}}", "apivol"));
        assertThat(Files.readString(Path.of(mp.out().strip(), "f"))).isEqualTo("kept\n");
        ok(docker("volume", "rm", "apivol"));
        Result gone = docker("volume", "inspect", "apivol");
        assertThat(gone.exit()).isNotZero();
        assertThat(gone.err()).contains("no such volume");
    }
}
