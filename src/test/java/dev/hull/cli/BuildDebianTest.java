package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real-world Dockerfile (issue 16's): a Debian 12 image from a root filesystem tarball
 * (mmdebstrap minbase from the host's apt mirror: {@code FROM scratch} + {@code ADD rootfs.tar /},
 * the tar auto-extracted), then Debian's own dpkg installing a package copied in (hello, fetched by
 * the host's apt-get download: a RUN step reaching the archive would depend on the network the
 * host gives containers), and the image run.
 */
class BuildDebianTest {
    static BuildFixture fx;
    static Path ctx;

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mmdebstrap")),
                "needs mmdebstrap (./test installs it) to make a Debian root filesystem");
        fx = new BuildFixture("hull-builddeb-");
        ctx = Files.createDirectories(fx.dir.resolve("ctx"));
        List<String> cmd = new ArrayList<>(List.of("mmdebstrap", "--mode=root", "--variant=minbase", "--format=tar",
                "--quiet"));
        String proxy = sh("apt-config shell P Acquire::http::Proxy | sed -n \"s/^P='\\(.*\\)'$/\\1/p\"").strip();
        if (!proxy.isEmpty()) {
            cmd.add("--aptopt=Acquire::http::Proxy \"" + proxy + "\"");
        }
        cmd.addAll(List.of("bookworm", ctx.resolve("rootfs.tar").toString(), "deb " + mirror() + " bookworm main"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(fx.dir.resolve("mmdebstrap.log")
                .toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        assertThat(p.waitFor(20, TimeUnit.MINUTES)).isTrue();
        Assumptions.assumeTrue(p.exitValue() == 0, "mmdebstrap could not reach the host's apt mirror: "
                + Files.readString(fx.dir.resolve("mmdebstrap.log")));
        Process d = new ProcessBuilder("apt-get", "download", "-q", "hello").directory(ctx.toFile())
                .redirectErrorStream(true).start();
        String log = new String(d.getInputStream().readAllBytes());
        Assumptions.assumeTrue(d.waitFor() == 0, "apt-get download hello: " + log);
        try (var s = Files.list(ctx)) {
            Path deb = s.filter(f -> f.getFileName().toString().matches("hello_.*\\.deb")).findFirst().orElseThrow();
            Files.move(deb, ctx.resolve("hello.deb"));
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (fx != null) {
            fx.close();
        }
    }

    static String sh(String line) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", line).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    /** The first Debian archive of the host's sources (not its security archive), else deb.debian.org. */
    static String mirror() throws Exception {
        for (String uri : sh("cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources"
                + " 2>/dev/null | sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\\+\\(\\[[^]]*\\][[:space:]]\\+\\)\\?"
                + "\\([^[:space:]]*\\).*/\\2/p'").split("\\s+")) {
            if (!uri.contains("security") && uri.matches("https?://.*") && uri.replaceAll("/+$", "").endsWith("debian")) {
                return uri.replaceAll("/+$", "");
            }
        }
        return "http://deb.debian.org/debian";
    }

    @Test
    void aDebianImageFromARootfsTarballInstallsAPackageAndRuns() throws Exception {
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM scratch
                ADD rootfs.tar /
                COPY hello.deb /tmp/
                RUN dpkg -i /tmp/hello.deb && rm /tmp/hello.deb && hello -g "installed by dpkg" > /greeting
                ENV LANG=C.UTF-8
                CMD ["hello", "-g", "built by hull"]
                """);
        HullCommand.Result r = fx.hull.run("build", "-t", "debian-hello:1", ctx.toString());
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.out()).contains("Setting up hello");
        assertThat(fx.ok("run", "--rm", "debian-hello:1").out()).isEqualTo("built by hull\n");
        assertThat(fx.ok("run", "--rm", "debian-hello:1", "sh", "-c",
                "cat /greeting; cut -d. -f1 /etc/debian_version; dpkg-query -W -f '${Status}\\n' hello; ls /tmp").out())
                .isEqualTo("installed by dpkg\n12\ninstall ok installed\n");
        var config = fx.config("debian-hello:1");
        assertThat(config.path("rootfs").path("diff_ids")).hasSize(3); // ADD, COPY, RUN
        List<String> history = new ArrayList<>();
        config.path("history").forEach(h -> history.add(h.path("created_by").asText()
                + (h.path("empty_layer").asBoolean() ? " (empty)" : "")));
        assertThat(history).hasSize(5);
        assertThat(history.get(0)).startsWith("ADD rootfs.tar /");
        assertThat(history.get(2)).startsWith("RUN /bin/sh -c dpkg -i");
        assertThat(history.get(4)).endsWith("(empty)").contains("CMD");
        // the RUN layer: the package's files, and the .deb COPY brought deleted by a whiteout
        assertThat(lastLayerNames("debian-hello:1"))
                .contains("usr/bin/hello", "tmp/.wh.hello.deb");
        fx.nothingLeftBehind();
    }

    /** The entries of the image's last layer. */
    static List<String> lastLayerNames(String image) throws Exception {
        var layers = BuildFixture.JSON.readTree(fx.ok("image", "inspect", image).out()).get(0).path("Hull").path("Layers");
        String digest = layers.get(layers.size() - 1).path("digest").asText();
        Path blob = fx.home.resolve("content/blobs/sha256").resolve(digest.substring(7));
        List<String> out = new ArrayList<>();
        try (var f = dev.hull.image.unpack.Compression.decompressAny(new java.io.BufferedInputStream(Files.newInputStream(blob)));
                var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(f)) {
            for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                out.add(e.getName());
            }
        }
        return out;
    }
}
