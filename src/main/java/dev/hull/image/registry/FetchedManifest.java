package dev.hull.image.registry;

import dev.hull.image.Digest;

/** A manifest or index as the registry served it: its exact bytes, media type and (verified) digest. */
public record FetchedManifest(byte[] bytes, String mediaType, Digest digest) {}
