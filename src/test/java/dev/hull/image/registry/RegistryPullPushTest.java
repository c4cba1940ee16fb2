package dev.hull.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.MediaTypes;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryPullPushTest {
    @TempDir
    Path tmp;

    /** Records the per-layer events. */
    static final class Recorder implements PullProgress {
        final Map<String, String> status = new ConcurrentHashMap<>();
        final List<String> started = new CopyOnWriteArrayList<>();
        final Map<String, Long> bytes = new ConcurrentHashMap<>();

        @Override
        public void started(Descriptor layer, String shortId) {
            started.add(shortId);
        }

        @Override
        public void progress(Descriptor layer, long done, long total) {
            bytes.put(layer.digest(), done);
        }

        @Override
        public void done(Descriptor layer, String s) {
            status.put(layer.digest(), s);
        }
    }

    private RegistryClient client(String... insecure) {
        return new RegistryClient(RegistryOptions.builder().insecure(insecure).retryDelay(Duration.ofMillis(20))
                .certsDirs(List.of()).build());
    }

    @Test
    void pushThenPullIntoAFreshStoreGivesTheSameImage() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start();
                RegistryClient client = client(registry.host())) {
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image img = TestImages.build(source.content(), Platform.LINUX_AMD64, 50_000, 1);
            source.put(img.record());
            Reference ref = Reference.parse(registry.host() + "/hull/demo:v1");
            Recorder pushed = new Recorder();
            Digest digest = new Pusher(client, source).push(img.record(), ref, pushed);
            assertThat(digest).isEqualTo(img.manifestDigest());
            assertThat(pushed.status.values()).containsOnly(PullProgress.PUSHED).hasSize(3);
            assertThat(source.find(img.record().id()).orElseThrow().repoDigests())
                    .contains(ref.name() + "@" + digest);

            // pushing again: every layer is already there
            Recorder again = new Recorder();
            new Pusher(client, source).push(img.record(), ref, again);
            assertThat(again.status.values()).containsOnly(PullProgress.LAYER_ALREADY_EXISTS).hasSize(3);

            ImageStore dest = new ImageStore(tmp.resolve("dest"));
            Recorder pulled = new Recorder();
            ImageRecord r = new Puller(client, dest).pull(ref, null, pulled);
            assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
            assertThat(r.id()).isEqualTo(img.record().id());
            assertThat(r.config()).isEqualTo(img.record().config());
            assertThat(r.layers()).isEqualTo(img.layers());
            assertThat(r.diffIds()).isEqualTo(img.record().diffIds());
            assertThat(r.names()).containsExactly(ref.toString());
            assertThat(r.repoDigests()).containsExactly(ref.name() + "@" + img.manifestDigest());
            assertThat(r.manifestMediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
            assertThat(r.platform().toString()).isEqualTo("linux/amd64");
            assertThat(r.created()).isEqualTo(img.record().created());
            assertThat(pulled.status.values()).containsOnly(PullProgress.PULL_COMPLETE).hasSize(3);
            assertThat(pulled.started).hasSize(3).allMatch(s -> s.length() == 12);
            ContentStore content = dest.content();
            for (Descriptor l : img.layers()) {
                assertThat(content.has(l.parsedDigest())).isTrue();
                assertThat(content.verify(l.parsedDigest())).isTrue();
                assertThat(pulled.bytes.get(l.digest())).isEqualTo(l.size());
            }
            assertThat(content.read(img.manifestDigest())).isEqualTo(img.manifest());
            assertThat(content.read(img.record().config().parsedDigest())).isEqualTo(img.config());
            assertThat(dest.find(ref.toString())).isPresent();
            assertThat(client.tags(ref)).containsExactly("v1");
        }
    }

    @Test
    void aSecondPullDownloadsNoLayers() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).relativeUrls().start();
                FaultProxy proxy = FaultProxy.start(registry.url());
                RegistryClient client = client(proxy.host())) {
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image img = TestImages.build(source.content(), Platform.LINUX_AMD64, 20_000, 2);
            Reference ref = Reference.parse(proxy.host() + "/again:1");

            new Pusher(client, source).push(img.record(), ref, null);

            // pushed through the proxy: the upload went POST → relative Location → PUT ?digest=
            assertThat(proxy.seen()).anyMatch(s -> s.method().equals("PUT") && s.path().contains("digest=sha256%3A")
                    && s.path().contains("_state="));

            ImageStore dest = new ImageStore(tmp.resolve("dest"));

            new Puller(client, dest).pull(ref, null, null);

            proxy.clear();
            Recorder second = new Recorder();

            ImageRecord r = new Puller(client, dest).pull(ref, null, second);

            assertThat(second.status.values()).containsOnly(PullProgress.ALREADY_EXISTS).hasSize(3);
            assertThat(proxy.seen()).noneMatch(s -> s.method().equals("GET") && s.path().contains("/blobs/"));
            assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
        }
    }

    @Test
    void anIndexPicksThePlatformAndListsWhatItHasWhenNothingMatches() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start();
                RegistryClient client = client(registry.host())) {
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image amd = TestImages.build(source.content(), Platform.LINUX_AMD64, 10_000, 3);
            TestImages.Image arm = TestImages.build(source.content(), Platform.parse("linux/arm64"), 10_000, 4);
            Reference ref = Reference.parse(registry.host() + "/multi:latest");
            Pusher pusher = new Pusher(client, source);
            pusher.push(amd.record(), ref.withDigest(amd.manifestDigest()), null);
            pusher.push(arm.record(), ref.withDigest(arm.manifestDigest()), null);
            TestImages.Index index = TestImages.index(source.content(), amd, arm);
            assertThat(client.putManifest(ref, index.bytes(), MediaTypes.OCI_INDEX)).isEqualTo(index.digest());

            ImageStore dest = new ImageStore(tmp.resolve("dest"));
            Puller puller = new Puller(client, dest);
            ImageRecord def = puller.pull(ref, null, null);
            assertThat(def.manifestDigest()).isEqualTo(amd.manifestDigest().toString());
            assertThat(def.platform().architecture()).isEqualTo("amd64");
            assertThat(def.repoDigests()).containsExactly(ref.name() + "@" + index.digest());
            assertThat(dest.content().read(index.digest())).isEqualTo(index.bytes());

            ImageRecord a64 = puller.pull(ref, Platform.parse("linux/arm64"), null);
            assertThat(a64.manifestDigest()).isEqualTo(arm.manifestDigest().toString());
            assertThat(a64.id()).isEqualTo(arm.record().id());

            assertThatThrownBy(() -> puller.pull(ref, Platform.parse("linux/s390x"), null))
                    .hasMessageContaining("linux/s390x").hasMessageContaining("linux/amd64")
                    .hasMessageContaining("linux/arm64");

            // by digest: no name, a repo digest
            ImageStore byDigest = new ImageStore(tmp.resolve("bydigest"));
            ImageRecord d = new Puller(client, byDigest).pull(ref.withDigest(arm.manifestDigest()),
                    Platform.parse("linux/arm64"), null);
            assertThat(d.names()).isEmpty();
            assertThat(d.repoDigests()).containsExactly(ref.name() + "@" + arm.manifestDigest());
            assertThat(d.manifestDigest()).isEqualTo(arm.manifestDigest().toString());
            // a single-platform manifest for another platform than the one asked for
            assertThatThrownBy(() -> new Puller(client, byDigest).pull(ref.withDigest(arm.manifestDigest()),
                    Platform.LINUX_AMD64, null)).hasMessageContaining("linux/arm64").hasMessageContaining("linux/amd64");
        }
    }

    @Test
    void aManifestThatDoesNotMatchTheRequestedDigestIsRejected() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start();
                RegistryClient client = client(registry.host())) {
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image one = TestImages.build(source.content(), Platform.LINUX_AMD64, 1_000, 5);
            TestImages.Image two = TestImages.build(source.content(), Platform.LINUX_AMD64, 1_000, 6);
            Reference ref = Reference.parse(registry.host() + "/tamper:1");
            new Pusher(client, source).push(one.record(), ref, null);
            new Pusher(client, source).push(two.record(), ref.withTag("2"), null);
            // the registry's copy of manifest one now holds manifest two's bytes
            Path data = registry.blobData(one.manifestDigest());
            Files.write(data, two.manifest());

            ImageStore dest = new ImageStore(tmp.resolve("dest"));
            assertThatThrownBy(() -> new Puller(client, dest).pull(ref.withDigest(one.manifestDigest()), null, null))
                    .isInstanceOf(RegistryException.class).hasMessageContaining(one.manifestDigest().toString())
                    .hasMessageContaining(two.manifestDigest().toString());
            assertThat(dest.content().has(one.manifestDigest())).isFalse();
            assertThat(dest.read().images).isEmpty();
        }
    }

    @Test
    void aTamperedBlobIsRejectedAndNothingHalfWrittenIsVisible() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start();
                RegistryClient client = client(registry.host())) {
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image img = TestImages.build(source.content(), Platform.LINUX_AMD64, 30_000, 7);
            Reference ref = Reference.parse(registry.host() + "/tamper/blob:1");
            new Pusher(client, source).push(img.record(), ref, null);
            Descriptor victim = img.layers().get(1);
            byte[] other = new byte[(int) victim.size()];
            new java.util.Random(99).nextBytes(other);
            Files.write(registry.blobData(victim.parsedDigest()), other);

            ImageStore dest = new ImageStore(tmp.resolve("dest"));
            assertThatThrownBy(() -> new Puller(client, dest).pull(ref, null, null))
                    .hasMessageContaining(victim.digest());
            assertThat(dest.content().has(victim.parsedDigest())).isFalse();
            assertThat(dest.read().images).isEmpty();
            // the bad bytes are discarded, not kept for a resume (other layers' partials may remain, unseen)
            Path partial = dest.content().root().resolve("ingest/sha256-" + victim.parsedDigest().hex());
            assertThat(!Files.exists(partial) || Files.size(partial) == 0).isTrue();
        }
    }

    @Test
    void unsupportedLayerMediaTypesAndForeignLayersAreRejectedByName() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start();
                RegistryClient client = client(registry.host())) {
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image img = TestImages.build(source.content(), Platform.LINUX_AMD64, 1_000, 8);
            Reference ref = Reference.parse(registry.host() + "/odd:1");
            new Pusher(client, source).push(img.record(), ref, null);
            Descriptor l0 = img.layers().get(0);
            Descriptor weird = new Descriptor("application/x-weird", l0.digest(), l0.size(), null, null, null);
            byte[] m = TestImages.JSON.writeValueAsBytes(new dev.hull.image.Manifest(2, MediaTypes.OCI_MANIFEST,
                    img.record().config(), List.of(weird, img.layers().get(1), img.layers().get(2)), null));
            client.putManifest(ref.withTag("weird"), m, MediaTypes.OCI_MANIFEST);
            ImageStore dest = new ImageStore(tmp.resolve("dest"));
            assertThatThrownBy(() -> new Puller(client, dest).pull(ref.withTag("weird"), null, null))
                    .hasMessageContaining("application/x-weird").hasMessageContaining(l0.digest());

            Descriptor foreign = new Descriptor(MediaTypes.DOCKER_LAYER_FOREIGN, l0.digest(), l0.size(),
                    List.of("https://example.invalid/layer"), null, null);
            byte[] f = TestImages.JSON.writeValueAsBytes(new dev.hull.image.Manifest(2, MediaTypes.OCI_MANIFEST,
                    img.record().config(), List.of(foreign, img.layers().get(1), img.layers().get(2)), null));
            client.putManifest(ref.withTag("foreign"), f, MediaTypes.OCI_MANIFEST);
            assertThatThrownBy(() -> new Puller(client, dest).pull(ref.withTag("foreign"), null, null))
                    .hasMessageContaining("foreign").hasMessageContaining(l0.digest());
            assertThat(dest.read().images).isEmpty();
        }
    }
}
