package dev.hull.image.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import dev.hull.image.testing.RegistryServer;
import dev.hull.image.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hull and skopeo read each other's pushes. */
class RegistrySkopeoInteropTest {
    @TempDir
    Path tmp;

    @Test
    void skopeoPushesHullPullsAndTheOtherWayRound() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start();
                RegistryClient client = new RegistryClient(RegistryOptions.builder().insecure(registry.host())
                        .retryDelay(Duration.ofMillis(20)).certsDirs(List.of()).build())) {
            // skopeo copies an OCI layout made here into the registry; Hull pulls it
            ImageStore made = new ImageStore(tmp.resolve("made"));
            TestImages.Image img = TestImages.build(made.content(), Platform.LINUX_AMD64, 20_000, 21);
            Path layout = tmp.resolve("layout");
            TestImages.writeOciLayout(made.content(), img, layout, "v1");
            RegistryServer.run(null, "skopeo", "copy", "--preserve-digests", "--dest-tls-verify=false", "oci:" + layout + ":v1",
                    "docker://" + registry.host() + "/from-skopeo:v1");
            ImageStore dest = new ImageStore(tmp.resolve("dest"));
            ImageRecord r = new Puller(client, dest).pull(Reference.parse(registry.host() + "/from-skopeo:v1"), null,
                    null);
            assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
            assertThat(r.layers()).isEqualTo(img.layers());
            assertThat(r.diffIds()).isEqualTo(img.record().diffIds());
            for (Descriptor l : r.layers()) {
                assertThat(dest.content().verify(l.parsedDigest())).isTrue();
            }

            // Hull pushes; skopeo inspects and copies it out
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image mine = TestImages.build(source.content(), Platform.LINUX_AMD64, 20_000, 22);
            Reference ref = Reference.parse(registry.host() + "/from-hull:v2");
            Digest pushed = new Pusher(client, source).push(mine.record(), ref, null);
            JsonNode inspect = new ObjectMapper().readTree(RegistryServer.run(null, "skopeo", "inspect",
                    "--tls-verify=false", "docker://" + ref));
            assertThat(inspect.path("Digest").asText()).isEqualTo(pushed.toString());
            assertThat(inspect.path("Layers")).hasSize(3);
            Path out = tmp.resolve("out");
            RegistryServer.run(null, "skopeo", "copy", "--preserve-digests", "--src-tls-verify=false", "docker://" + ref, "oci:" + out + ":v2");
            JsonNode index = new ObjectMapper().readTree(Files.readAllBytes(out.resolve("index.json")));
            assertThat(index.path("manifests").get(0).path("digest").asText()).isEqualTo(pushed.toString());
            assertThat(Files.readAllBytes(out.resolve("blobs/sha256/" + pushed.hex()))).isEqualTo(mine.manifest());
        }
    }
}
