package dev.hull.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.image.Descriptor;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import dev.hull.image.testing.FaultProxy;
import dev.hull.image.testing.RegistryServer;
import dev.hull.image.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Transport behaviour: TLS, resumed downloads, retries, mirrors, challenge parsing, credentials files. */
class RegistryClientTest {
    @TempDir
    Path tmp;

    private static RegistryOptions.Builder options() {
        return RegistryOptions.builder().retryDelay(Duration.ofMillis(20)).certsDirs(List.of());
    }

    private TestImages.Image pushed(RegistryServer registry, Reference ref, int layerBytes) throws Exception {
        ImageStore source = new ImageStore(tmp.resolve("source-" + ref.repository().replace('/', '_')));
        TestImages.Image img = TestImages.build(source.content(), Platform.LINUX_AMD64, layerBytes, layerBytes);
        try (RegistryClient c = new RegistryClient(options().insecure(registry.host()).build())) {
            new Pusher(c, source).push(img.record(), ref, null);
        }
        return img;
    }

    @Test
    void selfSignedTlsNeedsTheCaOrInsecure() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).tls().start()) {
            Reference ref = Reference.parse(registry.host() + "/tls/app:1");
            TestImages.Image img = pushed(registry, ref, 5_000); // insecure: unverified TLS works

            try (RegistryClient strict = new RegistryClient(options().build())) {
                assertThatThrownBy(() -> strict.fetchManifest(ref)).isInstanceOf(RegistryException.class)
                        .hasMessageContaining("TLS").hasMessageContaining("certificate")
                        .hasMessageContaining("certs.d/" + registry.host()).hasMessageContaining("--tls-verify=false");
            }
            Path certs = tmp.resolve("certs.d");
            Files.createDirectories(certs.resolve(registry.host()));
            Files.copy(registry.caCertificate(), certs.resolve(registry.host()).resolve("ca.crt"));
            try (RegistryClient withCa = new RegistryClient(options().certsDir(certs).build())) {
                ImageRecord r = new Puller(withCa, new ImageStore(tmp.resolve("dest"))).pull(ref, null, null);
                assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
            }
        }
    }

    @Test
    void plainHttpIsOnlyUsedForInsecureRegistries() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start()) {
            Reference ref = Reference.parse(registry.host() + "/plain:1");
            pushed(registry, ref, 1_000);
            try (RegistryClient strict = new RegistryClient(options().build())) {
                assertThatThrownBy(() -> strict.fetchManifest(ref)).hasMessageContaining(registry.host())
                        .hasMessageContaining("TLS");
            }
        }
    }

    @Test
    void anInterruptedDownloadResumesWithRange() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).relativeUrls().start();
                FaultProxy proxy = FaultProxy.start(registry.url())) {
            Reference direct = Reference.parse(registry.host() + "/resume:1");
            TestImages.Image img = pushed(registry, direct, 300_000);
            Reference ref = Reference.parse(proxy.host() + "/resume:1");
            Descriptor big = img.layers().get(2); // the uncompressed one: ~300 kB
            proxy.cutNext(100_000, "/blobs/" + big.digest());
            ImageStore dest = new ImageStore(tmp.resolve("dest"));
            // no retries: the first pull fails with a partial download left behind
            try (RegistryClient once = new RegistryClient(options().insecure(proxy.host()).retries(0).build())) {
                assertThatThrownBy(() -> new Puller(once, dest).pull(ref, null, null))
                        .hasMessageContaining(big.digest());
            }
            Path partial = dest.content().root().resolve("ingest/sha256-" + big.parsedDigest().hex());
            // the proxy sent 100 000 bytes before cutting; the client keeps what reached it (the JDK's HTTP
            // client may drop its last buffer when the connection breaks)
            long have = Files.size(partial);
            assertThat(have).isPositive().isLessThanOrEqualTo(100_000);
            assertThat(dest.read().images).isEmpty();
            proxy.clear();
            try (RegistryClient client = new RegistryClient(options().insecure(proxy.host()).build())) {
                ImageRecord r = new Puller(client, dest).pull(ref, null, null);
                assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
            }
            List<FaultProxy.Seen> gets = proxy.seen().stream()
                    .filter(s -> s.method().equals("GET") && s.path().endsWith(big.digest())).toList();
            assertThat(gets).hasSize(1);
            assertThat(gets.getFirst().range()).isEqualTo("bytes=" + have + "-");
            assertThat(gets.getFirst().status()).isEqualTo(206);
            assertThat(dest.content().verify(big.parsedDigest())).isTrue();
        }
    }

    @Test
    void aCutConnectionIsRetriedWithinOnePull() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).relativeUrls().start();
                FaultProxy proxy = FaultProxy.start(registry.url())) {
            TestImages.Image img = pushed(registry, Reference.parse(registry.host() + "/cut:1"), 200_000);
            Descriptor big = img.layers().get(2);
            proxy.cutNext(50_000, "/blobs/" + big.digest());
            try (RegistryClient client = new RegistryClient(options().insecure(proxy.host()).build())) {
                ImageRecord r = new Puller(client, new ImageStore(tmp.resolve("dest")))
                        .pull(Reference.parse(proxy.host() + "/cut:1"), null, null);
                assertThat(r.layers()).isEqualTo(img.layers());
            }
            // resumed from what had reached the disk when the proxy cut at 50000 bytes (a little less if
            // the last read was still in a buffer)
            assertThat(proxy.seen()).anyMatch(s -> s.path().endsWith(big.digest()) && s.range() != null
                    && s.range().matches("bytes=\\d+-") && Long.parseLong(s.range().replaceAll("\\D", "")) > 0
                    && Long.parseLong(s.range().replaceAll("\\D", "")) <= 50_000);
        }
    }

    @Test
    void serviceUnavailableIsRetried() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).relativeUrls().start();
                FaultProxy proxy = FaultProxy.start(registry.url())) {
            TestImages.Image img = pushed(registry, Reference.parse(registry.host() + "/flaky:1"), 2_000);
            try (RegistryClient client = new RegistryClient(options().insecure(proxy.host()).build())) {
                Reference ref = Reference.parse(proxy.host() + "/flaky:1");
                proxy.failNext(2, 503, "/manifests/");
                ImageRecord r = new Puller(client, new ImageStore(tmp.resolve("dest"))).pull(ref, null, null);
                assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
                assertThat(proxy.seen().stream().filter(s -> s.status() == 503)).hasSize(2);

                // 404 is not retried
                proxy.clear();
                assertThatThrownBy(() -> client.fetchManifest(ref.withTag("nope"))).hasMessageContaining("not found")
                        .hasMessageContaining("nope");
                assertThat(proxy.seen().stream().filter(s -> s.path().contains("/manifests/nope"))).hasSize(1);

                // retries run out
                proxy.failNext(10, 500, "/manifests/");
                assertThatThrownBy(() -> client.fetchManifest(ref)).hasMessageContaining("500");
            }
        }
    }

    @Test
    void aMirrorThatIsDownFallsBackToTheRegistry() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start();
                RegistryServer mirror = RegistryServer.builder(tmp.resolve("mirror")).start()) {
            Reference ref = Reference.parse(registry.host() + "/mirrored/app:1");
            TestImages.Image img = pushed(registry, ref, 2_000);
            String down = "127.0.0.1:" + RegistryServer.freePort();
            try (RegistryClient client = new RegistryClient(options().insecure(registry.host(), down, mirror.host())
                    .mirror(registry.host(), down).build())) {
                ImageRecord r = new Puller(client, new ImageStore(tmp.resolve("dest"))).pull(ref, null, null);
                assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
            }
            // a mirror that has the image serves it: the registry is not asked (it is stopped)
            pushed(mirror, Reference.parse(mirror.host() + "/mirrored/app:1"), 2_000);
            registry.close();
            try (RegistryClient client = new RegistryClient(options().insecure(registry.host(), mirror.host())
                    .mirror(registry.host(), mirror.host()).build())) {
                ImageRecord r = new Puller(client, new ImageStore(tmp.resolve("dest2"))).pull(ref, null, null);
                assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
                assertThat(r.names()).containsExactly(ref.toString());
            }
        }
    }

    @Test
    void challengesWithQuotedCommasAreParsed() {
        List<WwwAuthenticate.Challenge> cs = WwwAuthenticate.parse("Bearer realm=\"https://auth.example/token\","
                + "service=\"registry.example\",scope=\"repository:a/b:pull,push\",error=\"insufficient_scope\", "
                + "Basic realm=\"x\\\"y\"");
        assertThat(cs).hasSize(2);
        assertThat(cs.get(0).scheme()).isEqualTo("bearer");
        assertThat(cs.get(0).params()).containsEntry("realm", "https://auth.example/token")
                .containsEntry("service", "registry.example").containsEntry("scope", "repository:a/b:pull,push")
                .containsEntry("error", "insufficient_scope");
        assertThat(cs.get(1).scheme()).isEqualTo("basic");
        assertThat(cs.get(1).param("realm")).isEqualTo("x\"y");
        assertThat(WwwAuthenticate.parse("Basic realm=registry").getFirst().param("realm")).isEqualTo("registry");
    }

    @Test
    void credentialsFilesInTheirVariousShapes() throws Exception {
        Path file = tmp.resolve("config.json");
        Files.writeString(file, """
                {"auths": {
                  "https://index.docker.io/v1/": {"auth": "%s"},
                  "127.0.0.1:5000": {"username": "u", "password": "p"},
                  "http://reg.example:8443/v2/": {"identitytoken": "refresh-me"}
                }, "credHelpers": {"x": "y"}}
                """.formatted(java.util.Base64.getEncoder().encodeToString("hub:pa:ss".getBytes())));
        DockerCredentials creds = new DockerCredentials(file);
        assertThat(creds.lookup("docker.io")).contains(new Credential("hub", "pa:ss"));
        assertThat(creds.lookup("127.0.0.1:5000")).contains(new Credential("u", "p"));
        assertThat(creds.lookup("reg.example:8443").orElseThrow().identityToken()).isEqualTo("refresh-me");
        assertThat(creds.lookup("other")).isEmpty();
        assertThat(creds.logout("docker.io")).isTrue();
        assertThat(creds.lookup("docker.io")).isEmpty();
        assertThat(Files.readString(file)).contains("credHelpers").contains("127.0.0.1:5000");

        assertThat(DockerCredentials.resolvePath("/a/auth.json", Map.of("REGISTRY_AUTH_FILE", "/b")))
                .isEqualTo(Path.of("/a/auth.json"));
        assertThat(DockerCredentials.resolvePath(null, Map.of("REGISTRY_AUTH_FILE", "/b", "HOME", "/h")))
                .isEqualTo(Path.of("/b"));
        assertThat(DockerCredentials.resolvePath(null, Map.of("HOME", "/h")))
                .isEqualTo(Path.of("/h/.docker/config.json"));
    }
}
