package dev.hull.disk;

import dev.hull.runtime.RuntimeError;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a disk's key-encryption key comes from, as {@code --key-file} (or {@code key-file=}) names it:
 * <ul>
 * <li>a file: 32 or more random bytes (the caller's path, made absolute against its directory);</li>
 * <li>{@code keyring:NAME}: a "user" key called NAME in root's user keyring (what {@code keyctl add
 * user NAME ... @u} makes; 32 or more bytes), so the secret need not lie in any file;</li>
 * <li>{@code passphrase}: typed on the caller's terminal (twice when a disk is made), stretched
 * with PBKDF2-HMAC-SHA256; such commands run in their own process, which owns the terminal.</li>
 * </ul>
 */
public final class KeySources {
    public static final String KEYRING = "keyring:";
    public static final String PASSPHRASE = "passphrase";

    /** Set in the resident service: a passphrase is never asked for there (its terminal is nobody's). */
    private static volatile boolean service;

    private KeySources() {}

    /** This process is Hull's service. */
    public static void inService() {
        service = true;
    }

    static boolean service() {
        return service;
    }

    /** A keyring key or a passphrase rather than a file. */
    public static boolean special(Path keyFile) {
        return keyFile != null && special(keyFile.toString());
    }

    static boolean special(String v) {
        return v.equals(PASSPHRASE) || v.startsWith(KEYRING);
    }

    /** keyFile as the caller named it: a file made absolute against the caller's directory; the others as they are. */
    public static Path absolute(Path keyFile) {
        if (keyFile == null || special(keyFile)) {
            return keyFile;
        }
        return dev.hull.runtime.Caller.absolute(keyFile).normalize();
    }

    /** Refuses a key file that cannot be read (a keyring key is looked up when used); flag names the option. */
    public static void check(Path keyFile, String flag) throws RuntimeError {
        if (keyFile == null) {
            return;
        }
        String v = keyFile.toString();
        if (v.startsWith(KEYRING) && v.length() == KEYRING.length()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + " keyring: names a key: keyring:NAME");
        }
        if (!special(keyFile) && !Files.isReadable(keyFile)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + " " + keyFile + ": no such readable file");
        }
    }

    /** A command line asking for a typed passphrase: it must run where the caller's terminal is. */
    public static boolean asksPassphrase(java.util.List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--key-file=" + PASSPHRASE) || a.endsWith("key-file=" + PASSPHRASE)
                    || (a.equals("--key-file") && i + 1 < args.size() && args.get(i + 1).equals(PASSPHRASE))) {
                return true;
            }
        }
        return false;
    }
}
