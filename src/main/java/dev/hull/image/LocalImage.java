package dev.hull.image;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * An image Hull makes itself from one layer already in the content store (the built-in busybox, a
 * machine template): its OCI config and manifest written, the image recorded under name. Recording
 * comes last, so a store never names an image whose blobs are not all there.
 */
public final class LocalImage {
    private LocalImage() {}

    /**
     * @param layer   the layer's descriptor (its blob stored)
     * @param diffId  the digest of the layer's uncompressed tar
     * @param created the image's creation time (ISO-8601)
     */
    public static ImageRecord record(ImageStore store, String name, Descriptor layer, Digest diffId,
            ImageConfig.Config config, String created, String createdBy) throws IOException {
        Platform platform = Platform.host();
        var image = new ImageConfig(created, null, platform.architecture(), "linux", null, config,
                new ImageConfig.RootFs("layers", List.of(diffId.toString())),
                List.of(new ImageConfig.History(created, createdBy, null, false)));
        byte[] configBytes = ImageStore.JSON.writeValueAsBytes(image);
        Digest configDigest = store.content().write(configBytes);
        Descriptor configDesc = new Descriptor(MediaTypes.OCI_CONFIG, configDigest, configBytes.length);
        Manifest manifest = new Manifest(2, MediaTypes.OCI_MANIFEST, configDesc, List.of(layer), null);
        byte[] manifestBytes = ImageStore.JSON.writeValueAsBytes(manifest);
        Digest manifestDigest = store.content().write(manifestBytes);
        return store.put(new ImageRecord(configDigest.toString(), List.of(name), List.of(),
                manifestDigest.toString(), MediaTypes.OCI_MANIFEST, configDesc, List.of(layer),
                List.of(diffId.toString()), created, Instant.now().toString(), platform));
    }
}
