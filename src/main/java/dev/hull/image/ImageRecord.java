package dev.hull.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/**
 * One image in the store. Its id is its config's digest (as docker's image ids);
 * names are normalized references ("docker.io/library/busybox:latest");
 * repoDigests are "name@manifest-digest" of where it was pulled from or pushed to.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageRecord(String id, List<String> names, List<String> repoDigests, String manifestDigest,
        String manifestMediaType, Descriptor config, List<Descriptor> layers, List<String> diffIds, String created,
        String added, Platform platform) {

    public ImageRecord {
        names = names == null ? new ArrayList<>() : new ArrayList<>(names);
        repoDigests = repoDigests == null ? new ArrayList<>() : new ArrayList<>(repoDigests);
        layers = layers == null ? List.of() : List.copyOf(layers);
        diffIds = diffIds == null ? List.of() : List.copyOf(diffIds);
    }

    public Digest digest() {
        return Digest.parse(id);
    }

    /** Compressed size of the layers plus config, as pulled. */
    public long size() {
        return config.size() + layers.stream().mapToLong(Descriptor::size).sum();
    }

    /** Snapshot chain ids, lowest layer first (OCI image spec: ChainID). */
    public List<String> chainIds() {
        List<String> out = new ArrayList<>();
        String chain = null;
        for (String diff : diffIds) {
            chain = chain == null ? diff
                    : Digest.sha256((chain + " " + diff).getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
            out.add(chain);
        }
        return out;
    }
}
