package dev.hull.image.unpack;

import java.io.IOException;

/**
 * A rejected layer: the message names the layer (the caller's {@code what}), the tar entry being
 * handled, and what was wrong with it.
 */
public final class LayerException extends IOException {
    private final String what;
    private final String entry;

    public LayerException(String what, String entry, String problem) {
        this(what, entry, problem, null);
    }

    public LayerException(String what, String entry, String problem, Throwable cause) {
        super(what + (entry == null ? "" : ": entry \"" + printable(entry) + "\"") + ": " + problem, cause);
        this.what = what;
        this.entry = entry;
    }

    /** The layer, as the caller named it. */
    public String what() {
        return what;
    }

    /** The tar entry's name as it was in the tar, or null when no entry was being handled. */
    public String entry() {
        return entry;
    }

    private static String printable(String s) {
        return s.replace("\0", "\\0").replace("\n", "\\n");
    }
}
