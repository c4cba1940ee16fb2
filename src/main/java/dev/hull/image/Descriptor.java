package dev.hull.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** An OCI content descriptor: what a manifest or index points at. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Descriptor(String mediaType, String digest, long size, List<String> urls,
        Map<String, String> annotations, Platform platform) {

    public Descriptor(String mediaType, Digest digest, long size) {
        this(mediaType, digest.toString(), size, null, null, null);
    }

    /** The digest, checked. */
    public Digest parsedDigest() {
        return Digest.parse(digest);
    }
}
