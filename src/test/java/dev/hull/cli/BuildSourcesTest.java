package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.hull.build.testing.GitServer;
import dev.hull.image.Platform;
import dev.hull.image.testing.RegistryServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Where hull build's inputs come from: --pull takes a FROM image from its registry again (a
 * registry of the test's whose tag moved); FROM --platform=$BUILDPLATFORM runs on this host for
 * another --platform (ARG TARGETARCH says which; BuildPlatformTest has the rest); ADD of an http URL downloads
 * it from a server of the test's (mode 0600, cached by content) and an unreachable or failing
 * URL is a clear error.
 */
class BuildSourcesTest {
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-buildsrc-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    @Test
    void pullTakesTheBaseFromTheRegistryAgain() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(fx.dir.resolve("registry")).start()) {
            String base = registry.host() + "/hull-test/base:1";
            fx.ok("push", "--tls-verify=false", "busybox", base);
            Path c = fx.context("pull", "FROM " + base + "\nRUN cat /marker 2>/dev/null > /seen || echo none > /seen\n");
            fx.ok("build", "--tls-verify=false", "-t", "pulled:1", c.toString());
            assertThat(fx.ok("run", "--rm", "pulled:1", "cat", "/seen").out()).isEqualTo("none\n");

            Path m = fx.context("marker", "FROM busybox\nRUN echo v2 > /marker\n");
            fx.ok("build", "-t", "marker:1", m.toString());
            fx.ok("push", "--tls-verify=false", "marker:1", base);
            fx.ok("rmi", "marker:1");
            fx.ok("build", "--tls-verify=false", "-t", "pulled:2", c.toString());
            assertThat(fx.ok("run", "--rm", "pulled:2", "cat", "/seen").out()).as("without --pull: the stored base")
                    .isEqualTo("none\n");
            fx.ok("build", "--pull", "--tls-verify=false", "-t", "pulled:3", c.toString());
            assertThat(fx.ok("run", "--rm", "pulled:3", "cat", "/seen").out()).isEqualTo("v2\n");

            HullCommand.Result r = fx.hull.run("build", "--pull", "--tls-verify=false", "-t", "pulled:4",
                    fx.context("gone", "FROM " + registry.host() + "/hull-test/nothing:1\n").toString());
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).contains("hull: Dockerfile:1: FROM " + registry.host() + "/hull-test/nothing:1 (--pull)");
        }
    }

    @Test
    void pullTakesACopyFromImageFromTheRegistryAgain() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(fx.dir.resolve("registry-from")).start()) {
            String src = registry.host() + "/hull-test/files:1";
            String base = registry.host() + "/hull-test/bb:1"; // --pull pulls FROM too: busybox from here
            fx.ok("push", "--tls-verify=false", "busybox", base);
            Path v1 = fx.context("files-v1", "FROM scratch\nCOPY marker /files/marker\n");
            Files.writeString(v1.resolve("marker"), "v1\n");
            fx.ok("build", "-t", "files:v1", v1.toString());
            fx.ok("push", "--tls-verify=false", "files:v1", src);
            Path c = fx.context("copyfrom", "FROM " + base + "\nCOPY --from=" + src + " /files/marker /copied\n"
                    + "RUN --mount=type=bind,from=" + src + ",target=/m cat /m/files/marker > /mounted\n");
            fx.ok("build", "--tls-verify=false", "-t", "copyfrom:1", c.toString());
            assertThat(fx.ok("run", "--rm", "copyfrom:1", "cat", "/copied", "/mounted").out()).isEqualTo("v1\nv1\n");

            Path v2 = fx.context("files-v2", "FROM scratch\nCOPY marker /files/marker\n");
            Files.writeString(v2.resolve("marker"), "v2\n");
            fx.ok("build", "-t", "files:v2", v2.toString());
            fx.ok("push", "--tls-verify=false", "files:v2", src); // the tag moved in the registry
            fx.ok("rmi", "files:v2");
            fx.ok("build", "--tls-verify=false", "-t", "copyfrom:2", c.toString());
            assertThat(fx.ok("run", "--rm", "copyfrom:2", "cat", "/copied", "/mounted").out())
                    .as("without --pull: the stored image").isEqualTo("v1\nv1\n");
            fx.ok("build", "--pull", "--tls-verify=false", "-t", "copyfrom:3", c.toString());
            assertThat(fx.ok("run", "--rm", "copyfrom:3", "cat", "/copied", "/mounted").out())
                    .as("--pull: COPY --from and RUN --mount from= take the registry's image").isEqualTo("v2\nv2\n");

            HullCommand.Result r = fx.hull.run("build", "--pull", "--tls-verify=false", fx.context("from-gone",
                    "FROM " + base + "\nCOPY --from=" + registry.host() + "/hull-test/nothing:1 /x /x\n").toString());
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).contains("hull: Dockerfile:2: COPY --from=" + registry.host()
                    + "/hull-test/nothing:1 (--pull): no stage has that name, and pulling the image failed");
            fx.ok("rmi", "files:v1", src, "copyfrom:1", "copyfrom:2", "copyfrom:3", base);
        }
        fx.nothingLeftBehind();
    }

    @Test
    void buildPlatformStagesRunForAnother() throws Exception {
        String host = Platform.host().toString();
        String other = host.equals("linux/s390x") ? "linux/amd64" : "linux/s390x";
        Path c = fx.context("platform", """
                FROM --platform=$BUILDPLATFORM busybox
                ARG TARGETARCH
                RUN echo "$TARGETARCH" > /arch
                """);
        fx.ok("build", "--platform", host, "-t", "plat:1", c.toString());
        assertThat(fx.ok("run", "--rm", "plat:1", "cat", "/arch").out()).isEqualTo(Platform.host().architecture() + "\n");

        fx.ok("build", "--platform", other, "-t", "plat:2", c.toString());
        assertThat(fx.ok("run", "--rm", "plat:2", "cat", "/arch").out()).as("a stage on $BUILDPLATFORM runs here,"
                + " for the target").isEqualTo(other.substring(other.indexOf('/') + 1) + "\n");
        assertThat(fx.config("plat:2").get("architecture").asText()).isEqualTo(Platform.host().architecture());
        fx.nothingLeftBehind();
    }

    @Test
    void gitRepositoriesAsContextAndAsAddSource() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(GitServer.available(), "git is not installed (./test installs it)");
        try (GitServer git = new GitServer(fx.dir)) {
            String repo = git.url;
            String first = git.first;
            fx.ok("build", "-t", "gitctx:v1", repo + "#v1:app");
            assertThat(fx.ok("run", "--rm", "gitctx:v1").out()).isEqualTo("one\n");
            fx.ok("build", "-t", "gitctx:head", repo + "#:app");
            assertThat(fx.ok("run", "--rm", "gitctx:head").out()).isEqualTo("two\n");
            fx.ok("build", "-t", "gitctx:sha", repo + "#" + first + ":app");
            assertThat(fx.ok("run", "--rm", "gitctx:sha").out()).as("a commit id as the ref").isEqualTo("one\n");

            Path c = fx.context("gitadd", "FROM busybox\nADD " + repo + "#v1 /src\n");
            fx.ok("build", "-t", "gitadd:1", c.toString());
            assertThat(fx.ok("run", "--rm", "gitadd:1", "sh", "-c", "cat /src/app/version; ls -a /src").out())
                    .as("the repository's files at v1, without .git").isEqualTo("one\n.\n..\napp\n");

            HullCommand.Result r = fx.hull.run("build", repo + "#no-such-ref:app");
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).startsWith("hull: context " + repo + "#no-such-ref:app: git could not fetch it");
            r = fx.hull.run("build", repo + "#v1:../..");
            assertThat(r.err()).contains("../.. is not a directory in the repository");
            Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nCOPY " + repo + " /src\n");
            r = fx.hull.run("build", c.toString());
            assertThat(r.err()).contains("COPY " + repo + ": COPY does not take git repositories (ADD clones them)");
        }
        fx.nothingLeftBehind();
    }

    @Test
    void addDownloadsAUrl() throws Exception {
        AtomicReference<String> body = new AtomicReference<>("first version\n");
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/files/", x -> {
            byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
            boolean found = x.getRequestURI().getPath().equals("/files/hello.txt");
            x.getResponseHeaders().add("Last-Modified", "Tue, 15 Nov 1994 08:12:31 GMT");
            x.sendResponseHeaders(found ? 200 : 404, found ? b.length : -1);
            if (found) {
                x.getResponseBody().write(b);
            }
            x.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/files/";
            Path c = fx.context("url", "FROM busybox\nADD " + url + "hello.txt /got/\nADD " + url + "hello.txt /named\n");
            fx.ok("build", "-t", "url:1", c.toString());
            assertThat(fx.ok("run", "--rm", "url:1", "sh", "-c",
                    "cat /got/hello.txt /named; stat -c '%a %Y' /got/hello.txt").out())
                    .isEqualTo("first version\nfirst version\n600 784887151\n");
            assertThat(fx.ok("build", "-t", "url:1", c.toString()).out().lines()
                    .filter(l -> l.startsWith("--> CACHED")).count()).isEqualTo(2);
            body.set("second version\n");
            HullCommand.Result r = fx.ok("build", "-t", "url:2", c.toString());
            assertThat(r.out()).doesNotContain("CACHED");
            assertThat(fx.ok("run", "--rm", "url:2", "cat", "/named").out()).isEqualTo("second version\n");

            Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nADD " + url + "missing /x\n");
            r = fx.hull.run("build", c.toString());
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).contains("hull: Dockerfile:2: ADD " + url + "missing: the server answered HTTP 404");

            // ADD --checksum: the download must have that digest
            String good = "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest("second version\n".getBytes(StandardCharsets.UTF_8)));
            Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nADD --checksum=" + good + " " + url
                    + "hello.txt /checked\n");
            fx.ok("build", "-t", "url:3", c.toString());
            assertThat(fx.ok("run", "--rm", "url:3", "cat", "/checked").out()).isEqualTo("second version\n");
            body.set("tampered\n");
            r = fx.hull.run("build", "-t", "url:4", c.toString());
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).contains("hull: Dockerfile:2: ADD " + url + "hello.txt: checksum mismatch: --checksum says "
                    + good + ", the download is sha256:");
            Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nCOPY --checksum=" + good + " Dockerfile /x\n");
            r = fx.hull.run("build", c.toString());
            assertThat(r.err()).contains("hull: Dockerfile:2: COPY has no flag --checksum");
            Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nADD --checksum=" + good + " Dockerfile /x\n");
            r = fx.hull.run("build", c.toString());
            assertThat(r.err()).contains("hull: Dockerfile:2: ADD --checksum takes one http(s) source");
            Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nADD --checksum=md5:abc " + url + "hello.txt /x\n");
            r = fx.hull.run("build", c.toString());
            assertThat(r.err()).contains("hull: Dockerfile:2: ADD --checksum=md5:abc: use sha256: and 64 lowercase hex");
        } finally {
            server.stop(0);
        }
        Path c = fx.context("nourl", "FROM busybox\nADD http://127.0.0.1:1/x.tar /x\n");
        HullCommand.Result r = fx.hull.run("build", c.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("hull: Dockerfile:2: ADD http://127.0.0.1:1/x.tar: cannot download it");
        fx.nothingLeftBehind();
    }

    /** The image's layer digests, lowest first. */
    static java.util.List<String> layers(String image) throws Exception {
        java.util.List<String> out = new java.util.ArrayList<>();
        BuildFixture.JSON.readTree(fx.ok("image", "inspect", image).out()).get(0).path("Hull").path("Layers")
                .forEach(l -> out.add(l.path("digest").asText()));
        return out;
    }

    @Test
    void copyLinkFollowsNoImageSymlinkAndItsLayerServesAnyParent() throws Exception {
        String dockerfile = """
                FROM busybox
                RUN mkdir /srv /srv2 && ln -s /srv /data && ln -s /srv2 /data2 && echo %s > /which
                COPY --link x.txt /data/
                COPY x.txt /data2/
                """;
        Path c = fx.context("link", dockerfile.formatted("one"));
        Files.writeString(c.resolve("x.txt"), "linked\n");
        Files.setLastModifiedTime(c.resolve("x.txt"), java.nio.file.attribute.FileTime.fromMillis(1_000_000_000_000L));
        fx.ok("build", "-t", "link:1", c.toString());
        assertThat(fx.ok("run", "--rm", "link:1", "sh", "-c",
                "ls /srv; echo -; ls /srv2; cat /data/x.txt; [ -L /data ] && echo link || echo dir; [ -L /data2 ] && echo link2")
                .out()).isEqualTo("-\nx.txt\nlinked\ndir\nlink2\n");

        Files.writeString(c.resolve("Dockerfile"), dockerfile.formatted("two"));
        Files.setLastModifiedTime(c.resolve("x.txt"), java.nio.file.attribute.FileTime.fromMillis(1_500_000_000_000L));
        HullCommand.Result r = fx.ok("build", "-t", "link:2", c.toString());
        java.util.List<String> one = layers("link:1");
        java.util.List<String> two = layers("link:2");
        assertThat(two.get(two.size() - 3)).as("the RUN's layer").isNotEqualTo(one.get(one.size() - 3));
        assertThat(two.get(two.size() - 1)).as("plain COPY: made again, with the file's new mtime")
                .isNotEqualTo(one.get(one.size() - 1));
        assertThat(two.get(two.size() - 2)).as("COPY --link: the layer made on the first parent, " + r.out())
                .isEqualTo(one.get(one.size() - 2));
        fx.nothingLeftBehind();
    }
}
