package dev.hull.engine;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.runtime.Caller;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * Hull's config file: the defaults the engine gives every new container ({@code hull run},
 * {@code hull create}) unless the run's flags say otherwise. {@code /etc/hull/hull.json}, or the file
 * {@code HULL_CONFIG} names; a missing file means the built-in defaults. Create records the
 * effective values in the container (container.json, shown by inspect), so a later edit of the
 * file changes new containers only, as docker's daemon.json does.
 *
 * <pre>{"pidsLimit": 2048, "logMaxSize": "20m", "logMaxFiles": 5, "autoStartService": true, "serviceIdleTimeout": "3h"}</pre>
 *
 * @param file        the file read (or looked for)
 * @param found       it existed (else: the built-in defaults)
 * @param pidsLimit   most processes per container, 0: no limit (podman's default: 2048)
 * @param logMaxSize  bytes a json-file log grows to before it is rotated, 0: never rotated
 * @param logMaxFiles log files kept, the live one included (docker's local driver: 20m x 5)
 * @param autoStartService a command that finds no Hull service starts one (false: only by hand or systemd)
 * @param serviceIdleTimeout a service started by a command exits after this long with no client (zero: never)
 * @param cdiSpecDirs where CDI device specs are read, lowest priority first (docker's cdi-spec-dirs;
 *                    default /etc/cdi, /var/run/cdi)
 */
public record EngineConfig(Path file, boolean found, long pidsLimit, long logMaxSize, int logMaxFiles,
        boolean autoStartService, java.time.Duration serviceIdleTimeout, java.util.List<Path> cdiSpecDirs) {
    public static final Path DEFAULT_FILE = Path.of("/etc/hull/hull.json");
    public static final long DEFAULT_PIDS_LIMIT = 2048;
    public static final long DEFAULT_LOG_MAX_SIZE = 20L << 20;
    public static final int DEFAULT_LOG_MAX_FILES = 5;
    public static final java.time.Duration DEFAULT_SERVICE_IDLE_TIMEOUT = java.time.Duration.ofHours(3);

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final String KEYS = "pidsLimit, logMaxSize, logMaxFiles, autoStartService, serviceIdleTimeout,"
            + " cdiSpecDirs";

    /** The file the caller's HULL_CONFIG names (relative to the caller's directory), else /etc/hull/hull.json. */
    public static Path location() {
        String p = Caller.getenv("HULL_CONFIG");
        if (p == null || p.isEmpty()) {
            return Rootless.active() ? Rootless.config().resolve("hull.json") : DEFAULT_FILE;
        }
        return Caller.absolute(Path.of(p));
    }

    /** The built-in defaults, as if file did not exist. */
    public static EngineConfig builtin(Path file) {
        return new EngineConfig(file, false, DEFAULT_PIDS_LIMIT, DEFAULT_LOG_MAX_SIZE, DEFAULT_LOG_MAX_FILES, true,
                DEFAULT_SERVICE_IDLE_TIMEOUT, CdiDevices.DEFAULT_DIRS);
    }

    /** The caller's config file ({@link #location()}). */
    public static EngineConfig load() throws RuntimeError {
        return load(location());
    }

    /** The file's settings over the built-in defaults; anything wrong in it fails, naming the file and the key. */
    public static EngineConfig load(Path file) throws RuntimeError {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return builtin(file);
        } catch (IOException e) {
            throw bad(file, "cannot read it: " + e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw bad(file, "not valid JSON: " + e.getOriginalMessage()
                    + (loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")"));
        } catch (IOException e) {
            throw bad(file, "cannot read it: " + e);
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "must hold a JSON object, like {\"pidsLimit\": 2048, \"logMaxSize\": \"20m\","
                    + " \"logMaxFiles\": 5}");
        }
        long pids = DEFAULT_PIDS_LIMIT;
        long size = DEFAULT_LOG_MAX_SIZE;
        long files = DEFAULT_LOG_MAX_FILES;
        boolean autoStart = true;
        java.time.Duration idle = DEFAULT_SERVICE_IDLE_TIMEOUT;
        java.util.List<Path> cdiDirs = CdiDevices.DEFAULT_DIRS;
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            var e = it.next();
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "pidsLimit" -> pids = whole(file, "pidsLimit", v, 0, "0 or more (0: no limit)");
                case "logMaxSize" -> size = size(file, v);
                case "logMaxFiles" -> files = whole(file, "logMaxFiles", v, 1, "1 or more");
                case "autoStartService" -> {
                    if (!v.isBoolean()) {
                        throw bad(file, "autoStartService: " + v + " is not true or false");
                    }
                    autoStart = v.asBoolean();
                }
                case "serviceIdleTimeout" -> {
                    if (!v.isTextual()) {
                        throw bad(file, "serviceIdleTimeout: " + v + " is not a duration like \"3h\", \"30m\" or \"0\"");
                    }
                    try {
                        idle = dev.hull.runtime.GoDuration.parse(v.asText(), "serviceIdleTimeout", true);
                    } catch (RuntimeError x) {
                        throw bad(file, x.getMessage());
                    }
                }
                case "cdiSpecDirs" -> {
                    if (!v.isArray()) {
                        throw bad(file, "cdiSpecDirs: " + v + " is not a list of directories");
                    }
                    java.util.List<Path> dirs = new java.util.ArrayList<>();
                    for (JsonNode d : v) {
                        if (!d.isTextual() || !d.asText().startsWith("/")) {
                            throw bad(file, "cdiSpecDirs: " + d + " is not an absolute path");
                        }
                        dirs.add(Path.of(d.asText()));
                    }
                    cdiDirs = java.util.List.copyOf(dirs);
                }
                default -> throw bad(file, "unknown key \"" + e.getKey() + "\" (the keys are " + KEYS + ")");
            }
        }
        if (files > LogDrivers.MAX_LOG_FILES) {
            throw bad(file, "logMaxFiles: " + files + " is too many (at most " + LogDrivers.MAX_LOG_FILES + ")");
        }
        return new EngineConfig(file, true, pids, size, (int) files, autoStart, idle, cdiDirs);
    }

    private static long whole(Path file, String key, JsonNode v, long min, String what) throws RuntimeError {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw bad(file, key + ": " + v + " is not a whole number; use " + what);
        }
        if (v.asLong() < min) {
            throw bad(file, key + ": " + v + " is below " + min + "; use " + what);
        }
        return v.asLong();
    }

    /** "20m" (k, m, g: 1024-based, as --log-opt max-size) or a number of bytes; 0: no rotation. */
    private static long size(Path file, JsonNode v) throws RuntimeError {
        String hint = "; use a size like \"20m\", \"512k\" or \"1g\", or bytes (0: no rotation)";
        if (v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= 0) {
            return v.asLong();
        }
        if (v.isTextual()) {
            try {
                return Engine.parseSize(v.asText(), "logMaxSize");
            } catch (RuntimeError e) {
                // below
            }
        }
        throw bad(file, "logMaxSize: " + v + " is not a size" + hint);
    }

    private static RuntimeError bad(Path file, String message) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, "config file " + file + ": " + message);
    }

    /**
     * Gives o what its flags left open: the pids limit (null: not given), and the json-file log's
     * max-size and max-file, each where --log-opt did not set it (docker's merge of the daemon's
     * log-opts into a container's). max-size=-1 from the run (no rotation) takes no max-file from here.
     */
    public void applyTo(CreateOptions o) {
        String named = Caller.getenv("HULL_CONFIG");
        if (o.configFile == null && named != null && !named.isEmpty()) {
            o.configFile = file.toAbsolutePath().toString(); // resolved against the creator's directory
        }
        if (o.pidsLimit == null) {
            o.pidsLimit = pidsLimit;
        }
        if (logMaxSize > 0 && o.keepsLog()) {
            String given = o.logOpts.get("max-size");
            if (given == null) {
                o.logOpts.put("max-size", sizeText(logMaxSize));
            }
            if (!o.logOpts.containsKey("max-file") && !"-1".equals(given)) {
                o.logOpts.put("max-file", Integer.toString(logMaxFiles));
            }
        }
    }

    /** 20m, 64k, 1g, or bytes: the shortest 1024-based form that is exact (what --log-opt max-size takes). */
    public static String sizeText(long bytes) {
        String[] units = {"g", "m", "k"};
        long[] mults = {1L << 30, 1L << 20, 1L << 10};
        for (int i = 0; i < units.length; i++) {
            if (bytes >= mults[i] && bytes % mults[i] == 0) {
                return bytes / mults[i] + units[i];
            }
        }
        return Long.toString(bytes);
    }
}
