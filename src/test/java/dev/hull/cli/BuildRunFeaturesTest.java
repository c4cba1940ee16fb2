package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull build's RUN and COPY beyond the plain forms, each run in real Hull containers: heredocs (as
 * the shell's script, a #! script, inline here-documents, COPY's files with and without expansion,
 * <<- tab stripping), RUN --mount of a cache kept between builds, of a secret that no layer or
 * history holds, of the context or a stage (bind), and RUN --network / hull build --network.
 */
class BuildRunFeaturesTest {
    static final ObjectMapper JSON = BuildFixture.JSON;
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-buildrun-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    static HullCommand.Result ok(String... args) throws Exception {
        return fx.ok(args);
    }

    static Path context(String name, String dockerfile) throws Exception {
        return fx.context(name, dockerfile);
    }

    static List<String> layers(String image) throws Exception {
        return fx.layers(image);
    }

    static Map<String, byte[]> layerFiles(String image, boolean all) throws Exception {
        return fx.layerFiles(image, all);
    }

    static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    static void nothingLeftBehind() throws Exception {
        fx.nothingLeftBehind();
    }

    @Test
    void heredocsRunAsScriptsAndBecomeFiles() throws Exception {
        Path c = context("heredoc", """
                FROM busybox
                ARG WHO=world
                RUN <<EOF
                echo "hello $WHO" > /h1
                echo second >> /h1
                EOF
                RUN cat <<A > /a && cat <<'B' > /b
                a is $WHO
                A
                b is $WHO
                B
                RUN <<-EOF
                \techo tabbed > /t
                \tEOF
                RUN <<EOF
                #!/bin/sh -e
                echo "script $0" > /script
                EOF
                COPY <<EOF /etc/greeting
                hi ${WHO}
                EOF
                COPY <<"EOF" /etc/raw
                hi ${WHO}
                EOF
                COPY <<-EOF <<B /multi/
                \ttabbed
                \tEOF
                bee
                B
                """);
        ok("build", "-t", "heredoc:1", c.toString());
        HullCommand.Result r = ok("run", "--rm", "heredoc:1", "sh", "-c",
                "cat /h1 /a /b /t /script /etc/greeting /etc/raw /multi/EOF /multi/B; stat -c '%a %u' /etc/greeting");
        assertThat(r.out()).isEqualTo("hello world\nsecond\na is world\nb is $WHO\ntabbed\nscript /dev/pipes/EOF\n"
                + "hi world\nhi ${WHO}\ntabbed\nbee\n644 0\n");
        // the script's mount point is not in the layer; the heredoc's text is the cache key
        assertThat(layerFiles("heredoc:1", false).keySet()).noneMatch(n -> n.startsWith("dev/"));
        assertThat(ok("build", c.toString()).out().lines().filter(l -> l.startsWith("--> CACHED")).count())
                .isEqualTo(7);
        Files.writeString(c.resolve("Dockerfile"), Files.readString(c.resolve("Dockerfile"))
                .replace("echo second", "echo changed"));
        r = ok("build", "-t", "heredoc:2", c.toString());
        assertThat(r.out().lines().filter(l -> l.startsWith("--> CACHED")).count()).isZero();
        assertThat(ok("run", "--rm", "heredoc:2", "cat", "/h1").out()).isEqualTo("hello world\nchanged\n");
        nothingLeftBehind();
    }

    @Test
    void aCacheMountKeepsItsFilesBetweenBuildsAndOutOfTheLayer() throws Exception {
        Path c = context("cachemount", """
                FROM busybox
                RUN --mount=type=cache,target=/cache,id=hull-test-cache echo run >> /cache/log && wc -l < /cache/log > /count
                """);
        ok("build", "-t", "cm:1", c.toString());
        ok("build", "--no-cache", "-t", "cm:2", c.toString());
        assertThat(ok("run", "--rm", "cm:1", "cat", "/count").out().strip()).isEqualTo("1");
        assertThat(ok("run", "--rm", "cm:2", "cat", "/count").out().strip()).isEqualTo("2");
        assertThat(layerFiles("cm:2", false).keySet()).noneMatch(n -> n.contains("cache"));
        // the same id elsewhere, locked: the same directory
        Files.writeString(c.resolve("Dockerfile"), """
                FROM busybox
                RUN --mount=type=cache,target=/other,id=hull-test-cache,sharing=locked cat /other/log > /seen
                RUN --mount=type=cache,target=/p,sharing=private,uid=65534,mode=0700 stat -c '%a %u' /p > /p-mode
                """);
        ok("build", "-t", "cm:3", c.toString());
        assertThat(ok("run", "--rm", "cm:3", "cat", "/seen", "/p-mode").out()).isEqualTo("run\nrun\n700 65534\n");
        // hull builder prune: no step is cached after it, and the cache mount starts empty
        assertThat(ok("builder", "prune").out()).startsWith("Total reclaimed space: ");
        Files.writeString(c.resolve("Dockerfile"), """
                FROM busybox
                RUN --mount=type=cache,target=/cache,id=hull-test-cache echo run >> /cache/log && wc -l < /cache/log > /count
                """);
        HullCommand.Result r = ok("build", "-t", "cm:4", c.toString());
        assertThat(r.out()).doesNotContain("CACHED");
        assertThat(ok("run", "--rm", "cm:4", "cat", "/count").out().strip()).isEqualTo("1");
        nothingLeftBehind();
    }

