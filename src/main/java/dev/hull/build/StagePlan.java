package dev.hull.build;

import dev.hull.build.Dockerfile.Instruction;
import dev.hull.image.Platform;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A Dockerfile's stages resolved: the global ARGs (before the first FROM, with --build-arg
 * overrides), each FROM's base and name, the target stage (--target, else the last) and the
 * stages it needs — its base stages and COPY --from sources, transitively — in file order.
 */
final class StagePlan {
    /** One stage: FROM's name (or null), its index, the FROM instruction, its base image or stage, its body. */
    /** platform: what the stage builds for (FROM --platform=, else the build's target platform). */
    record StageDef(String name, int index, Instruction from, String base, List<Instruction> body, Platform platform) {}

    final Words words;
    final Map<String, String> globals = new LinkedHashMap<>();
    /** Build args declared before the first FROM (consumed, even if no stage uses them). */
    final Set<String> declared = new HashSet<>();
    final List<StageDef> defs = new ArrayList<>();
    StageDef target;
    /** The build's target platform (--platform, else this host's). */
    Platform platform = Platform.host();
    /** The stages the target needs, in file order. */
    final List<StageDef> needed = new ArrayList<>();

    private StagePlan(Words words) {
        this.words = words;
    }

    static StagePlan of(Dockerfile df, Map<String, String> buildArgs, String targetName, Platform platform)
            throws BuildException {
        StagePlan p = new StagePlan(new Words(df.escape()));
        p.platform = platform;
        p.globals.putAll(platformArgs(platform));
        p.split(df, buildArgs);
        if (p.defs.isEmpty()) {
            throw new BuildException(df.name() + ": no FROM instruction: a Dockerfile must start with FROM (only ARG"
                    + " may come before it)");
        }
        p.target = p.defs.get(p.defs.size() - 1);
        if (targetName != null) {
            p.target = p.defs.stream().filter(d -> targetName.equalsIgnoreCase(d.name())).findFirst()
                    .orElseThrow(() -> new BuildException("--target " + targetName + ": no stage has that name"
                            + " (stages: " + String.join(", ", p.defs.stream().map(d -> d.name() == null
                                    ? "#" + d.index() : d.name()).toList()) + ")"));
        }
        Set<Integer> need = new HashSet<>();
        p.mark(p.target, need);
        for (StageDef d : p.defs) {
            if (need.contains(d.index())) {
                p.needed.add(d);
            }
            if (d == p.target) {
                break;
            }
        }
        return p;
    }

    /** The number of steps the needed stages take (FROM and each instruction). */
    int steps() {
        return needed.stream().mapToInt(d -> 1 + d.body().size()).sum();
    }

