package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.SnapshotStore;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull build as a user types it, on the real kernel with the built-in busybox image: every
 * instruction's effect on the image's files and config, RUN as a container with whiteouts and
 * opaque directories in its layer, COPY/ADD rules, multi-stage, the cache and its invalidation,
 * deterministic digests, errors naming the line, and nothing left behind (containers, mounts,
 * temp files, temp snapshots) after success, failure or an interrupt.
 */
class BuildCommandsTest {
    static final ObjectMapper JSON = BuildFixture.JSON;
    static BuildFixture fx;
    static Path dir;
    static Path home;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-build-");
        dir = fx.dir;
        home = fx.home;
        hull = fx.hull;
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    static Path context(String name, String dockerfile) throws Exception {
        return fx.context(name, dockerfile);
    }

    static HullCommand.Result ok(HullCommand h, String... args) throws Exception {
        HullCommand.Result r = h.run(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    static HullCommand.Result ok(String... args) throws Exception {
        return ok(hull, args);
    }

    static JsonNode config(Path home, String image) throws Exception {
        JsonNode inspect = JSON.readTree(new HullCommand(home, dir.resolve("state"), Map.of("HULL_NO_SERVICE", "1"))
                .run("image", "inspect", image).out()).get(0);
        String id = inspect.get("Id").asText().substring(7);
        return JSON.readTree(home.resolve("content/blobs/sha256").resolve(id).toFile());
    }

    /** The entries of the image's top layer: "name type mode uid:gid". */
    static List<String> topLayer(String image) throws Exception {
        JsonNode inspect = JSON.readTree(hull.run("image", "inspect", image).out()).get(0);
        JsonNode layers = inspect.path("Hull").path("Layers");
        String digest = layers.get(layers.size() - 1).path("digest").asText().substring(7);
        List<String> out = new ArrayList<>();
        try (InputStream f = Files.newInputStream(home.resolve("content/blobs/sha256").resolve(digest));
                TarArchiveInputStream in = new TarArchiveInputStream(new GZIPInputStream(f))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                out.add(e.getName());
            }
        }
        return out;
    }

    static void nothingLeftBehind() throws Exception {
        fx.nothingLeftBehind();
    }

    @Test
    void everyMetadataInstructionLandsInTheConfigAndTheImageRuns() throws Exception {
        Path c = context("meta", """
                FROM busybox
                ENV A=1 B="two words"
                ENV LEGACY value with spaces
                LABEL org.example.x="y z" plain=1
                WORKDIR /srv
                WORKDIR app
                EXPOSE 8080 53/udp 9000-9001
                VOLUME ["/data", "/cache"]
                STOPSIGNAL SIGUSR1
                HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q localhost || exit 1
                SHELL ["/bin/sh", "-ec"]
                RUN echo "$A $B $LEGACY" > /srv/app/env.txt; pwd > /srv/app/pwd.txt
                USER nobody
                ENTRYPOINT ["/bin/sh", "-c"]
                CMD ["cat /srv/app/env.txt /srv/app/pwd.txt; id -u"]
                """);
        ok("build", "-t", "meta:1", "-t", "meta:2", "--label", "from.cli=yes", c.toString());
        JsonNode cfg = config(home, "meta:1");
        JsonNode cc = cfg.get("config");
        assertThat(cc.get("Env").toString()).contains("\"A=1\"", "\"B=two words\"", "\"LEGACY=value with spaces\"");
        assertThat(cc.get("Labels").get("org.example.x").asText()).isEqualTo("y z");
        assertThat(cc.get("Labels").get("plain").asText()).isEqualTo("1");
        assertThat(cc.get("Labels").get("from.cli").asText()).isEqualTo("yes");
        assertThat(cc.get("WorkingDir").asText()).isEqualTo("/srv/app");
        assertThat(cc.get("ExposedPorts").toString())
                .isEqualTo("{\"8080/tcp\":{},\"53/udp\":{},\"9000/tcp\":{},\"9001/tcp\":{}}");
        assertThat(cc.get("Volumes").toString()).isEqualTo("{\"/data\":{},\"/cache\":{}}");
        assertThat(cc.get("StopSignal").asText()).isEqualTo("SIGUSR1");
        assertThat(cc.get("Healthcheck").toString()).isEqualTo("{\"Test\":[\"CMD-SHELL\",\"wget -q localhost || exit 1\"],"
                + "\"Interval\":30000000000,\"Timeout\":5000000000,\"Retries\":3}");
        assertThat(cc.get("Shell").toString()).isEqualTo("[\"/bin/sh\",\"-ec\"]");
        assertThat(cc.get("User").asText()).isEqualTo("nobody");
        assertThat(cc.get("Entrypoint").toString()).isEqualTo("[\"/bin/sh\",\"-c\"]");
        assertThat(cc.get("Cmd").toString()).isEqualTo("[\"cat /srv/app/env.txt /srv/app/pwd.txt; id -u\"]");
        // history: the base's entry, then one per instruction; only RUN made a layer
        JsonNode history = cfg.get("history");
        assertThat(history).hasSize(15);
        assertThat(history.get(11).get("created_by").asText())
                .isEqualTo("RUN /bin/sh -ec echo \"$A $B $LEGACY\" > /srv/app/env.txt; pwd > /srv/app/pwd.txt");
        assertThat(history.get(11).has("empty_layer")).isFalse();
        assertThat(history.get(1).get("created_by").asText()).isEqualTo("ENV A=1 B=\"two words\"");
        int empty = 0;
        for (JsonNode h : history) {
            empty += h.path("empty_layer").asBoolean() ? 1 : 0;
        }
        assertThat(empty).isEqualTo(13);
        assertThat(cfg.get("rootfs").get("diff_ids")).hasSize(2);
        HullCommand.Result r = ok("run", "--rm", "meta:2");
        assertThat(r.out()).isEqualTo("1 two words value with spaces\n/srv/app\n65534\n");
        r = ok("history", "meta:1");
        assertThat(r.out().lines().toList()).hasSize(16);
        assertThat(r.out().lines().skip(1).findFirst().orElseThrow()).contains("CMD [\"cat /srv/app/env.txt");
        assertThat(r.out()).contains("<missing>", "ENV A=1 B=\"two words\"");
        r = ok("history", "--format", "json", "--no-trunc", "meta:1");
        assertThat(JSON.readTree(r.out().lines().toList().get(3)).get("CreatedBy").asText())
                .isEqualTo("RUN /bin/sh -ec echo \"$A $B $LEGACY\" > /srv/app/env.txt; pwd > /srv/app/pwd.txt");
        nothingLeftBehind();
    }

    @Test
    void runLayersRecordDeletionsAsWhiteoutsAndReplacedDirectoriesAsOpaque() throws Exception {
        Path c = context("run", """
                FROM busybox
                RUN mkdir -p /d/sub && echo old > /d/old && echo keep > /keep
                RUN ["/bin/sh", "-c", "rm -rf /d && mkdir /d && echo new > /d/new && rm /etc/group /keep"]
                """);
        ok("build", "-t", "run:1", c.toString());
        assertThat(topLayer("run:1")).containsExactly("d/", "d/.wh..wh..opq", "d/new", "etc/", "etc/.wh.group", ".wh.keep");
        HullCommand.Result r = ok("run", "--rm", "run:1", "sh", "-c", "ls /d; ls /etc; test -e /keep || echo gone");
        assertThat(r.out()).isEqualTo("new\nhostname\nhosts\npasswd\nresolv.conf\ngone\n");
        nothingLeftBehind();
    }

    @Test
    void copyAndAddFollowTheReferenceRules() throws Exception {
        Path c = context("copy", """
                FROM busybox
                COPY one.txt /tmp
                COPY one.txt /renamed.txt
                COPY src /app/
                COPY src/*.c src/*.h /glob/
                COPY --chown=nobody:nogroup --chmod=640 one.txt /owned/
                COPY --chown=1234 one.txt /num/
                COPY out.link /
                COPY ignored/ /ignored/
                ADD bundle.tar.gz /opt/
                ADD one.txt /added/
                RUN mkdir -p /usr/lib2 && ln -s usr/lib2 /lib2 && ln -s /usr/lib2 /abs2
                COPY one.txt /lib2/
                COPY src/main.c /abs2/sub/
                """);
        Files.writeString(c.resolve("one.txt"), "one\n");
        Files.createDirectories(c.resolve("src/lib"));
        Files.writeString(c.resolve("src/main.c"), "int main;\n");
        Files.writeString(c.resolve("src/main.h"), "h\n");
        Files.writeString(c.resolve("src/lib/x.c"), "x\n");
        Files.writeString(c.resolve("src/debug.log"), "log\n");
        Files.createSymbolicLink(c.resolve("out.link"), Path.of("/etc/shadow"));
        Files.createDirectories(c.resolve("ignored/deep"));
        Files.writeString(c.resolve("ignored/deep/no.txt"), "no\n");
        Files.writeString(c.resolve("ignored/yes.txt"), "yes\n");
        Files.writeString(c.resolve(".dockerignore"), "**/*.log\nignored\n!ignored/yes.txt\n");
        Path tar = c.resolve("bundle.tar.gz");
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(new GZIPOutputStream(Files.newOutputStream(tar)))) {
            TarArchiveEntry d = new TarArchiveEntry("./pkg/");
            d.setMode(040750);
            out.putArchiveEntry(d);
            out.closeArchiveEntry();
            byte[] data = "packed\n".getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry f = new TarArchiveEntry("./pkg/file");
            f.setMode(0100600);
            f.setIds(42, 43);
            f.setSize(data.length);
            out.putArchiveEntry(f);
            out.write(data);
            out.closeArchiveEntry();
        }
        ok("build", "-t", "copy:1", c.toString());
        HullCommand.Result r = ok("run", "--rm", "copy:1", "sh", "-c",
                "cd / && stat -c '%n %u:%g %a %F' tmp tmp/one.txt renamed.txt app app/main.c app/lib/x.c glob/main.c glob/main.h"
                        + " owned/one.txt num/one.txt opt/pkg opt/pkg/file added/one.txt ignored/yes.txt;"
                        + " readlink /out.link; ls /app; ls /glob; ls /ignored; cat /opt/pkg/file;"
                        + " readlink /lib2; readlink /abs2; ls /usr/lib2 /usr/lib2/sub");
        assertThat(r.out()).isEqualTo("""
                tmp 0:0 1777 directory
                tmp/one.txt 0:0 644 regular file
                renamed.txt 0:0 644 regular file
                app 0:0 755 directory
                app/main.c 0:0 644 regular file
                app/lib/x.c 0:0 644 regular file
                glob/main.c 0:0 644 regular file
                glob/main.h 0:0 644 regular file
                owned/one.txt 65534:65534 640 regular file
                num/one.txt 1234:1234 644 regular file
                opt/pkg 0:0 750 directory
                opt/pkg/file 42:43 600 regular file
                added/one.txt 0:0 644 regular file
                ignored/yes.txt 0:0 644 regular file
                /etc/shadow
                lib
                main.c
                main.h
                main.c
                main.h
                yes.txt
                packed
                usr/lib2
                /usr/lib2
                /usr/lib2:
                one.txt
                sub

                /usr/lib2/sub:
                main.c
                """);
        // what .dockerignore leaves out cannot be copied, and says so
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nCOPY src/debug.log /\n");
        r = hull.run("build", c.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("Dockerfile:2: COPY src/debug.log: src/debug.log: no such file or directory in the"
                + " build context (.dockerignore leaves it out)");
        nothingLeftBehind();
    }

    @Test
    void multiStageBuildsOnlyWhatTheTargetNeeds() throws Exception {
        Path c = context("stages", """
                ARG BASE=busybox
                ARG GREETING=hello
                FROM ${BASE} AS build
                ARG GREETING
                RUN echo "$GREETING from build" > /artifact
                FROM build AS test
                RUN cat /artifact > /tested
                FROM busybox AS broken
                RUN exit 9
                FROM scratch AS final
                COPY --from=build /artifact /artifact
                COPY --from=0 /bin/busybox /bin/busybox
                COPY --from=test /tested /
                CMD ["/bin/busybox", "cat", "/artifact", "/tested"]
                """);
        HullCommand.Result r = ok("build", "--target", "final", "--build-arg", "GREETING=hi", "-t", "stages",
                c.toString());
        assertThat(r.out()).doesNotContain("exit 9").contains("STEP 1/10: FROM ${BASE} AS build");
        assertThat(ok("run", "--rm", "stages").out()).isEqualTo("hi from build\nhi from build\n");
        assertThat(config(home, "stages").get("rootfs").get("diff_ids")).hasSize(3);
        r = ok("build", "--target", "build", "-q", c.toString());
        assertThat(r.out()).matches("sha256:[0-9a-f]{64}\n");
        r = hull.run("build", c.toString()); // the last stage is final: broken is not needed
        assertThat(r.exit()).as(r.toString()).isZero();
        r = hull.run("build", "--target", "broken", c.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("Dockerfile:9: RUN failed (step 2/2): the command '/bin/sh -c exit 9' returned a"
                + " non-zero code: 9");
        r = hull.run("build", "--target", "nope", c.toString());
        assertThat(r.err()).contains("--target nope: no stage has that name (stages: build, test, broken, final)");
        nothingLeftBehind();
    }

    @Test
    void theCacheReusesUnchangedStepsAndInvalidatesFromTheChangedCopyOn() throws Exception {
        Path c = context("cache", """
                FROM busybox
                ARG V=1
                RUN echo "v$V" > /v
                COPY a.txt /a.txt
                RUN cat /a.txt > /copy-a
                COPY b.txt /b.txt
                RUN cat /b.txt > /copy-b
                """);
        Files.writeString(c.resolve("a.txt"), "a\n");
        Files.writeString(c.resolve("b.txt"), "b\n");
        String first = ok("build", "-q", c.toString()).out();
        HullCommand.Result r = ok("build", c.toString());
        assertThat(r.out().lines().filter(l -> l.startsWith("--> CACHED")).count()).isEqualTo(5);
        assertThat(r.out()).contains("Successfully built " + first.substring(7, 19));
        // a touched file (same content) still hits; a changed one rebuilds from its COPY on
        Files.setLastModifiedTime(c.resolve("a.txt"), java.nio.file.attribute.FileTime.fromMillis(0));
        assertThat(ok("build", "-q", c.toString()).out()).isEqualTo(first);
        Files.writeString(c.resolve("b.txt"), "b2\n");
        r = ok("build", c.toString());
        List<String> lines = r.out().lines().toList();
        assertThat(lines.stream().filter(l -> l.startsWith("--> CACHED")).count()).isEqualTo(3);
        assertThat(lines.get(lines.indexOf("STEP 6/7: COPY b.txt /b.txt") + 1)).doesNotStartWith("--> CACHED");
        assertThat(ok("run", "--rm", r.out().lines().filter(l -> l.startsWith("Successfully built")).findFirst()
                .orElseThrow().substring(19), "cat", "/copy-b").out()).isEqualTo("b2\n");
        // a build arg in scope is part of the key
        r = ok("build", "--build-arg", "V=2", c.toString());
        assertThat(r.out().lines().filter(l -> l.startsWith("--> CACHED")).count()).isZero();
        // --no-cache uses none
        r = ok("build", "--no-cache", c.toString());
        assertThat(r.out()).doesNotContain("CACHED");
        nothingLeftBehind();
    }

    @Test
    void theSameInputsGiveTheSameDigestInCleanStores() throws Exception {
        Path c = context("det", """
                FROM busybox
                COPY f /f
                RUN echo made > /made && mkdir /dir && touch /dir/x
                """);
        Files.writeString(c.resolve("f"), "content\n");
        List<String> ids = new ArrayList<>();
        for (String name : List.of("det-a", "det-b")) {
            HullCommand h = new HullCommand(dir.resolve(name), dir.resolve("state"),
                    Map.of("HULL_NO_SERVICE", "1", "SOURCE_DATE_EPOCH", "1700000000"));
            ids.add(ok(h, "build", "-q", "--no-cache", c.toString()).out());
        }
        // (the second build's files are seconds newer than the first's: their mtimes are clamped away)
        assertThat(ids.get(1)).isEqualTo(ids.get(0));
        assertThat(config(dir.resolve("det-a"), ids.get(0).strip()).get("created").asText())
                .isEqualTo("2023-11-14T22:13:20Z");
    }

    @Test
    void badInputNamesTheLineAndLeavesNothing() throws Exception {
        Path c = context("bad", "");
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("FROM busybox\n\nRUNN echo\n", "Dockerfile:3: unknown instruction: RUNN");
        cases.put("# only a comment\nRUN echo\n", "Dockerfile:2: the first instruction must be FROM");
        cases.put("\n", "Dockerfile: no FROM instruction");
        cases.put("FROM busybox\nCOPY ../outside /x\n", "Dockerfile:2: COPY ../outside: the path is outside the build context");
        cases.put("FROM busybox\nCOPY missing /x\n", "Dockerfile:2: COPY missing: missing: no such file or directory");
        cases.put("FROM busybox\nCOPY git@github.com:hull/x.git /x\n", "Dockerfile:2: COPY git@github.com:hull/x.git: COPY"
                + " does not take git repositories (ADD clones them)");
        cases.put("FROM busybox\nCOPY http://127.0.0.1:1/x /x\n", "Dockerfile:2: COPY http://127.0.0.1:1/x: COPY does not take URLs");
        cases.put("FROM busybox\nENV A=1\nRUN echo last words; \\\n  exit 3\n",
                "Dockerfile:3: RUN failed (step 3/3): the command '/bin/sh -c echo last words;   exit 3' returned a non-zero code: 3");
        cases.put("FROM busybox\nRUN --mount=type=nfs,target=/x true\n", "Dockerfile:2: RUN --mount=type=nfs,target=/x: type nfs is not supported");
        cases.put("FROM busybox\nRUN <<EOF\necho never ends\n", "Dockerfile:2: the heredoc EOF has no end");
        for (var e : cases.entrySet()) {
            Files.writeString(c.resolve("Dockerfile"), e.getKey());
            HullCommand.Result r = hull.run("build", "-t", "bad", c.toString());
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).as(r.toString()).contains("hull: " + e.getValue());
        }
        // -q shows a failing RUN's output only with its error
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN echo last words; exit 4\n");
        HullCommand.Result r = hull.run("build", "-q", c.toString());
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("returned a non-zero code: 4\nlast words");
        assertThat(hull.run("images", "-q", "bad").out()).as("no image is made").isEmpty();
        nothingLeftBehind();
    }

    @Test
    void anInterruptedBuildLeavesNothingButCache() throws Exception {
        // A process started in the background of a non-interactive shell has SIGINT ignored, and so has
        // every child: hull build (a JVM) keeps that disposition and would not see the signal.
        String sigIgn = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("SigIgn:"))
                .findFirst().orElse("SigIgn: 0").substring(7).strip();
        org.junit.jupiter.api.Assumptions.assumeTrue((Long.parseUnsignedLong(sigIgn, 16) & 2) == 0,
                "SIGINT is ignored in this test's process (the suite was started in a shell's background), so"
                        + " hull build would ignore it too");
        Path c = context("int", "FROM busybox\nRUN echo ready > /r\nRUN echo started; sleep 77\n");
        Process p = hull.builder("build", c.toString()).redirectErrorStream(true).start();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        InputStream out = p.getInputStream();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!seen.toString(StandardCharsets.UTF_8).contains("started\n") && System.nanoTime() < deadline) {
            int b = out.read();
            if (b < 0) {
                break;
            }
            seen.write(b);
        }
        assertThat(seen.toString(StandardCharsets.UTF_8)).contains("started");
        new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("hull build ends on SIGINT").isTrue();
        assertThat(p.exitValue()).isNotZero();
        nothingLeftBehind();
        assertThat(new String(new ProcessBuilder("pgrep", "-f", "sleep 77").start().getInputStream().readAllBytes()))
                .as("the step's process").isEmpty();
        // the step before the interrupted one is cached
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN echo ready > /r\n");
        assertThat(ok("build", c.toString()).out()).contains("--> CACHED");
    }

    @Test
    void aDockerfileOrATarOnStdinAndTheIdFile() throws Exception {
        Path df = dir.resolve("stdin.Dockerfile");
        Files.writeString(df, "FROM busybox\nLABEL from=stdin\nCMD [\"echo\", \"from stdin\"]\n");
        HullCommand.Result r = hull.runWithInput(df, "build", "-t", "stdin:df", "-");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(ok("run", "--rm", "stdin:df").out()).isEqualTo("from stdin\n");
        // a tar context with its Dockerfile under another name
        Path ctx = context("tarctx", "");
        Files.delete(ctx.resolve("Dockerfile"));
        Files.writeString(ctx.resolve("Build.df"), "FROM busybox\nCOPY data.txt /\nCMD [\"cat\", \"/data.txt\"]\n");
        Files.writeString(ctx.resolve("data.txt"), "from the tar\n");
        Path tar = dir.resolve("ctx.tar");
        assertThat(new ProcessBuilder("tar", "-cf", tar.toString(), "-C", ctx.toString(), ".").start().waitFor()).isZero();
        Path iid = dir.resolve("iid");
        r = hull.runWithInput(tar, "build", "-f", "Build.df", "--iidfile", iid.toString(), "-t", "stdin:tar", "-");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(Files.readString(iid)).matches("sha256:[0-9a-f]{64}");
        assertThat(r.out()).contains("Successfully built " + Files.readString(iid).substring(7, 19),
                "Successfully tagged stdin:tar");
        assertThat(JSON.readTree(ok("image", "inspect", "stdin:tar").out()).get(0).get("Id").asText())
                .isEqualTo(Files.readString(iid));
        assertThat(ok("run", "--rm", "stdin:tar").out()).isEqualTo("from the tar\n");
        nothingLeftBehind();
    }
    @Test
    void aHostileContextTarOnStdinReadsNothingOfTheHost() throws Exception {
        // out -> a host directory; s is a hard link to out/secret: unpacked naively, the host file is read into
        // the context and COPY puts it in the image.
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "host secret\n");
        Path py = dir.resolve("mk.py");
        Files.writeString(py, """
                import io, sys, tarfile
                with tarfile.open(sys.argv[1], "w") as t:
                    df = b"FROM busybox\\nCOPY s /s\\n"
                    i = tarfile.TarInfo("Dockerfile"); i.size = len(df); t.addfile(i, io.BytesIO(df))
                    i = tarfile.TarInfo("out"); i.type = tarfile.SYMTYPE; i.linkname = sys.argv[2]; t.addfile(i)
                    i = tarfile.TarInfo("s"); i.type = tarfile.LNKTYPE; i.linkname = "out/secret"; t.addfile(i)
                """);
        Path tar = dir.resolve("hostile.tar");
        assertThat(new ProcessBuilder("python3", py.toString(), tar.toString(), outside.toString()).inheritIO().start()
                .waitFor()).isZero();
        HullCommand.Result r = hull.runWithInput(tar, "build", "-t", "hostile:1", "-");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("goes through a symlink (refused)");
        assertThat(hull.run("image", "inspect", "hostile:1").exit()).isNotZero();
        nothingLeftBehind();
    }
}
