package dev.hull.runtime;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go-style durations as docker and runc take them: "5s", "100ms", "1m", "3h", or combinations like "1m30s". */
public final class GoDuration {
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h)");

    private GoDuration() {}

    /**
     * s as a duration; "0" is zero when zeroAllowed. A bad value fails with a message naming what
     * (the flag or key) and the expected form.
     */
    public static Duration parse(String s, String what, boolean zeroAllowed) throws RuntimeError {
        if (zeroAllowed && s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = PART.matcher(s);
        Duration d = Duration.ZERO;
        int end = 0;
        try {
            while (m.find() && m.start() == end) {
                long n = Long.parseLong(m.group(1));
                d = d.plus(switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofHours(n);
                });
                end = m.end();
            }
        } catch (ArithmeticException | NumberFormatException e) {
            end = -1;
        }
        if (end != s.length() || s.isEmpty() || (d.isZero() && !zeroAllowed)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, what + ": invalid duration \"" + s
                    + "\" (expected e.g. 5s, 500ms, 1m, 3h" + (zeroAllowed ? ", or 0" : "; must be positive") + ")");
        }
        return d;
    }
}
