package dev.hull.image.registry;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.Parallel;
import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageIndex;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.Manifest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Pulls an image into an {@link ImageStore}: manifest (picking the platform's
 * from an index), config, and layers (in parallel, resuming partial downloads,
 * skipping blobs already stored). The image record is written last, so an
 * interrupted pull leaves only whole blobs and partial downloads behind, never
 * an image whose blobs are missing. Layers are not unpacked here.
 */
public final class Puller {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final RegistryClient client;
    private final ImageStore store;

    public Puller(RegistryClient client, ImageStore store) {
        this.client = client;
        this.store = store;
    }

    /** Told when a layer's blob is in the content store, so unpacking can start while others download. */
    @FunctionalInterface
    public interface LayerReady {
        /** image: the record the pull will make; index: the layer's position in it. Must not block long. */
        void ready(ImageRecord image, int index);
    }

    /** Gives a layer's download a tee for its bytes (to unpack while downloading), or null for none. */
    @FunctionalInterface
    public interface LayerTee {
        ContentStore.Tee open(ImageRecord image, int index);
    }

    /** Pulls ref for platform (null: linux/amd64) and records it in the store; returns the record. */
    public ImageRecord pull(Reference ref, Platform platform, PullProgress progress) throws IOException {
        return pull(ref, platform, progress, null);
    }

    /** As {@link #pull(Reference, Platform, PullProgress)}, telling onLayer as each layer's blob arrives. */
    public ImageRecord pull(Reference ref, Platform platform, PullProgress progress, LayerReady onLayer)
            throws IOException {
        return pull(ref, platform, progress, onLayer, null);
    }

