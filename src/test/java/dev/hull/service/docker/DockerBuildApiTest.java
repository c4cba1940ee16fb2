package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POST /build driven by the real docker CLI's classic builder (DOCKER_BUILDKIT=0, what docker
 * 28 uses without the buildx plugin) against a Hull service of this class's own; hostile context
 * tars through curl.
 */
class DockerBuildApiTest {
    @TempDir
    static Path tmp;
    static ApiService api;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(ApiService.DOCKER), "the docker CLI is not at " + ApiService.DOCKER);
        api = ApiService.start(Files.createDirectories(tmp.resolve("svc")));
        ok(api.hull("run", "--rm", "busybox", "true")); // the built-in busybox image, in the service's store
    }

    @AfterAll
    static void stop() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    static ApiService.Result build(Path cwd, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("env", "DOCKER_BUILDKIT=0", ApiService.DOCKER.toString(),
                "build"));
        cmd.addAll(List.of(args));
        return api.run(null, cmd, cwd);
    }

    static Path context(String name, String dockerfile) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("Dockerfile"), dockerfile);
        return dir;
    }

    @Test
    void dockerBuildRunsStepsStreamsTheirOutputAndTagsTheImage() throws Exception {
        Path ctx = context("ctx-basic", """
                FROM busybox
                ARG GREETING=unset
                RUN echo "run says $GREETING" && echo "$GREETING" > /greeting
                COPY hello.txt /hello.txt
                LABEL made.by=api-test
                CMD ["cat", "/greeting", "/hello.txt"]
                """);
        Files.writeString(ctx.resolve("hello.txt"), "hello from the context\n");
        ApiService.Result r = ok(build(ctx, "-t", "api-built:1", "--build-arg", "GREETING=hi", "--label", "extra=1", "."));
        assertThat(r.out()).contains("run says hi").contains("Successfully tagged api-built:1")
                .contains("Step 1/6 : FROM busybox\n", "Step 3/6 : RUN echo", " ---> "); // dockerd's words
        r = ok(build(ctx, "-t", "api-built:1", "--build-arg", "GREETING=hi", "--label", "extra=1", "."));
        assertThat(r.out()).contains("Step 3/6 : RUN echo", " ---> Using cache\n").doesNotContain("run says hi");
        assertThat(ok(api.docker("run", "--rm", "api-built:1")).out()).isEqualTo("hi\nhello from the context\n");
        assertThat(ok(api.docker("image", "inspect", "-f", "{{index .Config.Labels \"made.by\"}} {{index .Config.Labels \"extra\"}}",
                "api-built:1")).out().strip()).isEqualTo("api-test 1");
    }

    @Test
    void quietBuildPrintsTheIdAndTheIidfileHasIt() throws Exception {
        Path ctx = context("ctx-quiet", "FROM busybox\nRUN echo noisy > /n\n");
        Path iid = tmp.resolve("iid.txt");
        ApiService.Result r = ok(build(ctx, "-q", "--iidfile", iid.toString(), "-t", "api-quiet", "."));
        String id = ok(api.docker("image", "inspect", "-f", "{{.Id}}", "api-quiet")).out().strip();
        assertThat(id).startsWith("sha256:");
        assertThat(r.out().strip()).isEqualTo(id);
        assertThat(Files.readString(iid).strip()).isEqualTo(id);
    }

    @Test
    void aDockerfileOutsideTheContextIsSentAlong() throws Exception {
        Path ctx = context("ctx-outside", "FROM busybox\n"); // not this one
        Path other = tmp.resolve("Other.dockerfile");
        Files.writeString(other, "FROM busybox\nRUN echo other > /which\n");
        ok(build(ctx, "-f", other.toString(), "-t", "api-other", "."));
        assertThat(ok(api.docker("run", "--rm", "api-other", "cat", "/which")).out()).isEqualTo("other\n");
    }

    @Test
    void aFailingRunFailsTheBuildAndLeavesNoContainer() throws Exception {
        Path ctx = context("ctx-fail", "FROM busybox\nRUN echo before-failing; exit 3\n");
        String before = ok(api.docker("ps", "-aq")).out();
        ApiService.Result r = build(ctx, "-t", "api-fail", ".");
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.out()).contains("before-failing");
        assertThat(r.err()).contains("3");
        assertThat(ok(api.docker("ps", "-aq")).out()).isEqualTo(before);
        assertThat(api.docker("image", "inspect", "api-fail").exit()).isNotZero();
    }

    @Test
    void hostileContextTarsAreRefusedAndWriteNothingOutside() throws Exception {
        Path outside = tmp.resolve("outside");
        Files.createDirectories(outside);
        Files.writeString(outside.resolve("secret"), "host secret\n");
        // python's tarfile writes what a hostile client would send
        Path py = tmp.resolve("mk.py");
        Files.writeString(py, """
                import io, sys, tarfile
                def add(t, name, data=b"", **kw):
                    i = tarfile.TarInfo(name)
                    for k, v in kw.items():
                        setattr(i, k, v)
                    i.size = len(data) if i.type == tarfile.REGTYPE else 0
                    t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)
                with tarfile.open(sys.argv[1] + "/escape.tar", "w") as t:
                    add(t, "Dockerfile", b"FROM busybox\\n")
                    add(t, "../../escaped", b"x")
                with tarfile.open(sys.argv[1] + "/hardlink.tar", "w") as t:
                    add(t, "Dockerfile", b"FROM busybox\\nCOPY s /s\\n")
                    add(t, "out", type=tarfile.SYMTYPE, linkname=sys.argv[2])
                    add(t, "s", type=tarfile.LNKTYPE, linkname="out/secret")
                with tarfile.open(sys.argv[1] + "/through.tar", "w") as t:
                    add(t, "Dockerfile", b"FROM busybox\\n")
                    add(t, "out", type=tarfile.SYMTYPE, linkname=sys.argv[2])
                    add(t, "out/planted", b"x")
                """);
        ok(api.run(null, List.of("python3", py.toString(), tmp.toString(), outside.toString())));
        for (String t : List.of("escape", "hardlink", "through")) {
            ApiService.Result r = api.curl("-X", "POST", "-H", "Content-Type: application/x-tar", "--data-binary",
                    "@" + tmp.resolve(t + ".tar"), "http://d/v1.43/build?t=api-hostile-" + t);
            assertThat(r.out()).as(t).startsWith("HTTP/1.1 400");
            assertThat(ApiService.body(r)).as(t).containsAnyOf("leaves the context", "goes through a symlink");
            assertThat(api.docker("image", "inspect", "api-hostile-" + t).exit()).as(t).isNotZero();
        }
        assertThat(tmp.resolve("escaped")).doesNotExist();
        assertThat(tmp.resolve("svc").resolve("escaped")).doesNotExist();
        assertThat(outside.resolve("planted")).doesNotExist();
        try (var s = Files.list(outside)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("secret");
        }
    }

    @Test
    void buildKitAndRemoteContextsGetAClearError() throws Exception {
        ApiService.Result r = api.curl("-X", "POST", "http://d/v1.43/build?version=2");
        assertThat(r.out()).startsWith("HTTP/1.1 400");
        assertThat(ApiService.body(r)).contains("DOCKER_BUILDKIT=0");
        r = api.curl("-X", "POST", "http://d/v1.43/build?remote=https://example.com/context.tar");
        assertThat(r.out()).startsWith("HTTP/1.1 400");
        assertThat(ApiService.body(r)).contains("remote build contexts other than git repositories");
    }

    @Test
    void dockerBuildPlatformBuildsForThatPlatform() throws Exception {
        String other = dev.hull.image.Platform.host().architecture().equals("arm64") ? "amd64" : "arm64";
        Path ctx = context("ctx-platform", "FROM scratch\nARG TARGETARCH\nCOPY data.txt /\nLABEL arch=$TARGETARCH\n");
        Files.writeString(ctx.resolve("data.txt"), "data\n");
        ok(build(ctx, "--platform", "linux/" + other, "-t", "api-plat:other", "."));
        assertThat(ok(api.docker("image", "inspect", "-f", "{{.Os}}/{{.Architecture}} {{index .Config.Labels \"arch\"}}",
                "api-plat:other")).out().strip()).isEqualTo("linux/" + other + " " + other);
        ok(build(ctx, "--platform", "linux/arm/v7", "-t", "api-plat:armv7", "."));
        assertThat(ok(api.docker("image", "inspect", "-f", "{{.Architecture}}/{{.Variant}}", "api-plat:armv7")).out()
                .strip()).isEqualTo("arm/v7");
        ApiService.Result r = build(ctx, "--platform", "windows/amd64", "-t", "api-plat:win", ".");
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.err()).contains("hull builds linux images only");
        api.docker("rmi", "api-plat:other", "api-plat:armv7");
    }

    @Test
    void dockerBuildPullTakesFromAndCopyFromImagesFromTheRegistryAgain() throws Exception {
        try (var registry = dev.hull.image.testing.RegistryServer.builder(tmp.resolve("registry-pull")).start()) {
            String base = registry.host() + "/api-pull/base:1";
            String files = registry.host() + "/api-pull/files:1";
            Path v = context("ctx-pull-files", "FROM busybox\nARG V\nRUN echo $V > /marker\n");
            ok(build(v, "--build-arg", "V=v1", "-t", base, "."));
            ok(api.hull("push", "--tls-verify=false", base));
            ok(api.hull("push", "--tls-verify=false", base, files));
            Path ctx = context("ctx-pull", "FROM " + base + "\nCOPY --from=" + files + " /marker /copied\n"
                    + "RUN cat /marker /copied > /seen\nCMD [\"cat\", \"/seen\"]\n");
            ok(build(ctx, "-t", "api-pull:1", "."));
            assertThat(ok(api.docker("run", "--rm", "api-pull:1")).out()).isEqualTo("v1\nv1\n");

            ok(build(v, "--build-arg", "V=v2", "-t", base, "."));
            ok(api.hull("push", "--tls-verify=false", base));
            ok(api.hull("push", "--tls-verify=false", base, files));
            ok(build(v, "--build-arg", "V=v1", "-t", base, ".")); // the store's names: v1 again
            ok(api.hull("tag", base, files));
            ok(build(ctx, "-t", "api-pull:2", "."));
            assertThat(ok(api.docker("run", "--rm", "api-pull:2")).out()).as("without --pull: the stored images")
                    .isEqualTo("v1\nv1\n");
            ok(build(ctx, "--pull", "-t", "api-pull:3", "."));
            assertThat(ok(api.docker("run", "--rm", "api-pull:3")).out()).as("--pull: the registry's")
                    .isEqualTo("v2\nv2\n");
            api.docker("rmi", "api-pull:1", "api-pull:2", "api-pull:3", base, files);
        }
    }

    @Test
    void aGitRepositoryAsTheRemoteContext() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.hull.build.testing.GitServer.available(),
                "git is not installed (./test installs it)");
        try (var git = new dev.hull.build.testing.GitServer(Files.createDirectories(tmp.resolve("git")))) {
            String remote = java.net.URLEncoder.encode(git.url + "#v1:app", java.nio.charset.StandardCharsets.UTF_8);
            ApiService.Result r = api.curl("-X", "POST", "http://d/v1.43/build?t=apigit:1&remote=" + remote);
            assertThat(r.out()).as(r.toString()).startsWith("HTTP/1.1 200").contains("Successfully tagged apigit:1");
            assertThat(ok(api.hull("run", "--rm", "apigit:1")).out()).isEqualTo("one\n");
            r = api.curl("-X", "POST", "http://d/v1.43/build?remote="
                    + java.net.URLEncoder.encode(git.url + "#nope", java.nio.charset.StandardCharsets.UTF_8));
            assertThat(r.out()).startsWith("HTTP/1.1 400");
            assertThat(ApiService.body(r)).contains("git could not fetch it");
            api.hull("rmi", "apigit:1");
        }
    }

    @Test
    void builderPruneEmptiesTheBuildCache() throws Exception {
        // the step prints ran-2 when it runs (the text of the step, shown either way, has no ran-2)
        Path ctx = context("ctx-prune", "FROM busybox\nRUN echo ran-$((1+1)) && echo cached > /c\n");
        assertThat(ok(build(ctx, "-t", "api-prune:1", ".")).out()).contains("ran-2");
        assertThat(ok(build(ctx, "-t", "api-prune:1", ".")).out()).as("the step is cached").doesNotContain("ran-2");
        ApiService.Result pruned = ok(api.docker("builder", "prune", "-f"));
        assertThat(pruned.out()).contains("Total reclaimed space:");
        assertThat(ok(build(ctx, "-t", "api-prune:1", ".")).out()).as("the cache is gone").contains("ran-2");
        // until and keep-storage: what was used in the last day stays, and so does a cache under 1 GiB
        ok(api.docker("builder", "prune", "-f", "--filter", "until=24h"));
        ok(api.docker("builder", "prune", "-f", "--keep-storage", "1g"));
        assertThat(ok(build(ctx, "-t", "api-prune:1", ".")).out()).as("still cached").doesNotContain("ran-2");
        age(Duration.ofHours(48));
        ok(api.docker("builder", "prune", "-f", "--filter", "until=24h"));
        assertThat(ok(build(ctx, "-t", "api-prune:1", ".")).out()).as("older than a day: gone").contains("ran-2");
        // the same through hull's CLI
        ok(api.hull("builder", "prune", "--filter", "until=24h", "--keep-storage", "1g"));
        assertThat(ok(build(ctx, "-t", "api-prune:1", ".")).out()).as("still cached").doesNotContain("ran-2");
        age(Duration.ofHours(48));
        ok(api.hull("builder", "prune", "--filter", "until=72h"));
        assertThat(ok(build(ctx, "-t", "api-prune:1", ".")).out()).as("used since 72h ago").doesNotContain("ran-2");
        age(Duration.ofHours(48));
        ok(api.hull("builder", "prune", "--filter", "until=24h"));
        assertThat(ok(build(ctx, "-t", "api-prune:1", ".")).out()).as("older than a day: gone").contains("ran-2");
        ApiService.Result bad = api.docker("builder", "prune", "-f", "--filter", "type=regular");
        assertThat(bad.exit()).as("%s", bad).isNotZero();
        assertThat(bad.err()).contains("filter type is not supported by Hull's build cache prune");
        ApiService.Result badHull = api.hull("builder", "prune", "--filter", "until=soon");
        assertThat(badHull.exit()).as("%s", badHull).isEqualTo(125);
        assertThat(badHull.err()).contains("until soon: use a duration");
    }

    /** Every build cache entry of this class's service last used d ago. */
    private static void age(Duration d) throws IOException {
        try (var entries = Files.list(tmp.resolve("svc/home/build/cache"))) {
            for (Path p : entries.toList()) {
                Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(d)));
            }
        }
    }
}
