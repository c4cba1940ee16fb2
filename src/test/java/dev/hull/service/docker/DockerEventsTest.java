package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.testing.RegistryServer;
import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * docker events through the docker CLI for what dockerd 20.10 reports and Hull did not: image
 * events (tag, save, untag, load, import, delete, push, pull) with dockerd's actor and name (the
 * image's ID, but the new tag for tag and the reference for pull and push) and the image's labels
 * among the attributes; and a container restarted by its policy, a die and a start per restart
 * (the sequences here are those a private dockerd 20.10 gave for the same commands).
 */
class DockerEventsTest extends ApiServiceTest {
    static final String IMAGE_FORMAT = "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}";

    /**
     * The next whole second, once it has begun (docker's since counts in seconds): nothing the tests
     * before did falls at or after it.
     */
    static long freshSecond() throws InterruptedException {
        Thread.sleep(1000 - System.currentTimeMillis() % 1000 + 20);
        return System.currentTimeMillis() / 1000;
    }

    /** Events between since and now (waiting out the second: until is a wall-clock bound), formatted. */
    static List<String> events(long since, String format, String... filters) throws Exception {
        Thread.sleep(1100);
        List<String> args = new java.util.ArrayList<>(List.of("events", "--since", Long.toString(since), "--until",
                Long.toString(System.currentTimeMillis() / 1000), "--format", format));
        for (String f : filters) {
            args.add("--filter");
            args.add(f);
        }
        return ok(api.docker(args.toArray(String[]::new))).out().lines().map(String::strip).toList();
    }

    /**
     * What dockerd 20.10 reported for: tag busybox P/t:1, save P/t:1, rmi P/t:1, [load the archive,]
     * import P/imp:1, rmi P/imp:1, tag busybox REMOTE, push, rmi, pull it (IMAGE_FORMAT lines).
     */
    static List<String> sequence(String p, String bb, String imported, String remote, boolean loaded) {
        List<String> out = new java.util.ArrayList<>(List.of("tag " + bb + " " + p + "/t:1", "save " + bb + " " + bb,
                "untag " + bb + " " + bb));
        if (loaded) {
            out.add("load " + bb + " " + bb);
        }
        out.addAll(List.of("tag " + imported + " " + p + "/imp:1", "import " + imported + " " + imported,
                "untag " + imported + " " + imported, "delete " + imported + " " + imported,
                "tag " + bb + " " + remote, "push " + remote + " " + remote, "untag " + bb + " " + bb,
                "pull " + remote + " " + remote));
        return out;
    }

    /** The built-in busybox image in the service's store: its ID. */
    static String busybox() throws Exception {
        ok(api.hull("run", "--rm", "busybox", "true"));
        return ok(api.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).out().strip();
    }

