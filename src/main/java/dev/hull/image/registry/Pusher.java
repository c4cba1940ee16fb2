package dev.hull.image.registry;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.Parallel;
import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.Manifest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Reference;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Pushes an image from an {@link ImageStore}: layers (in parallel, skipping
 * what the registry has), config, then the manifest — the stored manifest
 * bytes unchanged when the content store has them, so the digest stays the same.
 */
public final class Pusher {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_EMPTY);

    private final RegistryClient client;
    private final ImageStore store;

    public Pusher(RegistryClient client, ImageStore store) {
        this.client = client;
        this.store = store;
    }

    /** Pushes image to target (its tag, or its digest); returns the manifest digest. */
    public Digest push(ImageRecord image, Reference target, PullProgress progress) throws IOException {
        PullProgress events = progress == null ? PullProgress.NONE : progress;
        ContentStore content = store.content();
        for (Descriptor l : image.layers()) {
            if (!content.has(l.parsedDigest())) {
                throw new IOException("cannot push " + image.id() + ": layer " + l.digest()
                        + " is not in the content store");
            }
        }
        List<Parallel.Task> uploads = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (Descriptor layer : image.layers()) {
            if (!seen.add(layer.digest())) {
                continue;
            }
            uploads.add(() -> {
                events.started(layer, layer.parsedDigest().shortHex());
                boolean uploaded = client.pushBlob(target, layer, content,
                        (done, total) -> events.progress(layer, done, total));
                events.done(layer, uploaded ? PullProgress.PUSHED : PullProgress.LAYER_ALREADY_EXISTS);
            });
        }
        Parallel.run(uploads, client.options().parallelism(), "hull-transfer-");
        client.pushBlob(target, image.config(), content, ProgressListener.NONE);

        byte[] manifest;
        String mediaType;
        Digest stored = image.manifestDigest() == null ? null : Digest.parse(image.manifestDigest());
        if (stored != null && content.has(stored)) {
            manifest = content.read(stored);
            mediaType = image.manifestMediaType() != null ? image.manifestMediaType()
                    : Puller.parse(manifest, Manifest.class, "manifest " + stored).mediaType();
            if (mediaType == null) {
                mediaType = MediaTypes.OCI_MANIFEST;
            }
        } else {
            boolean docker = MediaTypes.DOCKER_CONFIG.equals(image.config().mediaType());
            mediaType = docker ? MediaTypes.DOCKER_MANIFEST : MediaTypes.OCI_MANIFEST;
            manifest = JSON.writeValueAsBytes(new Manifest(2, mediaType, image.config(), image.layers(), null));
            content.write(manifest);
        }
        Digest digest = client.putManifest(target, manifest, mediaType);
        String repoDigest = target.name() + "@" + digest;
        store.update(m -> {
            ImageRecord r = m.images.get(image.id());
            if (r != null && !r.repoDigests().contains(repoDigest)) {
                r.repoDigests().add(repoDigest);
            }
            return null;
        });
        return digest;
    }
}