    /** As above, also handing each downloaded layer's bytes to the tee that tees gives for it. */
    public ImageRecord pull(Reference ref, Platform platform, PullProgress progress, LayerReady onLayer,
            LayerTee tees) throws IOException {
        Platform want = platform == null ? Platform.LINUX_AMD64 : platform;
        PullProgress events = progress == null ? PullProgress.NONE : progress;
        ContentStore content = store.content();

        dev.hull.runtime.Trace trace = dev.hull.runtime.Trace.start();
        FetchedManifest top = client.fetchManifest(ref);
        trace.mark("pull.manifest");
        FetchedManifest fetched = top;
        Platform chosenPlatform = null;
        if (MediaTypes.isIndex(top.mediaType())) {
            ImageIndex index = parse(top.bytes(), ImageIndex.class, "index " + ref);
            Descriptor pick = choose(index, want, ref);
            chosenPlatform = pick.platform();
            fetched = client.fetchManifest(ref.withDigest(pick.parsedDigest()));
            if (pick.size() >= 0 && fetched.bytes().length != pick.size()) {
                throw new RegistryException("manifest " + pick.digest() + " of " + ref + " is " + fetched.bytes().length
                        + " bytes, the index says " + pick.size());
            }
            content.write(top.digest(), top.bytes());
        }
        if (!MediaTypes.isManifest(fetched.mediaType())) {
            throw new RegistryException(ref + ": unsupported manifest media type \"" + fetched.mediaType() + "\""
                    + (fetched.mediaType().contains("v1+") || fetched.mediaType().contains("v1+prettyjws")
                            ? " (Docker schema 1 manifests are not supported)" : ""));
        }
        Manifest manifest = parse(fetched.bytes(), Manifest.class, "manifest " + ref);
        if (manifest.config() == null || manifest.layers() == null) {
            throw new RegistryException(ref + ": manifest " + fetched.digest() + " has no config or no layers");
        }
        checkLayers(ref, manifest.layers());
        content.write(fetched.digest(), fetched.bytes());

        Descriptor configDescriptor = manifest.config();
        client.fetchBlob(ref, configDescriptor, content, ProgressListener.NONE);
        trace.mark("pull.config");
        ImageConfig config = parse(content.read(configDescriptor.parsedDigest()), ImageConfig.class,
                "config " + configDescriptor.digest() + " of " + ref);
        if (config.diffIds().size() != manifest.layers().size()) {
            throw new RegistryException(ref + ": the config lists " + config.diffIds().size()
                    + " layer diff ids but the manifest has " + manifest.layers().size() + " layers");
        }
        boolean platformAsked = platform != null || chosenPlatform != null;
        if (platformAsked && config.os() != null && config.architecture() != null && !want.matches(config.platform())
                && !(want.variant() != null && chosenPlatform != null && want.matches(chosenPlatform)
                        && want.os().equals(config.os()) && want.architecture().equals(config.architecture()))) {
            throw new RegistryException(ref + " is for " + config.platform() + ", not the requested " + want);
        }

        List<String> names = ref.tag() != null ? List.of(ref.withTag(ref.tag()).toString()) : List.of();
        List<String> repoDigests = List.of(ref.name() + "@" + top.digest());
        Platform recorded = config.os() != null && config.architecture() != null ? config.platform()
                : chosenPlatform != null ? chosenPlatform : want;
        ImageRecord record = new ImageRecord(configDescriptor.digest(), names, repoDigests,
                fetched.digest().toString(), fetched.mediaType(), configDescriptor, manifest.layers(),
                config.diffIds(), config.created(), Instant.now().toString(), recorded);

        List<Parallel.Task> downloads = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < manifest.layers().size(); i++) {
            Descriptor layer = manifest.layers().get(i);
            int index = i;
            if (!seen.add(layer.digest())) {
                continue; // the same layer twice in one image: download once
            }
            downloads.add(() -> {
                pullLayer(ref, layer, events, tees == null ? null : () -> tees.open(record, index));
                if (onLayer != null) {
                    for (int j = index; j < manifest.layers().size(); j++) {
                        if (manifest.layers().get(j).digest().equals(layer.digest())) {
                            onLayer.ready(record, j);
                        }
                    }
                }
            });
        }
        Parallel.run(downloads, client.options().parallelism(), "hull-transfer-");
        return store.put(record);
    }

    private void pullLayer(Reference ref, Descriptor layer, PullProgress events,
            java.util.function.Supplier<ContentStore.Tee> tee) throws IOException {
        ContentStore content = store.content();
        Digest d = layer.parsedDigest();
        events.started(layer, d.shortHex());
        if (content.has(d)) {
            events.done(layer, PullProgress.ALREADY_EXISTS);
            return;
        }
        client.fetchBlob(ref, layer, content, (done, total) -> events.progress(layer, done, total),
                tee == null ? null : tee.get());
        events.done(layer, PullProgress.PULL_COMPLETE);
    }

    /** The index entry for platform, or an error listing what the index has. */
    static Descriptor choose(ImageIndex index, Platform want, Reference ref) throws RegistryException {
        List<String> available = new ArrayList<>();
        Descriptor loose = null;
        for (Descriptor d : index.manifests() == null ? List.<Descriptor>of() : index.manifests()) {
            if (d.platform() == null || !MediaTypes.isManifest(d.mediaType() == null ? MediaTypes.OCI_MANIFEST
                    : d.mediaType())) {
                continue;
            }
            if ("unknown".equals(d.platform().os())) {
                continue; // attestations (buildkit) carry unknown/unknown
            }
            available.add(d.platform().toString());
            if (want.matches(d.platform())) {
                return d;
            }
            // linux/arm64 asked, linux/arm64/v8 offered: take it if nothing matches exactly
            if (loose == null && want.variant() == null && d.platform().os().equals(want.os())
                    && d.platform().architecture().equals(want.architecture())) {
                loose = d;
            }
        }
        if (loose != null) {
            return loose;
        }
        throw new RegistryException(ref + ": no image for platform " + want + "; available: "
                + (available.isEmpty() ? "none" : String.join(", ", available)));
    }

    private static void checkLayers(Reference ref, List<Descriptor> layers) throws RegistryException {
        for (int i = 0; i < layers.size(); i++) {
            Descriptor l = layers.get(i);
            if (!MediaTypes.LAYERS.contains(l.mediaType())) {
                throw new RegistryException(ref + ": layer " + (i + 1) + " (" + l.digest()
                        + ") has unsupported media type \"" + l.mediaType() + "\"");
            }
            if (l.urls() != null && !l.urls().isEmpty()) {
                throw new RegistryException(ref + ": layer " + (i + 1) + " (" + l.digest() + ", " + l.mediaType()
                        + ") is a foreign layer to be fetched from " + l.urls()
                        + "; foreign (non-distributable) layers are not supported");
            }
            l.parsedDigest();
        }
    }

    static <T> T parse(byte[] bytes, Class<T> type, String what) throws RegistryException {
        try {
            return JSON.readValue(bytes, type);
        } catch (IOException e) {
            throw new RegistryException(what + " is not valid JSON: " + e.getMessage(), 0, e);
        }
    }
}
