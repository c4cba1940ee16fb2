package dev.hull.runtime.spec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a mount's {@code options} list into what mount(2) needs, with the same semantics as runc:
 * options are applied in order, so a later option wins ("ro,rw" is read-write); a "no*"/clearing
 * option removes the flag from {@link Parsed#flags()} and records it in {@link Parsed#clearFlags()}
 * (useful for bind remounts); anything that is not a known flag is passed through, comma-joined,
 * as filesystem-specific {@link Parsed#data()}.
 */
public final class MountOptions {
    public static final long MS_RDONLY = 1L;
    public static final long MS_NOSUID = 2L;
    public static final long MS_NODEV = 4L;
    public static final long MS_NOEXEC = 8L;
    public static final long MS_SYNCHRONOUS = 16L;
    public static final long MS_REMOUNT = 32L;
    public static final long MS_MANDLOCK = 64L;
    public static final long MS_DIRSYNC = 128L;
    public static final long MS_NOSYMFOLLOW = 256L;
    public static final long MS_NOATIME = 1024L;
    public static final long MS_NODIRATIME = 2048L;
    public static final long MS_BIND = 4096L;
    public static final long MS_MOVE = 8192L;
    public static final long MS_REC = 16384L;
    public static final long MS_SILENT = 32768L;
    public static final long MS_UNBINDABLE = 1L << 17;
    public static final long MS_PRIVATE = 1L << 18;
    public static final long MS_SLAVE = 1L << 19;
    public static final long MS_SHARED = 1L << 20;
    public static final long MS_RELATIME = 1L << 21;
    public static final long MS_I_VERSION = 1L << 23;
    public static final long MS_STRICTATIME = 1L << 24;
    public static final long MS_LAZYTIME = 1L << 25;

    /**
     * @param flags            MS_* flags to pass to mount(2) (includes MS_BIND, and MS_REC for rbind)
     * @param clearFlags       MS_* flags explicitly cleared by an option ("rw", "suid", "atime", ...)
     * @param propagationFlags one of MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, | MS_REC for the
     *                         r-variants, 0 if none; the last propagation option wins. Apply it with a
     *                         separate mount(2) call after the mount itself.
     * @param recursiveBind    "rbind" was given (last of bind/rbind wins)
     * @param bind             "bind" or "rbind" was given
     * @param data             comma-joined unknown options, e.g. "mode=755,size=65536k"; "" if none
     * @param tmpcopyup        "tmpcopyup" was given (accepted; copying up is left to the caller)
     * @param idmap            "idmap" or "ridmap" was given (an idmapped bind mount: see IdmappedMounts)
     * @param recursiveIdmap   "ridmap" was given
     */
    public record Parsed(
            long flags,
            long clearFlags,
            long propagationFlags,
            boolean recursiveBind,
            boolean bind,
            String data,
            boolean tmpcopyup,
            boolean idmap,
            boolean recursiveIdmap) {}

    private record Flag(long flag, boolean clear) {}

    private static final Map<String, Flag> FLAGS = new LinkedHashMap<>();
    private static final Map<String, Long> PROPAGATION = new LinkedHashMap<>();
    private static final List<String> EXTRA = List.of("defaults", "bind", "rbind", "tmpcopyup", "idmap", "ridmap");
    private static final List<String> KNOWN;

    private static void flag(String set, String clear, long value) {
        if (set != null) {
            FLAGS.put(set, new Flag(value, false));
        }
        if (clear != null) {
            FLAGS.put(clear, new Flag(value, true));
        }
    }

    static {
        flag("ro", "rw", MS_RDONLY);
        flag("nosuid", "suid", MS_NOSUID);
        flag("nodev", "dev", MS_NODEV);
        flag("noexec", "exec", MS_NOEXEC);
        flag("sync", "async", MS_SYNCHRONOUS);
        flag("dirsync", null, MS_DIRSYNC);
        flag("remount", null, MS_REMOUNT);
        flag("mand", "nomand", MS_MANDLOCK);
        flag("noatime", "atime", MS_NOATIME);
        flag("nodiratime", "diratime", MS_NODIRATIME);
        flag("relatime", "norelatime", MS_RELATIME);
        flag("strictatime", "nostrictatime", MS_STRICTATIME);
        flag("lazytime", "nolazytime", MS_LAZYTIME);
        flag("silent", "loud", MS_SILENT);
        flag("iversion", "noiversion", MS_I_VERSION);
        flag("nosymfollow", "symfollow", MS_NOSYMFOLLOW);
        PROPAGATION.put("private", MS_PRIVATE);
        PROPAGATION.put("rprivate", MS_PRIVATE | MS_REC);
        PROPAGATION.put("shared", MS_SHARED);
        PROPAGATION.put("rshared", MS_SHARED | MS_REC);
        PROPAGATION.put("slave", MS_SLAVE);
        PROPAGATION.put("rslave", MS_SLAVE | MS_REC);
        PROPAGATION.put("unbindable", MS_UNBINDABLE);
        PROPAGATION.put("runbindable", MS_UNBINDABLE | MS_REC);
        List<String> all = new ArrayList<>(FLAGS.keySet());
        all.addAll(PROPAGATION.keySet());
        all.addAll(EXTRA);
        Collections.sort(all);
        KNOWN = List.copyOf(all);
    }

    private MountOptions() {}

    /** Parses an options list (null = no options). Never fails: unknown options become data. */
    public static Parsed parse(List<String> options) {
        long flags = 0;
        long clear = 0;
        long propagation = 0;
        boolean bind = false;
        boolean rbind = false;
        boolean tmpcopyup = false;
        boolean idmap = false;
        boolean ridmap = false;
        StringBuilder data = new StringBuilder();
        if (options != null) {
            for (String o : options) {
                if (o == null || o.isEmpty()) {
                    continue;
                }
                Flag f = FLAGS.get(o);
                if (f != null) {
                    if (f.clear()) {
                        flags &= ~f.flag();
                        clear |= f.flag();
                    } else {
                        flags |= f.flag();
                        clear &= ~f.flag();
                    }
                    continue;
                }
                Long p = PROPAGATION.get(o);
                if (p != null) {
                    propagation = p;
                    continue;
                }
                switch (o) {
                    case "defaults" -> { }
                    case "bind" -> {
                        bind = true;
                        rbind = false;
                        flags = (flags | MS_BIND) & ~MS_REC;
                    }
                    case "rbind" -> {
                        bind = true;
                        rbind = true;
                        flags |= MS_BIND | MS_REC;
                    }
                    case "tmpcopyup" -> tmpcopyup = true;
                    case "idmap" -> idmap = true;
                    case "ridmap" -> {
                        idmap = true;
                        ridmap = true;
                    }
                    default -> {
                        if (!data.isEmpty()) {
                            data.append(',');
                        }
                        data.append(o);
                    }
                }
            }
        }
        return new Parsed(flags, clear, propagation, rbind, bind, data.toString(), tmpcopyup, idmap, ridmap);
    }

    /** Every option name understood by {@link #parse} (everything else is filesystem data), sorted. */
    public static List<String> known() {
        return KNOWN;
    }
}
