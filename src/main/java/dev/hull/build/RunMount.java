package dev.hull.build;

import dev.hull.build.Dockerfile.Instruction;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One {@code RUN --mount=...} as Docker's reference spells it: comma-separated key=value pairs
 * ({@code type=bind|cache|secret|ssh|tmpfs}, bind the default), with the keys each type takes; a bare
 * key ({@code ro}, {@code rw}, {@code required}) means true. target (alias dst, destination) is
 * an absolute path in the container, except for a secret, whose default is /run/secrets/ID, and
 * an ssh agent's socket, whose default is /run/buildkit/ssh_agent.N (N counting the RUN's ssh mounts).
 */
record RunMount(String type, Map<String, String> options) {
    private static final Map<String, Set<String>> KEYS = Map.of(
            "bind", Set.of("target", "source", "from", "ro", "rw"),
            "cache", Set.of("target", "id", "sharing", "ro", "rw", "mode", "uid", "gid", "from", "source"),
            "secret", Set.of("target", "id", "required", "mode", "uid", "gid", "env"),
            "ssh", Set.of("target", "id", "required", "mode", "uid", "gid"),
            "tmpfs", Set.of("target", "size"));

    static RunMount parse(Instruction in, String spec) throws BuildException {
        return parse(in, spec, 0);
    }

    /** sshIndex: how many ssh mounts come before this one in its RUN (the default target's number). */
    static RunMount parse(Instruction in, String spec, int sshIndex) throws BuildException {
        Map<String, String> o = new LinkedHashMap<>();
        String type = "bind";
        for (String kv : spec.split(",")) {
            if (kv.isBlank()) {
                continue;
            }
            int eq = kv.indexOf('=');
            String k = (eq < 0 ? kv : kv.substring(0, eq)).strip().toLowerCase(Locale.ROOT);
            String v = eq < 0 ? "true" : kv.substring(eq + 1).strip();
            switch (k) {
                case "type" -> type = v.toLowerCase(Locale.ROOT);
                case "dst", "destination" -> o.put("target", v);
                case "src" -> o.put("source", v);
                case "readonly" -> o.put("ro", v);
                case "readwrite" -> o.put("rw", v);
                default -> o.put(k, v);
            }
        }
        Set<String> keys = KEYS.get(type);
        if (keys == null) {
            throw in.error("RUN --mount=" + spec + ": type " + type + " is not supported (bind, cache, secret, ssh,"
                    + " tmpfs)");
        }
        for (String k : o.keySet()) {
            if (!keys.contains(k)) {
                throw in.error("RUN --mount=" + spec + ": a " + type + " mount takes no " + k + " (it takes "
                        + String.join(", ", new java.util.TreeSet<>(keys)) + ")");
            }
        }
        if (type.equals("secret")) {
            if (!o.containsKey("id") && o.containsKey("target")) {
                o.put("id", o.get("target").substring(o.get("target").lastIndexOf('/') + 1));
            }
            if (!o.containsKey("id")) {
                throw in.error("RUN --mount=" + spec + ": a secret mount needs id=ID (or target=PATH)");
            }
            o.putIfAbsent("target", "/run/secrets/" + o.get("id"));
        }
        if (type.equals("ssh")) {
            o.putIfAbsent("id", "default");
            if (!o.get("id").equals("default")) {
                throw in.error("RUN --mount=" + spec + ": id=" + o.get("id") + ": only the id default is supported"
                        + " (what hull build --ssh default[=KEY] lends)");
            }
            o.putIfAbsent("target", "/run/buildkit/ssh_agent." + sshIndex);
        }
        String target = o.get("target");
        if (target == null || !target.startsWith("/")) {
            throw in.error("RUN --mount=" + spec + ": target= must be an absolute path in the container");
        }
        if (target.contains(":")) {
            throw in.error("RUN --mount=" + spec + ": target= cannot contain ':'");
        }
        return new RunMount(type, o);
    }

    String target() {
        return options.get("target");
    }

    String get(String key) {
        return options.get(key);
    }

    boolean flag(String key) {
        String v = options.get(key);
        return v != null && !v.equalsIgnoreCase("false") && !v.equals("0");
    }

    /** mode=, an octal file mode, or def. */
    int mode(Instruction in, int def) throws BuildException {
        String m = options.get("mode");
        if (m == null) {
            return def;
        }
        if (!m.matches("0?[0-7]{3,4}")) {
            throw in.error("RUN --mount " + type + " mode=" + m + ": use an octal mode like 0400");
        }
        return Integer.parseInt(m, 8);
    }

    /** uid= or gid=, a number, or 0. */
    int id(Instruction in, String key) throws BuildException {
        String v = options.get(key);
        if (v == null) {
            return 0;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw in.error("RUN --mount " + type + " " + key + "=" + v + ": not a number");
        }
    }
}
