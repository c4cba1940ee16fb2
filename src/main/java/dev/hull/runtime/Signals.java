package dev.hull.runtime;

import java.util.LinkedHashMap;
import java.util.Map;

/** Linux (x86_64) signal names and numbers, as kill(1) and runc accept them. */
public final class Signals {
    static final Map<String, Integer> NUMBERS;

    static {
        String[] names = {"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
            "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
            "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"};
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            m.put(names[i], i + 1);
        }
        m.put("IOT", 6);
        m.put("POLL", 29);
        m.put("CLD", 17);
        NUMBERS = Map.copyOf(m);
    }

    private Signals() {}

    /** Parses "TERM", "SIGTERM", "sigterm", "15", "RTMIN+3"; throws with the accepted forms. */
    public static int parse(String s) throws RuntimeError {
        String u = s.trim().toUpperCase(java.util.Locale.ROOT);
        if (u.startsWith("SIG")) {
            u = u.substring(3);
        }
        try {
            int n = Integer.parseInt(u);
            if (n >= 1 && n <= 64) {
                return n;
            }
        } catch (NumberFormatException e) {
            Integer n = NUMBERS.get(u);
            if (n != null) {
                return n;
            }
            if (u.startsWith("RTMIN") || u.startsWith("RTMAX")) {
                int base = u.startsWith("RTMIN") ? 34 : 64;
                String rest = u.substring(5);
                try {
                    int off = rest.isEmpty() ? 0 : Integer.parseInt(rest);
                    int v = base + off;
                    if (v >= 34 && v <= 64) {
                        return v;
                    }
                } catch (NumberFormatException ignored) {
                    // fall through to the error
                }
            }
        }
        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid signal \"" + s
                + "\": use a name like TERM or SIGKILL, or a number from 1 to 64");
    }
}
