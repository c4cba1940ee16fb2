package dev.hull.disk;

import dev.hull.runtime.RuntimeError;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a sized disk is asked to be: its size, and whether it is encrypted with a key wrapped by
 * the key file's key. Parsed from docker's {@code --storage-opt KEY=VALUE} / {@code --opt KEY=VALUE}.
 */
public record DiskSpec(long size, boolean encrypt, Path keyFile) {
    /** Below this an ext4 journal and a few files do not fit. */
    public static final long MIN_SIZE = 16L << 20;

    /**
     * The disk the options ask for, or null when they name no size. flag names the option in errors
     * (--storage-opt or --opt); keys other than size, encrypt and key-file are refused unless
     * ignoreOthers.
     */
    public static DiskSpec parse(List<String> opts, String flag, boolean ignoreOthers) throws RuntimeError {
        Long size = null;
        boolean encrypt = false;
        Path keyFile = null;
        for (String o : opts) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw bad(flag + " " + o + ": use KEY=VALUE");
            }
            String k = o.substring(0, eq);
            String v = o.substring(eq + 1);
            switch (k) {
                case "size" -> size = parseSize(v, flag);
                case "encrypt" -> {
                    if (!v.matches("true|false|1|0")) {
                        throw bad(flag + " encrypt=" + v + ": true or false");
                    }
                    encrypt = v.equals("true") || v.equals("1");
                }
                case "key-file" -> keyFile = KeySources.absolute(Path.of(v));
                default -> {
                    if (!ignoreOthers) {
                        throw bad(flag + " " + k + ": Hull knows size, encrypt and key-file");
                    }
                }
            }
        }
        if (size == null) {
            if (encrypt || keyFile != null) {
                throw bad(flag + " encrypt needs a disk: add " + flag + " size=SIZE (e.g. size=1g)");
            }
            return null;
        }
        if (encrypt && keyFile == null) {
            throw bad(flag + " encrypt=true needs " + flag + " key-file=FILE (32 or more random bytes, e.g."
                    + " head -c 32 /dev/urandom > FILE)");
        }
        if (keyFile != null && !encrypt) {
            throw bad(flag + " key-file is for encrypt=true");
        }
        KeySources.check(keyFile, flag + " key-file=");
        return new DiskSpec(size, encrypt, keyFile);
    }

    /** docker's sizes: a number with an optional b, k, m, g or t (powers of 1024), case-insensitive. */
    private static final java.util.regex.Pattern SIZE =
            java.util.regex.Pattern.compile("([0-9]{1,18})([kmgt]?)(i?b)?");

    /** docker's sizes: a number with an optional k, m, g or t (powers of 1024; b, ib allowed after), any case. */
    public static long parseSize(String v, String flag) throws RuntimeError {
        java.util.regex.Matcher m = SIZE.matcher(v.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw bad(flag + " size=" + v + ": use a number with k, m, g or t (e.g. 64m, 5g)");
        }
        int shift = m.group(2).isEmpty() ? 0 : 10 * ("kmgt".indexOf(m.group(2)) + 1);
        long n = Long.parseLong(m.group(1));
        if (n > (Long.MAX_VALUE >> shift) >> 1) {
            throw bad(flag + " size=" + v + ": out of range");
        }
        long bytes = n << shift;
        if (bytes < MIN_SIZE) {
            throw bad(flag + " size=" + v + ": at least 16m");
        }
        return bytes;
    }

    private static RuntimeError bad(String message) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, message);
    }
}
