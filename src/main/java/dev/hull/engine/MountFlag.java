package dev.hull.engine;

import dev.hull.runtime.RuntimeError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * docker's {@code --mount} (and the Docker API's HostConfig.Mounts): a bind, a named volume or a
 * tmpfs, parsed by docker's CSV rules and checked as dockerd checks it, then given to the engine as
 * the {@code -v SRC:DST[:MODES]} or {@code --tmpfs DST:OPTS} it means — one mount machinery. Unlike
 * -v, a bind's source must exist.
 */
public record MountFlag(String type, String source, String target, boolean readOnly, String propagation,
        boolean noCopy, Long tmpfsSize, Integer tmpfsMode) {
    /** docker's bind propagation modes (-v takes them as modes too). */
    static final Set<String> PROPAGATIONS = Set.of("private", "rprivate", "shared", "rshared", "slave", "rslave");

    /** {@code --mount CSV} as docker's CLI parses it, with its words. */
    public static MountFlag parse(String csv) throws RuntimeError {
        String type = "volume";
        String source = "";
        String target = "";
        boolean readOnly = false;
        String propagation = null;
        Boolean noCopy = null;
        Long size = null;
        Integer mode = null;
        for (String field : csvFields(csv)) {
            int eq = field.indexOf('=');
            String key = (eq < 0 ? field : field.substring(0, eq)).toLowerCase(Locale.ROOT);
            String val = eq < 0 ? null : field.substring(eq + 1);
            if (val == null) {
                switch (key) {
                    case "readonly", "ro" -> readOnly = true;
                    case "volume-nocopy" -> noCopy = true;
                    default -> throw bad(csv, "invalid field '" + field + "' must be a key=value pair");
                }
                continue;
            }
            switch (key) {
                case "type" -> type = val.toLowerCase(Locale.ROOT);
                case "source", "src" -> source = val;
                case "target", "dst", "destination" -> target = val;
                case "readonly", "ro" -> readOnly = bool(csv, key, val);
                case "bind-propagation" -> propagation = val.toLowerCase(Locale.ROOT);
                case "volume-nocopy" -> noCopy = bool(csv, key, val);
                case "tmpfs-size" -> {
                    try {
                        size = Engine.parseSize(val, "tmpfs-size");
                    } catch (RuntimeError e) {
                        throw bad(csv, "invalid value for " + key + ": " + val);
                    }
                }
                case "tmpfs-mode" -> {
                    try {
                        mode = Integer.parseUnsignedInt(val, 8);
                    } catch (NumberFormatException e) {
                        throw bad(csv, "invalid value for " + key + ": " + val);
                    }
                }
                default -> throw bad(csv, "unexpected key '" + key + "' in '" + field + "'");
            }
        }
        if (type.isEmpty()) {
            throw bad(csv, "type is required");
        }
        if (target.isEmpty()) {
            throw bad(csv, "target is required");
        }
        if (noCopy != null && !type.equals("volume")) {
            throw bad(csv, "cannot mix 'volume-*' options with mount type '" + type + "'");
        }
        if (propagation != null && !type.equals("bind")) {
            throw bad(csv, "cannot mix 'bind-*' options with mount type '" + type + "'");
        }
        if ((size != null || mode != null) && !type.equals("tmpfs")) {
            throw bad(csv, "cannot mix 'tmpfs-*' options with mount type '" + type + "'");
        }
        return new MountFlag(type, source, target, readOnly, propagation, Boolean.TRUE.equals(noCopy), size, mode);
    }

    /**
     * Checked as dockerd checks a mount, then added to o as the -v or --tmpfs it means. A bind's source
     * is taken as -v takes it (relative to the caller's directory, symlinks followed by the mount as
     * -v's are) and must exist.
     */
    public void addTo(CreateOptions o) throws RuntimeError {
        if (target.isEmpty()) {
            throw config("field Target must not be empty");
        }
        if (!target.startsWith("/")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid mount path: '" + target
                    + "' mount path must be absolute");
        }
        if (target.contains(":") || source.contains(":")) {
            throw config("Hull cannot mount a path with ':' in it (" + (source.contains(":") ? source : target) + ")");
        }
        if (propagation != null && !PROPAGATIONS.contains(propagation)) {
            throw config("invalid propagation mode: " + propagation);
        }
        switch (type) {
            case "bind" -> {
                if (source.isEmpty()) {
                    throw config("field Source must not be empty");
                }
                Path host = dev.hull.runtime.Caller.absolute(Path.of(source)).normalize();
                if (!Files.exists(host)) {
                    throw config("bind source path does not exist: " + host);
                }
                o.volumes.add(host + ":" + target + modes(propagation));
            }
            case "volume" -> {
                if (source.isEmpty()) { // an anonymous volume (AnonymousVolumes makes it at create)
                    o.volumes.add(":" + target + modes(noCopy ? "nocopy" : null));
                    return;
                }
                if (source.startsWith("/") || source.startsWith(".")) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "create " + source + ": \"" + source
                            + "\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\""
                            + " are allowed. If you intended to pass a host directory, use absolute path");
                }
                o.volumes.add(source + ":" + target + modes(noCopy ? "nocopy" : null));
            }
            case "tmpfs" -> {
                if (!source.isEmpty()) {
                    throw config("field Source must not be specified");
                }
                List<String> opts = new ArrayList<>();
                if (readOnly) {
                    opts.add("ro");
                }
                if (tmpfsSize != null && tmpfsSize > 0) {
                    opts.add("size=" + tmpfsSize);
                }
                if (tmpfsMode != null) {
                    opts.add("mode=" + Integer.toOctalString(tmpfsMode));
                }
                o.tmpfs.add(opts.isEmpty() ? target : target + ":" + String.join(",", opts));
            }
            default -> throw config("mount type unknown");
        }
    }

    /** The -v mode field: ro or rw, and one more mode if given. */
    private String modes(String extra) {
        return ":" + (readOnly ? "ro" : "rw") + (extra == null ? "" : "," + extra);
    }

    private RuntimeError config(String why) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid mount config for type \"" + type + "\": " + why);
    }

    private static boolean bool(String csv, String key, String val) throws RuntimeError {
        return switch (val.toLowerCase(Locale.ROOT)) { // Go's strconv.ParseBool
            case "1", "t", "true" -> true;
            case "0", "f", "false" -> false;
            default -> throw bad(csv, "invalid value for " + key + ": " + val);
        };
    }

    private static RuntimeError bad(String csv, String why) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid argument \"" + csv + "\" for \"--mount\" flag: "
                + why);
    }

    /** One CSV record as Go's encoding/csv reads it: commas, fields in double quotes ("" for a quote). */
    static List<String> csvFields(String csv) throws RuntimeError {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int i = 0;
        boolean quoted = false;
        boolean fieldStart = true;
        while (i < csv.length()) {
            char c = csv.charAt(i++);
            if (quoted) {
                if (c == '"') {
                    if (i < csv.length() && csv.charAt(i) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(c);
                }
            } else if (c == '"' && fieldStart) {
                quoted = true;
                fieldStart = false;
            } else if (c == '"') {
                throw bad(csv, "parse error on line 1, column " + i + ": bare \" in non-quoted-field");
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
                fieldStart = true;
            } else {
                cur.append(c);
                fieldStart = false;
            }
        }
        if (quoted) {
            throw bad(csv, "parse error on line 1, column " + (csv.length() + 1) + ": extraneous or missing \" in"
                    + " quoted-field");
        }
        out.add(cur.toString());
        return out;
    }
}
