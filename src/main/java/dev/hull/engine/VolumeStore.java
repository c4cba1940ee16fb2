package dev.hull.engine;

import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Named volumes: HULL_HOME/volumes/NAME/_data, made on first use (docker's layout).
 */
public final class VolumeStore {
    static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
    private final Path root;

    public VolumeStore(Path home) {
        this.root = home.resolve("volumes");
    }

    public Path root() {
        return root;
    }

    /** The directory a volume's content lives in; with create, the volume is made if missing. */
    public Path mountpoint(String name, boolean create) throws RuntimeError, IOException {
        if (!NAME.matcher(name).matches()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid volume name \"" + name + "\": use letters,"
                    + " digits and _ . - (starting with a letter or digit); a host path must start with / or .");
        }
        Path data = root.resolve(name).resolve("_data");
        if (!Files.isDirectory(data)) {
            if (!create) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such volume: " + name);
            }
            Files.createDirectories(data);
        }
        return data;
    }
}
