package dev.hull.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.Manifest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Platform;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One stage's image as it is being built: its whole config (kept as JSON, so fields Hull does not
 * model — a base image's Healthcheck, OnBuild, Shell — pass through), its layers, and the ARGs in
 * scope. Each step ends with {@link #commit}: a history entry, and the config written to the
 * content store, whose digest is the state's id.
 */
final class Stage {
    static final ObjectMapper JSON = new ObjectMapper();

    final String name;
    final int index;
    ObjectNode config;
    List<Descriptor> layers = new ArrayList<>();
    List<String> diffIds = new ArrayList<>();
    /** The config's digest: this state's image id. */
    String id;
    long configSize;
    final Map<String, String> args = new LinkedHashMap<>();
    boolean cmdSet;
    /** What the stage builds for (FROM --platform=, --platform, or this host's). */
    Platform platform = Platform.host();
    /** The number of the step this stage is at (progress lines and errors). */
    int step;

    Stage(String name, int index) {
        this.name = name;
        this.index = index;
    }

    /** FROM scratch: an empty image of the stage's platform. */
    void scratch() {
        Platform p = platform;
        config = JSON.createObjectNode();
        config.put("architecture", p.architecture());
        config.put("os", p.os());
        if (p.variant() != null) {
            config.put("variant", p.variant());
        }
        config.putObject("config");
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids");
        config.putArray("history");
        layers = new ArrayList<>();
        diffIds = new ArrayList<>();
    }

    /** The container config ("config" of the image config), made if missing. */
    ObjectNode cc() {
        JsonNode c = config.get("config");
        if (c == null || !c.isObject()) {
            return config.putObject("config");
        }
        return (ObjectNode) c;
    }

    List<String> env() {
        List<String> out = new ArrayList<>();
        for (JsonNode e : cc().path("Env")) {
            out.add(e.asText());
        }
        return out;
    }

    /** The value of NAME in Env, or null. */
    String envValue(String name) {
        for (String e : env()) {
            int eq = e.indexOf('=');
            if ((eq < 0 ? e : e.substring(0, eq)).equals(name)) {
                return eq < 0 ? "" : e.substring(eq + 1);
            }
        }
        return null;
    }

    void setEnv(String name, String value) {
        List<String> env = env();
        boolean replaced = false;
        for (int i = 0; i < env.size(); i++) {
            String e = env.get(i);
            int eq = e.indexOf('=');
            if ((eq < 0 ? e : e.substring(0, eq)).equals(name)) {
                env.set(i, name + "=" + value);
                replaced = true;
            }
        }
        if (!replaced) {
            env.add(name + "=" + value);
        }
        ArrayNode a = cc().putArray("Env");
        env.forEach(a::add);
    }

    /** What $NAME means in this stage's instructions: its ARGs, overridden by its Env. */
    Map<String, String> vars() {
        Map<String, String> v = new LinkedHashMap<>(args);
        for (String e : env()) {
            int eq = e.indexOf('=');
            if (eq > 0) {
                v.put(e.substring(0, eq), e.substring(eq + 1));
            }
        }
        return v;
    }

    List<String> shell() {
        List<String> out = new ArrayList<>();
        for (JsonNode s : cc().path("Shell")) {
            out.add(s.asText());
        }
        return out.isEmpty() ? List.of("/bin/sh", "-c") : out;
    }

    String workdir() {
        String w = cc().path("WorkingDir").asText("");
        return w.isEmpty() ? "/" : w;
    }

    /** Ends a step: a history entry (and the layer, if any), the config written; returns the new id. */
    void commit(ContentStore content, String createdBy, LayerTar.Stored layer, Long epoch) throws IOException {
        commit(content, createdBy, null, layer, epoch);
    }

    /** commit with a history comment (hull commit -m, hull import's "Imported from ..."). */
    void commit(ContentStore content, String createdBy, String comment, LayerTar.Stored layer, Long epoch)
            throws IOException {
        String created = (epoch != null ? Instant.ofEpochSecond(epoch) : Instant.now()).toString();
        config.put("created", created);
        JsonNode h = config.get("history");
        ArrayNode history = h != null && h.isArray() ? (ArrayNode) h : config.putArray("history");
        ObjectNode entry = history.addObject();
        entry.put("created", created);
        entry.put("created_by", createdBy);
        if (comment != null && !comment.isEmpty()) {
            entry.put("comment", comment);
        }
        if (layer == null) {
            entry.put("empty_layer", true);
        } else {
            layers.add(layer.descriptor());
            diffIds.add(layer.diffId());
        }
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode ids = rootfs.putArray("diff_ids");
        diffIds.forEach(ids::add);
        write(content);
    }

    /** Writes the config (after a change without history: --label) and takes its digest as the id. */
    void write(ContentStore content) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(config);
        id = content.write(bytes).toString();
        configSize = bytes.length;
    }

    /** Takes the state of a cache entry or another stage. */
    void load(ContentStore content, String configDigest, List<Descriptor> layers, List<String> diffIds)
            throws IOException {
        byte[] bytes = content.read(Digest.parse(configDigest));
        config = (ObjectNode) JSON.readTree(bytes);
        this.layers = new ArrayList<>(layers);
        this.diffIds = new ArrayList<>(diffIds);
        id = configDigest;
        configSize = bytes.length;
    }

    /** This state as an image in the store (its manifest written), with these names. */
    ImageRecord save(ImageService images, List<String> names) throws IOException {
        Manifest manifest = new Manifest(2, MediaTypes.OCI_MANIFEST, record(List.of(), null).config(), layers, null);
        String manifestDigest = images.store().content().write(JSON.writeValueAsBytes(manifest)).toString();
        return images.store().put(record(names, manifestDigest));
    }

    /** This state as an image record (not in the store: what a RUN step's container is made from). */
    ImageRecord record(List<String> names, String manifestDigest) {
        Platform p = new Platform(config.path("architecture").asText(null), config.path("os").asText("linux"),
                config.path("variant").asText(null), null, null);
        return new ImageRecord(id, names, List.of(), manifestDigest, manifestDigest == null ? null
                : MediaTypes.OCI_MANIFEST, new Descriptor(MediaTypes.OCI_CONFIG, Digest.parse(id), configSize), layers,
                diffIds, config.path("created").asText(null), Instant.now().toString(), p);
    }
}
