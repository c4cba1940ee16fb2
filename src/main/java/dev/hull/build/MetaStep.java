package dev.hull.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.build.Dockerfile.Instruction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The instructions that only change the config (ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME, CMD,
 * ENTRYPOINT, SHELL, ONBUILD, STOPSIGNAL, HEALTHCHECK, MAINTAINER): an empty_layer history entry.
 * Also what {@code hull commit --change} and {@code hull import --change} apply to a config.
 */
final class MetaStep {
    private MetaStep() {}

    static void apply(Stage s, Instruction in, Words words, Map<String, String> vars) throws BuildException {
        ObjectNode cc = s.cc();
        switch (in.keyword()) {
            case "ENV" -> {
                for (Map.Entry<String, String> kv : pairs(in, words, vars).entrySet()) {
                    s.setEnv(kv.getKey(), kv.getValue());
                }
            }
            case "LABEL" -> {
                ObjectNode labels = labels(s);
                pairs(in, words, vars).forEach(labels::put);
            }
            case "MAINTAINER" -> s.config.put("author", in.args());
            case "WORKDIR" -> {
                String w = in.expand(() -> words.word(in.args(), vars));
                cc.put("WorkingDir", w.startsWith("/") ? normalize(w) : normalize(s.workdir() + "/" + w));
            }
            case "USER" -> cc.put("User", in.expand(() -> words.word(in.args(), vars)));
            case "STOPSIGNAL" -> cc.put("StopSignal", in.expand(() -> words.word(in.args(), vars)));
            case "EXPOSE" -> expose(cc, in, words, vars);
            case "VOLUME" -> {
                ObjectNode vols = object(cc, "Volumes");
                List<String> list = in.json() != null ? in.json() : in.expand(() -> words.words(in.args(), vars));
                for (String v : list) {
                    if (v.isBlank()) {
                        throw in.error("VOLUME with an empty path");
                    }
                    vols.putObject(v);
                }
            }
            case "CMD" -> {
                putArray(cc, "Cmd", in.json() != null ? in.json() : concat(s.shell(), in.args()));
                s.cmdSet = true;
            }
            case "ENTRYPOINT" -> {
                putArray(cc, "Entrypoint", in.json() != null ? in.json() : concat(s.shell(), in.args()));
                if (!s.cmdSet) {
                    cc.remove("Cmd"); // docker: a new ENTRYPOINT drops the base image's CMD
                }
            }
            case "SHELL" -> putArray(cc, "Shell", in.json());
            case "ONBUILD" -> {
                String trigger = in.args().strip();
                String kw = trigger.split("\\s+")[0].toUpperCase(Locale.ROOT);
                if (kw.equals("ONBUILD") || kw.equals("FROM") || kw.equals("MAINTAINER")) {
                    throw in.error("ONBUILD " + kw + " is not allowed");
                }
                ArrayNode a = cc.has("OnBuild") && cc.get("OnBuild").isArray() ? (ArrayNode) cc.get("OnBuild")
                        : cc.putArray("OnBuild");
                a.add(trigger);
            }
            case "HEALTHCHECK" -> Healthcheck.apply(s, in);
            default -> throw in.error("unknown instruction: " + in.keyword());
        }
    }

    private static void expose(ObjectNode cc, Instruction in, Words words, Map<String, String> vars)
            throws BuildException {
        ObjectNode ports = object(cc, "ExposedPorts");
        for (String p : in.expand(() -> words.words(in.args(), vars))) {
            String proto = "tcp";
            int slash = p.indexOf('/');
            if (slash >= 0) {
                proto = p.substring(slash + 1).toLowerCase(Locale.ROOT);
                p = p.substring(0, slash);
            }
            if (!proto.matches("tcp|udp|sctp") || !p.matches("\\d{1,5}(-\\d{1,5})?")) {
                throw in.error("EXPOSE " + p + (slash >= 0 ? "/" + proto : "") + ": not a port (80, 80/udp, 8000-8010)");
            }
            String[] range = p.split("-");
            int lo = Integer.parseInt(range[0]);
            int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
            if (lo < 1 || hi > 65535 || hi < lo) {
                throw in.error("EXPOSE " + p + ": ports are 1-65535");
            }
            for (int port = lo; port <= hi; port++) {
                ports.putObject(port + "/" + proto);
            }
        }
    }

    private static ObjectNode object(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        return n != null && n.isObject() ? (ObjectNode) n : o.putObject(field);
    }

    static ObjectNode labels(Stage s) {
        return object(s.cc(), "Labels");
    }

    private static void putArray(ObjectNode o, String field, List<String> values) {
        ArrayNode a = o.putArray(field);
        values.forEach(a::add);
    }

    static List<String> concat(List<String> a, String b) {
        List<String> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }

    static String normalize(String path) {
        return "/" + DockerIgnore.clean(path);
    }

    /** ENV and LABEL: key=value pairs (quotes and escapes as the shell's), or the legacy "ENV key value". */
    private static Map<String, String> pairs(Instruction in, Words words, Map<String, String> vars)
            throws BuildException {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> raw = in.expand(() -> words.splitRaw(in.args()));
        if (!raw.isEmpty() && !raw.get(0).contains("=")) {
            if (raw.size() < 2) {
                throw in.error(in.keyword() + " " + in.args() + ": needs key=value (or \"" + in.keyword()
                        + " key value\")");
            }
            String rest = in.args().strip().substring(raw.get(0).length()).strip();
            out.put(in.expand(() -> words.word(raw.get(0), vars)), in.expand(() -> words.word(rest, vars)));
            return out;
        }
        for (String r : raw) {
            int eq = r.indexOf('=');
            if (eq <= 0) {
                throw in.error(in.keyword() + ": \"" + r + "\" is not key=value");
            }
            out.put(in.expand(() -> words.word(r.substring(0, eq), vars)),
                    in.expand(() -> words.word(r.substring(eq + 1), vars)));
        }
        return out;
    }
}