    /**
     * The platform ARGs buildkit defines before the first FROM: BUILDPLATFORM, BUILDOS... this
     * host's, TARGETPLATFORM, TARGETARCH... the build's target (for {@code FROM
     * --platform=$BUILDPLATFORM} and a stage's {@code ARG TARGETARCH}).
     */
    static Map<String, String> platformArgs(Platform target) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String side : new String[] {"BUILD", "TARGET"}) {
            Platform h = side.equals("BUILD") ? Platform.host() : target;
            out.put(side + "PLATFORM", h.toString());
            out.put(side + "OS", h.os());
            out.put(side + "ARCH", h.architecture());
            out.put(side + "VARIANT", h.variant() == null ? "" : h.variant());
        }
        return out;
    }

    private void split(Dockerfile df, Map<String, String> buildArgs) throws BuildException {
        List<Instruction> body = null;
        for (Instruction in : df.instructions()) {
            if (in.keyword().equals("FROM")) {
                body = new ArrayList<>();
                defs.add(from(in, body));
            } else if (body == null) {
                if (!in.keyword().equals("ARG")) {
                    throw in.error("the first instruction must be FROM (only ARG may come before it), not "
                            + in.keyword());
                }
                for (String a : in.expand(() -> words.words(in.args(), globals))) {
                    int eq = a.indexOf('=');
                    String k = eq < 0 ? a : a.substring(0, eq);
                    declared.add(k);
                    String v = buildArgs.containsKey(k) ? buildArgs.get(k) : eq < 0 ? null : a.substring(eq + 1);
                    if (v != null) {
                        globals.put(k, v);
                    }
                }
            } else {
                body.add(in);
            }
        }
    }

    private StageDef from(Instruction in, List<Instruction> body) throws BuildException {
        List<String> w = in.expand(() -> words.words(in.args(), globals));
        String name = null;
        if (w.size() == 3 && w.get(1).equalsIgnoreCase("AS")) {
            name = w.get(2).toLowerCase(Locale.ROOT);
            if (!name.matches("[a-z][a-z0-9._-]*")) {
                throw in.error("invalid stage name \"" + w.get(2) + "\": use letters, digits, . _ -, starting with a letter");
            }
            for (StageDef d : defs) {
                if (name.equals(d.name())) {
                    throw in.error("stage name \"" + name + "\" is used twice (also at line " + d.from().line() + ")");
                }
            }
        } else if (w.size() != 1) {
            throw in.error("FROM takes an image and optionally AS NAME: FROM " + in.args());
        }
        Platform stagePlatform = platform;
        if (in.flags().containsKey("platform")) {
            String text = in.expand(() -> words.word(String.valueOf(in.flags().get("platform")), globals));
            try {
                stagePlatform = Platform.parse(text);
            } catch (IllegalArgumentException e) {
                throw in.error("FROM --platform=" + text + ": use OS/ARCH[/VARIANT], e.g. " + Platform.host());
            }
            if (!stagePlatform.os().equals("linux")) {
                throw in.error("FROM --platform=" + text + ": hull builds linux images only");
            }
        }
        if (w.get(0).isEmpty()) {
            throw in.error("FROM names no image (an ARG used before FROM has no value?)");
        }
        return new StageDef(name, defs.size(), in, w.get(0), body, stagePlatform);
    }

    private void mark(StageDef d, Set<Integer> need) {
        if (!need.add(d.index())) {
            return;
        }
        for (int dep : deps(d)) {
            mark(defs.get(dep), need);
        }
    }

    /** The stages d waits for: its base stage, and those its COPY --from and RUN --mount from= name. */
    java.util.SortedSet<Integer> deps(StageDef d) {
        java.util.SortedSet<Integer> out = new java.util.TreeSet<>();
        StageDef base = stageRef(d.base(), d.index());
        if (base != null) {
            out.add(base.index());
        }
        for (Instruction in : d.body()) {
            for (String raw : sources(in)) {
                String from = raw;
                if (raw.contains("$")) { // COPY --from=${STAGE}: as the global ARGs make it
                    try {
                        from = words.word(raw, globals);
                    } catch (RuntimeException e) {
                        // an image, or an error the step reports
                    }
                }
                StageDef s = stageRef(from, d.index());
                if (s != null) {
                    out.add(s.index());
                }
            }
        }
        return out;
    }

    /** The step number of d's FROM: its place among the needed stages' steps. */
    int firstStep(StageDef d) {
        int n = 1;
        for (StageDef e : needed) {
            if (e == d) {
                return n;
            }
            n += 1 + e.body().size();
        }
        throw new IllegalArgumentException("stage " + d.index() + " is not needed");
    }

    /** What an instruction takes files from: COPY --from, RUN --mount=...,from=. */
    private static List<String> sources(Instruction in) {
        List<String> out = new ArrayList<>();
        if (in.keyword().equals("COPY") && in.flags().get("from") != null) {
            out.add(in.flags().get("from"));
        }
        for (String m : in.mounts()) {
            for (String kv : m.split(",")) {
                if (kv.strip().startsWith("from=")) {
                    out.add(kv.strip().substring(5));
                }
            }
        }
        return out;
    }

    /** The stage named (or numbered) ref, defined before index; null if ref names no stage (an image). */
    StageDef stageRef(String ref, int before) {
        for (StageDef d : defs) {
            if (d.index() < before && (ref.equalsIgnoreCase(d.name()) || ref.equals(String.valueOf(d.index())))) {
                return d;
            }
        }
        return null;
    }
}