    /** from=STAGE,source=PATH: a new cache starts as a copy of the stage's directory; a kept one is not seeded again. */
    @Test
    void aCacheMountSeededFromAStage() throws Exception {
        String id = "hull-test-seed-" + UUID.randomUUID();
        Path c = context("cacheseed", """
                FROM busybox AS seed
                RUN mkdir -p /seed/sub && echo seeded > /seed/sub/s.txt && chown -R 7:8 /seed/sub && chmod 750 /seed/sub
                FROM busybox
                RUN --mount=type=cache,target=/c,id=%s,from=seed,source=/seed cat /c/sub/s.txt > /got \\
                    && stat -c '%%u %%g %%a' /c/sub > /owner && echo more >> /c/sub/s.txt
                """.formatted(id));
        ok("build", "-t", "seed:1", c.toString());
        assertThat(ok("run", "--rm", "seed:1", "cat", "/got", "/owner").out()).isEqualTo("seeded\n7 8 750\n");
        assertThat(layerFiles("seed:1", false).keySet()).contains("got").noneMatch(n -> n.startsWith("c/"));
        ok("build", "--no-cache", "-t", "seed:2", c.toString()); // the cache as the first build left it
        assertThat(ok("run", "--rm", "seed:2", "cat", "/got").out()).isEqualTo("seeded\nmore\n");
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN --mount=type=cache,target=/c,source=/x true\n");
        HullCommand.Result r = fx.hull.run("build", c.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("Dockerfile:2: RUN --mount type=cache,source=/x: source= needs from=STAGE");
        nothingLeftBehind();
    }

    @Test
    void aSecretIsSeenByItsStepAndIsInNoLayerOrHistory() throws Exception {
        String value = "s3cr3t-" + UUID.randomUUID();
        Path secret = fx.dir.resolve("token.txt");
        Files.writeString(secret, value);
        Path c = context("secret", """
                FROM busybox
                RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len && stat -c '%a %u' /run/secrets/tok > /mode
                RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0440,uid=1 stat -c '%a %u' /etc/tok > /mode2 \\
                    && grep -q s3cr3t /etc/tok && echo matched > /grep
                RUN --mount=type=secret,id=absent (test -e /run/secrets/absent && echo there || echo absent) > /absent
                """);
        ok("build", "-t", "sec:1", "--secret", "id=tok,src=" + secret, c.toString());
        assertThat(ok("run", "--rm", "sec:1", "cat", "/len", "/mode", "/mode2", "/grep", "/absent").out())
                .isEqualTo(value.length() + "\n400 0\n440 1\nmatched\nabsent\n");
        byte[] needle = value.getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> files = layerFiles("sec:1", true);
        assertThat(files).isNotEmpty();
        files.forEach((name, content) -> assertThat(contains(content, needle)).as(name).isFalse());
        assertThat(layerFiles("sec:1", false).keySet()).contains("len", "mode").noneMatch(n -> n.startsWith("run/")
                || n.equals("etc/tok"));
        assertThat(ok("history", "--no-trunc", "sec:1").out()).doesNotContain(value);
        JsonNode inspect = JSON.readTree(ok("image", "inspect", "sec:1").out()).get(0);
        assertThat(Files.readString(fx.home.resolve("content/blobs/sha256")
                .resolve(inspect.get("Id").asText().substring(7)))).doesNotContain(value);
        // required and missing: a clear error
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN --mount=type=secret,id=tok,required true\n");
        HullCommand.Result r = fx.hull.run("build", c.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("hull: Dockerfile:2: RUN --mount type=secret,id=tok: no such secret");
        r = fx.hull.run("build", "--secret", "id=x,src=" + fx.dir.resolve("nope"), c.toString());
        assertThat(r.err()).contains("hull: --secret id=x,src=" + fx.dir.resolve("nope") + ": ");
        nothingLeftBehind();
    }

    @Test
    void bindMountsShowTheContextOrAStageReadOnly() throws Exception {
        Path c = context("bind", """
                FROM busybox AS gen
                RUN echo generated > /gen.txt
                FROM busybox
                RUN --mount=type=bind,source=src,target=/mnt cat /mnt/data.txt > /from-ctx
                RUN --mount=type=bind,target=/ctx ls /ctx > /ls-ctx
                RUN --mount=type=bind,from=gen,source=/gen.txt,target=/g.txt cat /g.txt > /from-stage
                RUN --mount=type=bind,source=src,target=/mnt,rw touch /mnt/new && ls /mnt > /rw-ls
                RUN --mount=type=bind,source=src,target=/mnt (touch /mnt/x 2>/dev/null && echo writable || echo read-only) > /ro
                """);
        Files.createDirectories(c.resolve("src"));
        Files.writeString(c.resolve("src/data.txt"), "data 1\n");
        Files.writeString(c.resolve("private.key"), "left out\n");
        Files.writeString(c.resolve(".dockerignore"), "private.key\n");
        ok("build", "-t", "bind:1", c.toString());
        assertThat(ok("run", "--rm", "bind:1", "cat", "/from-ctx", "/ls-ctx", "/from-stage", "/rw-ls", "/ro").out())
                .isEqualTo("data 1\nDockerfile\nsrc\ngenerated\ndata.txt\nnew\nread-only\n");
        try (var s = Files.list(c.resolve("src"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).as("rw wrote to a copy").containsExactly("data.txt");
        }
        assertThat(layerFiles("bind:1", false).keySet()).noneMatch(n -> n.startsWith("mnt/") || n.startsWith("ctx"));
        // the mounted content is part of the key
        Files.writeString(c.resolve("src/data.txt"), "data 2\n");
        ok("build", "-t", "bind:2", c.toString());
        assertThat(ok("run", "--rm", "bind:2", "cat", "/from-ctx").out()).isEqualTo("data 2\n");
        // a link in the context that leads out of it is not followed
        Files.createSymbolicLink(c.resolve("out"), Path.of("/etc"));
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN --mount=type=bind,source=out,target=/x ls /x\n");
        HullCommand.Result r = fx.hull.run("build", c.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("hull: Dockerfile:2: RUN --mount type=bind,source=out: it leads outside its"
                + " source (a symlink)");
        nothingLeftBehind();
    }

    @Test
    void runNetworkAndTheBuildsNetwork() throws Exception {
        String hostNs = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        Path c = context("net", """
                FROM busybox
                RUN ls /sys/class/net > /default
                RUN --network=none ls /sys/class/net > /none
                RUN --network=host readlink /proc/self/ns/net > /host
                """);
        ok("build", "-t", "net:1", c.toString());
        assertThat(ok("run", "--rm", "net:1", "cat", "/default", "/none", "/host").out().lines().toList())
                .containsExactly("eth0", "lo", "lo", hostNs);
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN ls /sys/class/net > /n\n");
        ok("build", "--network", "none", "-t", "net:2", c.toString());
        assertThat(ok("run", "--rm", "net:2", "cat", "/n").out()).isEqualTo("lo\n");
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN --network=other true\n");
        HullCommand.Result r = fx.hull.run("build", c.toString());
        assertThat(r.err()).contains("hull: Dockerfile:2: RUN --network=other: use none, host or default");
        nothingLeftBehind();
    }

    @Test
    void onbuildTriggersRunInTheChildBuildAndAreNotInherited() throws Exception {
        Path parent = context("onbuild-parent", """
                FROM busybox
                ONBUILD COPY hello.txt /hello.txt
                ONBUILD RUN echo "triggered $(cat /hello.txt)" > /trig
                """);
        ok("build", "-t", "onb:parent", parent.toString());
        JsonNode pc = JSON.readTree(Files.readString(fx.home.resolve("content/blobs/sha256").resolve(JSON.readTree(
                ok("image", "inspect", "onb:parent").out()).get(0).get("Id").asText().substring(7))));
        assertThat(pc.path("config").path("OnBuild").toString())
                .isEqualTo("[\"COPY hello.txt /hello.txt\",\"RUN echo \\\"triggered $(cat /hello.txt)\\\" > /trig\"]");
        Path child = context("onbuild-child", "FROM onb:parent\nRUN cat /trig > /seen\n");
        Files.writeString(child.resolve("hello.txt"), "child's");
        HullCommand.Result r = ok("build", "-t", "onb:child", child.toString());
        assertThat(r.out()).contains("--> ONBUILD COPY hello.txt /hello.txt\n", "--> ONBUILD RUN echo");
        assertThat(ok("run", "--rm", "onb:child", "cat", "/seen").out()).isEqualTo("triggered child's\n");
        JsonNode cc = JSON.readTree(Files.readString(fx.home.resolve("content/blobs/sha256").resolve(JSON.readTree(
                ok("image", "inspect", "onb:child").out()).get(0).get("Id").asText().substring(7))));
        assertThat(cc.path("config").has("OnBuild")).as("a grandchild runs no trigger").isFalse();
        // the triggers go through the cache like any step
        assertThat(ok("build", child.toString()).out().lines().filter(l -> l.startsWith("--> CACHED")).count())
                .isEqualTo(3);
        // --progress: plain is the default's lines, quiet is -q (tty: BuildProgressTtyTest)
        assertThat(ok("build", "--progress=plain", child.toString()).out()).contains("STEP 1/2: FROM onb:parent\n");
        assertThat(ok("build", "--progress", "quiet", child.toString()).out()).matches("sha256:[0-9a-f]{64}\n");
        nothingLeftBehind();
    }
}
