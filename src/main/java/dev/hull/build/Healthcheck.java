package dev.hull.build;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.build.Dockerfile.Instruction;
import java.util.List;
import java.util.Map;

/** HEALTHCHECK into the config as docker records it: Test, Interval/Timeout/StartPeriod/StartInterval in ns, Retries. */
final class Healthcheck {
    private Healthcheck() {}

    static void apply(Stage s, Instruction in) throws BuildException {
        ObjectNode hc = Stage.JSON.createObjectNode();
        String args = in.args().strip();
        if (args.equalsIgnoreCase("NONE")) {
            if (!in.flags().isEmpty()) {
                throw in.error("HEALTHCHECK NONE takes no flags");
            }
            hc.putArray("Test").add("NONE");
            s.cc().set("Healthcheck", hc);
            return;
        }
        String[] parts = args.split("\\s+", 2);
        if (!parts[0].equalsIgnoreCase("CMD") || parts.length < 2) {
            throw in.error("HEALTHCHECK takes NONE or [OPTIONS] CMD command");
        }
        ArrayNode test = hc.putArray("Test");
        List<String> json = parts[1].startsWith("[") ? Dockerfile.jsonArray(parts[1]) : null;
        if (json != null) {
            test.add("CMD");
            json.forEach(test::add);
        } else {
            test.add("CMD-SHELL");
            test.add(parts[1]);
        }
        for (Map.Entry<String, String> f : in.flags().entrySet()) {
            String v = f.getValue() == null ? "" : f.getValue();
            switch (f.getKey()) {
                case "interval" -> hc.put("Interval", duration(in, f.getKey(), v));
                case "timeout" -> hc.put("Timeout", duration(in, f.getKey(), v));
                case "start-period" -> hc.put("StartPeriod", duration(in, f.getKey(), v));
                case "start-interval" -> hc.put("StartInterval", duration(in, f.getKey(), v));
                case "retries" -> {
                    try {
                        hc.put("Retries", Integer.parseInt(v));
                    } catch (NumberFormatException e) {
                        throw in.error("HEALTHCHECK --retries=" + v + ": not a number");
                    }
                }
                default -> throw in.error("HEALTHCHECK has no flag --" + f.getKey());
            }
        }
        s.cc().set("Healthcheck", hc);
    }

    /** Go's durations as Docker takes them (30s, 1m30s, 500ms) in nanoseconds: the engine's parser, the builder's words. */
    static long duration(Instruction in, String flag, String v) throws BuildException {
        try {
            return dev.hull.engine.HealthConfig.duration("--" + flag, v);
        } catch (dev.hull.runtime.RuntimeError e) {
            throw in.error("HEALTHCHECK --" + flag + "=" + v + ": not a duration (30s, 1m30s, 500ms)");
        }
    }
}
