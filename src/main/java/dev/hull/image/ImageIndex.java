package dev.hull.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** An OCI image index or Docker manifest list: manifests per platform. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageIndex(int schemaVersion, String mediaType, List<Descriptor> manifests,
        Map<String, String> annotations) {}
