package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.image.Platform;
import dev.hull.image.testing.RegistryServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull build --platform for another platform than this host's: stages that don't RUN (FROM
 * scratch, COPY, metadata) build for any, with the config's architecture and variant set (image
 * inspect shows them) and TARGETARCH its; FROM pulls the platform's manifest from a registry's
 * index; a RUN for a foreign CPU runs through binfmt_misc's emulator (qemu-user-static, registered
 * by the test under a name of its own) and without one fails saying binfmt_misc.
 */
class BuildPlatformTest {
    static final Path QEMU = Path.of("/usr/bin/qemu-aarch64-static");
    static final Path BINFMT = Path.of("/proc/sys/fs/binfmt_misc");
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-buildplat-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    private static String other() {
        return Platform.host().architecture().equals("arm64") ? "amd64" : "arm64";
    }

    @Test
    void stagesWithoutRunBuildForAnyPlatform() throws Exception {
        Path c = fx.context("norun", """
                FROM scratch AS files
                COPY data.txt /
                FROM scratch
                ARG TARGETPLATFORM
                ARG TARGETARCH
                ARG BUILDARCH
                COPY --from=files /data.txt /srv/
                LABEL target=$TARGETPLATFORM arch=$TARGETARCH build=$BUILDARCH
                CMD ["/srv/app"]
                """);
        Files.writeString(c.resolve("data.txt"), "data\n");
        fx.ok("build", "--platform", "linux/arm/v7", "-t", "plat:armv7", c.toString());
        JsonNode i = BuildFixture.JSON.readTree(fx.ok("image", "inspect", "plat:armv7").out()).get(0);
        assertThat(i.get("Architecture").asText()).isEqualTo("arm");
        assertThat(i.get("Variant").asText()).isEqualTo("v7");
        assertThat(i.get("Os").asText()).isEqualTo("linux");
        JsonNode cfg = fx.config("plat:armv7");
        assertThat(cfg.get("architecture").asText()).isEqualTo("arm");
        assertThat(cfg.get("variant").asText()).isEqualTo("v7");
        assertThat(cfg.at("/config/Labels/target").asText()).isEqualTo("linux/arm/v7");
        assertThat(cfg.at("/config/Labels/arch").asText()).isEqualTo("arm");
        assertThat(cfg.at("/config/Labels/build").asText()).isEqualTo(Platform.host().architecture());

        fx.ok("build", "--platform", "linux/" + other(), "-t", "plat:other", c.toString());
        assertThat(fx.config("plat:other").get("architecture").asText()).isEqualTo(other());
        assertThat(fx.config("plat:other").has("variant")).isFalse();

        Files.writeString(c.resolve("Dockerfile"), "FROM --platform=linux/s390x scratch\nCOPY data.txt /\n");
        fx.ok("build", "-t", "plat:s390x", c.toString());
        assertThat(fx.config("plat:s390x").get("architecture").asText()).as("FROM --platform=").isEqualTo("s390x");

        HullCommand.Result r = fx.hull.run("build", "--platform", "linux/amd64,linux/arm64", c.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("hull: --platform linux/amd64,linux/arm64: hull build makes one platform at a time");
        r = fx.hull.run("build", "--platform", "windows/amd64", c.toString());
        assertThat(r.err()).contains("hull: --platform windows/amd64: hull builds linux images only");
        fx.nothingLeftBehind();
    }

    @Test
    void fromPullsThePlatformsManifestFromAnIndex() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(fx.dir.resolve("registry")).start()) {
            String repo = registry.host() + "/hull-test/multi";
            Path c = fx.context("perarch", "FROM scratch\nARG TARGETARCH\nLABEL arch=$TARGETARCH\nCOPY data.txt /\n");
            Files.writeString(c.resolve("data.txt"), "data\n");
            String host = Platform.host().architecture();
            for (String arch : List.of(host, other())) {
                fx.ok("build", "--platform", "linux/" + arch, "-t", repo + ":" + arch, c.toString());
                fx.ok("push", "--tls-verify=false", repo + ":" + arch);
                fx.ok("rmi", repo + ":" + arch);
            }
            index(registry, "hull-test/multi", "both", List.of(host, other()));

            Path from = fx.context("from", "FROM " + repo + ":both\nLABEL built=yes\n");
            fx.ok("build", "--tls-verify=false", "--platform", "linux/" + other(), "-t", "from:other", from.toString());
            JsonNode cfg = fx.config("from:other");
            assertThat(cfg.get("architecture").asText()).isEqualTo(other());
            assertThat(cfg.at("/config/Labels/arch").asText()).as("the index's " + other() + " image").isEqualTo(other());
            assertThat(BuildFixture.JSON.readTree(fx.ok("image", "inspect", "from:other").out()).get(0)
                    .get("Architecture").asText()).isEqualTo(other());

            fx.ok("build", "--tls-verify=false", "-t", "from:host", from.toString());
            assertThat(fx.config("from:host").at("/config/Labels/arch").asText())
                    .as("the store has it for " + other() + ": this host's is pulled").isEqualTo(host);

            HullCommand.Result r = fx.hull.run("build", "--tls-verify=false", "--platform", "linux/s390x", from.toString());
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).contains("hull: Dockerfile:1: FROM " + repo + ":both: the image here is linux/" + host
                    + ", not linux/s390x; pulling it for linux/s390x failed");
        }
        fx.nothingLeftBehind();
    }

    /** Puts an OCI index at tag naming the manifests of tags arch (each linux/ARCH). */
    private static void index(RegistryServer registry, String name, String tag, List<String> archs) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        StringBuilder manifests = new StringBuilder();
        for (String arch : archs) {
            HttpResponse<byte[]> m = http.send(HttpRequest.newBuilder(URI.create(registry.url() + "/v2/" + name
                    + "/manifests/" + arch)).header("Accept", "application/vnd.oci.image.manifest.v1+json").build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(m.statusCode()).isEqualTo(200);
            String digest = m.headers().firstValue("Docker-Content-Digest").orElseThrow();
            manifests.append(manifests.isEmpty() ? "" : ",").append("{\"mediaType\":\"")
                    .append(m.headers().firstValue("Content-Type").orElseThrow()).append("\",\"digest\":\"").append(digest)
                    .append("\",\"size\":").append(m.body().length).append(",\"platform\":{\"architecture\":\"")
                    .append(arch).append("\",\"os\":\"linux\"}}");
        }
        String index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                + manifests + "]}";
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(registry.url() + "/v2/" + name
                + "/manifests/" + tag)).header("Content-Type", "application/vnd.oci.image.index.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofString(index)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    }

    /** Whether binfmt_misc has an enabled emulator with the F flag for arm64 executables (someone's). */
    private static boolean arm64Emulated() throws Exception {
        if (!Files.isRegularFile(BINFMT.resolve("status"))) {
            return false;
        }
        try (var s = Files.list(BINFMT)) {
            for (Path p : s.toList()) {
                if (List.of("register", "status").contains(p.getFileName().toString())) {
                    continue; // not entries (register cannot be read)
                }
                List<String> lines = Files.readAllLines(p);
                if (lines.contains("enabled") && lines.stream().anyMatch(l -> l.startsWith("flags:") && l.contains("F"))
                        && lines.stream().anyMatch(l -> l.startsWith("magic 7f454c46020101") && l.endsWith("b700"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * A static arm64 Linux executable that writes "hello from arm64" and exits 0: an ELF header,
     * one PT_LOAD segment, eight instructions and the message.
     */
    private static byte[] helloArm64() {
        byte[] msg = "hello from arm64\n".getBytes(StandardCharsets.US_ASCII);
        int[] code = {
            0xd2800020, // mov x0, #1
            0x100000e1, // adr x1, msg (28 bytes on)
            0xd2800002 | msg.length << 5, // mov x2, #len
            0xd2800808, // mov x8, #64 (write)
            0xd4000001, // svc #0
            0xd2800000, // mov x0, #0
            0xd2800ba8, // mov x8, #93 (exit)
            0xd4000001, // svc #0
        };
        int total = 64 + 56 + code.length * 4 + msg.length;
        long base = 0x400000;
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}).put(new byte[8]);
        b.putShort((short) 2).putShort((short) 183).putInt(1).putLong(base + 120).putLong(64).putLong(0).putInt(0);
        b.putShort((short) 64).putShort((short) 56).putShort((short) 1).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0);
        b.putInt(1).putInt(5).putLong(0).putLong(base).putLong(base).putLong(total).putLong(total).putLong(0x1000);
        for (int op : code) {
            b.putInt(op);
        }
        b.put(msg);
        return b.array();
    }

    @Test
    void runForAForeignCpuGoesThroughBinfmtMisc() throws Exception {
        Assumptions.assumeTrue(Platform.host().architecture().equals("amd64"), "the test's arm64 emulation is for amd64 hosts");
        Path c = fx.context("foreign", "FROM scratch\nCOPY --chmod=755 hello /hello\nRUN [\"/hello\"]\nCMD [\"/hello\"]\n");
        Files.write(c.resolve("hello"), helloArm64());
        if (!arm64Emulated()) {
            HullCommand.Result r = fx.hull.run("build", "--platform", "linux/arm64", "--no-cache", c.toString());
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).contains("hull: Dockerfile:3: RUN for linux/arm64 on this linux/amd64 host needs an"
                    + " emulator: ").contains("binfmt_misc");
        }
        Assumptions.assumeTrue(Files.isExecutable(QEMU), "qemu-user-static is not installed (./test installs it):"
                + " no emulator to run an arm64 RUN with");
        boolean mounted = false;
        String name = "hull-test-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            if (!Files.isRegularFile(BINFMT.resolve("status"))) {
                Process p = new ProcessBuilder("mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT.toString())
                        .inheritIO().start();
                Assumptions.assumeTrue(p.waitFor() == 0, "binfmt_misc cannot be mounted here");
                mounted = true;
            }
            Files.writeString(BINFMT.resolve("register"), ":" + name + ":M::"
                    + "\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:"
                    + "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:"
                    + QEMU + ":F");
            HullCommand.Result r = fx.ok("build", "--platform", "linux/arm64", "--no-cache", "-t", "foreign:1", c.toString());
            assertThat(r.out()).contains("STEP 3/4: RUN [\"/hello\"]\nhello from arm64\n");
            assertThat(fx.config("foreign:1").get("architecture").asText()).isEqualTo("arm64");
            assertThat(fx.ok("run", "--rm", "foreign:1").out()).as("and the image runs here too").isEqualTo("hello from arm64\n");
        } finally {
            if (Files.exists(BINFMT.resolve(name))) {
                Files.writeString(BINFMT.resolve(name), "-1");
            }
            if (mounted) {
                new ProcessBuilder("umount", BINFMT.toString()).inheritIO().start().waitFor();
            }
        }
        fx.nothingLeftBehind();
    }
}
