package dev.hull.runtime;

/** docker's --detach-keys: "ctrl-p,ctrl-q" (the default), "ctrl-x,y": a key is ctrl-LETTER, ctrl-@[\\]^_ or a character. */
public final class DetachKeys {
    public static final String DEFAULT = "ctrl-p,ctrl-q";

    private DetachKeys() {
    }

    /** The bytes the keys send, as a String of chars 1-255. */
    public static String parse(String text) throws RuntimeError {
        StringBuilder keys = new StringBuilder();
        for (String k : text.split(",", -1)) {
            if (k.length() == 1) {
                keys.append(k.charAt(0));
            } else if (k.length() == 6 && k.startsWith("ctrl-")) {
                char c = Character.toLowerCase(k.charAt(5));
                if (c >= 'a' && c <= 'z') {
                    keys.append((char) (c - 'a' + 1));
                } else if ("[\\]^_".indexOf(c) >= 0) {
                    keys.append((char) (c - '@'));
                } else {
                    throw bad(text, k);
                }
            } else {
                throw bad(text, k);
            }
        }
        if (keys.length() > 16 || keys.chars().anyMatch(c -> c == 0 || c > 255)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--detach-keys " + text + ": at most 16 keys");
        }
        return keys.toString();
    }

    private static RuntimeError bad(String text, String key) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--detach-keys " + text + ": invalid key \"" + key
                + "\" (use ctrl-a..ctrl-z, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_ or one character)");
    }
}