    /** A tar of a one-file tree, to import. */
    static Path filesystemTar(String name) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("tree-" + name));
        Files.writeString(root.resolve("hello"), "hi\n");
        Path fs = tmp.resolve("fs-" + name + ".tar");
        ok(api.run(null, List.of("tar", "-C", root.toString(), "-cf", fs.toString(), ".")));
        return fs;
    }

    @Test
    void imageEventsAreDockerds() throws Exception {
        String bb = busybox();
        long since = freshSecond();
        ok(api.docker("tag", "busybox", "ev/t:1"));
        Path archive = tmp.resolve("ev.tar");
        ok(api.docker("save", "-o", archive.toString(), "ev/t:1"));
        ok(api.docker("rmi", "ev/t:1"));
        ok(api.docker("load", "-i", archive.toString()));
        Path fs = filesystemTar("docker");
        String imported = ok(api.docker("import", fs.toString(), "ev/imp:1")).out().strip();
        ok(api.docker("rmi", "ev/imp:1"));
        String remote;
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start()) {
            remote = registry.host() + "/ev/pushed:1";
            ok(api.docker("tag", "busybox", remote));
            ok(api.docker("push", remote));
            ok(api.docker("rmi", remote));
            ok(api.docker("pull", remote));
        }
        assertThat(events(since, IMAGE_FORMAT, "type=image")).containsExactlyElementsOf(
                sequence("ev", bb, imported, remote, true));
        // the image's labels are attributes (Hull's busybox has one), and the filters pick
        assertThat(events(since, "{{.Action}} {{index .Actor.Attributes \"org.opencontainers.image.source\"}}",
                "type=image", "event=save")).singleElement().asString().startsWith("save Debian busybox-static");
        assertThat(events(since, IMAGE_FORMAT, "image=" + imported)).containsExactly(
                "tag " + imported + " ev/imp:1", "import " + imported + " " + imported,
                "untag " + imported + " " + imported, "delete " + imported + " " + imported);
        ok(api.docker("rmi", "ev/t:1", remote));
    }

    @Test
    void theHullCommandLinesImageEventsAreTheSame() throws Exception {
        String bb = busybox();
        long since = freshSecond();
        ok(api.hull("tag", "busybox", "evh/t:1"));
        Path archive = tmp.resolve("evh.tar");
        ok(api.hull("save", "-o", archive.toString(), "evh/t:1"));
        ok(api.hull("rmi", "evh/t:1"));
        Path fs = filesystemTar("hull");
        String imported = ok(api.hull("import", fs.toString(), "evh/imp:1")).out().strip();
        imported = imported.startsWith("sha256:") ? imported : "sha256:" + imported;
        ok(api.hull("rmi", "evh/imp:1"));
        String remote;
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry-hull")).start()) {
            remote = registry.host() + "/evh/pushed:1";
            ok(api.hull("tag", "busybox", remote));
            ok(api.hull("push", "--tls-verify=false", remote));
            ok(api.hull("rmi", remote));
            ok(api.hull("pull", "--tls-verify=false", remote));
        }
        assertThat(events(since, IMAGE_FORMAT, "type=image")).containsExactlyElementsOf(
                sequence("evh", bb, imported, remote, false));
        ok(api.hull("rmi", remote));
    }

    @Test
    void aContainerRestartedByItsPolicyDiesAndStartsEachTime() throws Exception {
        long since = freshSecond();
        Path live = tmp.resolve("restarts.txt");
        Process follow = api.spawn(live, "events", "--since", Long.toString(since), "--filter", "container=ev-rs",
                "--filter", "event=die", "--format", "{{.Action}} {{.Actor.Attributes.exitCode}}");
        try {
            ok(api.docker("run", "-d", "--name", "ev-rs", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!ok(api.docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "ev-rs")).out().strip()
                    .equals("exited 2") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            ApiService.awaitFile(live, t -> t.lines().filter(l -> l.equals("die 3")).count() == 3,
                    "three die events streamed live");
        } finally {
            follow.destroy();
        }
        String format = "{{.Action}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}";
        List<String> expected = List.of("create", "start", "die 3", "start", "die 3", "start", "die 3");
        assertThat(events(since, format, "container=ev-rs")).containsExactlyElementsOf(expected);
        // removed, its history stays (written to the log at rm), once each
        ok(api.docker("rm", "ev-rs"));
        List<String> after = new java.util.ArrayList<>(expected);
        after.add("destroy");
        assertThat(events(since, format, "container=ev-rs")).containsExactlyElementsOf(after);
    }

    /**
     * docker exec -d: dockerd gives the detached exec an exec_die with its exitCode when it ends, and
     * exec inspect its exit code (the same execID as its exec_create and exec_start).
     */
    @Test
    void aDetachedExecDiesWithItsExitCode() throws Exception {
        long since = freshSecond();
        Path live = tmp.resolve("detached-exec.txt");
        ok(api.docker("run", "-d", "--name", "ev-ex", "busybox", "sleep", "1000"));
        Process follow = api.spawn(live, "events", "--since", Long.toString(since), "--filter", "container=ev-ex",
                "--format", "{{.Action}}|{{.Actor.Attributes.execID}}|{{.Actor.Attributes.exitCode}}");
        try {
            ok(api.docker("exec", "-d", "ev-ex", "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 7"));
            ApiService.awaitFile(live, t -> t.lines().anyMatch(l -> l.startsWith("exec_start: sh -c while")),
                    "the detached exec's exec_start");
            String id = Files.readString(live).lines().filter(l -> l.startsWith("exec_start: sh -c while"))
                    .findFirst().orElseThrow().split("\\|", -1)[1];
            assertThat(id).matches("[0-9a-f]{64}");
            assertThat(ApiService.body(ok(api.curl("http://hull/v1.51/exec/" + id + "/json"))))
                    .contains("\"Running\":true", "\"ExitCode\":null");
            assertThat(Files.readString(live)).doesNotContain("exec_die|" + id);
            ok(api.docker("exec", "ev-ex", "touch", "/tmp/go"));
            ApiService.awaitFile(live, t -> t.lines().anyMatch(l -> l.equals("exec_die|" + id + "|7")),
                    "exec_die with exitCode 7 for the detached exec " + id);
            assertThat(ApiService.body(ok(api.curl("http://hull/v1.51/exec/" + id + "/json"))))
                    .contains("\"Running\":false", "\"ExitCode\":7");
        } finally {
            follow.destroy();
            api.docker("rm", "-f", "ev-ex");
        }
    }
}
