package dev.hull.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The shared (read-only) OCI runtime-spec schemas and examples, at ../shared/specs/oci-runtime-schema
 * relative to the project root (system property hull.home, set by surefire; else user.dir).
 */
public final class SchemaFiles {
    private static final ConcurrentHashMap<String, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();

    private SchemaFiles() {}

    public static Path dir() {
        String home = System.getProperty("hull.home", System.getProperty("user.dir"));
        Path dir = Path.of(home).toAbsolutePath().normalize().resolve("../shared/specs/oci-runtime-schema").normalize();
        assertThat(dir.resolve("config-schema.json")).as("OCI runtime-spec schemas under %s", dir).isRegularFile();
        return dir;
    }

    public static Path example(String kind, String goodOrBad, String name) {
        return dir().resolve("test").resolve(kind).resolve(goodOrBad).resolve(name);
    }

    /**
     * Loads a schema by its file: URI, so that its relative $refs ("defs.json#/...",
     * "config-linux.json#/linux") resolve to the sibling local files; nothing is fetched remotely
     * (the draft-04 meta-schema is built into the validator).
     */
    static JsonSchema schema(String file) {
        return SCHEMAS.computeIfAbsent(file, f -> {
            JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4);
            return factory.getSchema(SchemaLocation.of(dir().resolve(f).toUri().toString()));
        });
    }

    public static Set<ValidationMessage> validate(String schemaFile, JsonNode doc) {
        return schema(schemaFile).validate(doc);
    }

    static List<Path> list(String kind, String goodOrBad) throws Exception {
        try (var s = Files.list(dir().resolve("test").resolve(kind).resolve(goodOrBad))) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }
}
