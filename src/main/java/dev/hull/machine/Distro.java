package dev.hull.machine;

import dev.hull.runtime.RuntimeError;
import java.util.Map;

/**
 * A distribution Hull builds machine templates of ({@code --distro debian:12}): its archive's
 * suite, and the name of the template image kept in Hull's image store.
 */
public record Distro(String name, String version, String suite) {
    private static final Map<String, String> DEBIAN = Map.of("12", "bookworm", "13", "trixie");

    /** "debian:12", "debian:bookworm", "debian" (12). */
    public static Distro parse(String text) throws RuntimeError {
        String[] p = text.split(":", 2);
        if (!p[0].equals("debian")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--distro " + text + ": Hull builds debian:12 and"
                    + " debian:13 (or give --image IMAGE with an init)");
        }
        String v = p.length > 1 ? p[1] : "12";
        for (var e : DEBIAN.entrySet()) {
            if (e.getKey().equals(v) || e.getValue().equals(v)) {
                return new Distro("debian", e.getKey(), e.getValue());
            }
        }
        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--distro " + text + ": known Debian releases are 12"
                + " (bookworm) and 13 (trixie)");
    }

    /** The template's image name in Hull's store. */
    public String image() {
        return "hull.local/machine/" + name + ":" + version;
    }

    @Override
    public String toString() {
        return name + ":" + version;
    }
}
