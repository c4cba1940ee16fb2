package dev.hull.engine;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;

/**
 * A container's healthcheck as docker's Config.Healthcheck: Test (["CMD", args...], ["CMD-SHELL", cmd],
 * ["NONE"], or empty: the image's), durations in nanoseconds and Retries, 0 meaning the default
 * (the image's, then docker's: 30s interval, 30s timeout, no start period, 5s start interval, 3 retries).
 */
@JsonInclude(JsonInclude.Include.NON_DEFAULT)
@JsonIgnoreProperties(ignoreUnknown = true)
public final class HealthConfig {
    static final long SECOND = 1_000_000_000L;
    static final long DEFAULT_INTERVAL = 30 * SECOND, DEFAULT_TIMEOUT = 30 * SECOND, DEFAULT_START_INTERVAL = 5 * SECOND;
    static final int DEFAULT_RETRIES = 3;

    @JsonProperty("Test")
    public List<String> test = new ArrayList<>();
    @JsonProperty("Interval")
    public long interval;
    @JsonProperty("Timeout")
    public long timeout;
    @JsonProperty("StartPeriod")
    public long startPeriod;
    @JsonProperty("StartInterval")
    public long startInterval;
    @JsonProperty("Retries")
    public int retries;

    /** ["NONE"]: --no-healthcheck, HEALTHCHECK NONE. */
    public static HealthConfig none() {
        HealthConfig h = new HealthConfig();
        h.test.add("NONE");
        return h;
    }

    /** From docker's JSON form (an image's config or the API's Config.Healthcheck); null when absent. */
    public static HealthConfig fromJson(JsonNode n) {
        if (n == null || !n.isObject()) {
            return null;
        }
        HealthConfig h = new HealthConfig();
        n.path("Test").forEach(t -> h.test.add(t.asText()));
        h.interval = n.path("Interval").asLong();
        h.timeout = n.path("Timeout").asLong();
        h.startPeriod = n.path("StartPeriod").asLong();
        h.startInterval = n.path("StartInterval").asLong();
        h.retries = n.path("Retries").asInt();
        return h;
    }

    /**
     * What the container runs: the user's, with the image's for what the user left open (dockerd's
     * merge: an empty Test, a zero duration or retry count take the image's).
     */
    public static HealthConfig merge(HealthConfig user, HealthConfig image) {
        if (user == null) {
            return image;
        }
        if (image == null) {
            return user;
        }
        HealthConfig h = new HealthConfig();
        h.test = new ArrayList<>(user.test.isEmpty() ? image.test : user.test);
        h.interval = user.interval != 0 ? user.interval : image.interval;
        h.timeout = user.timeout != 0 ? user.timeout : image.timeout;
        h.startPeriod = user.startPeriod != 0 ? user.startPeriod : image.startPeriod;
        h.startInterval = user.startInterval != 0 ? user.startInterval : image.startInterval;
        h.retries = user.retries != 0 ? user.retries : image.retries;
        return h;
    }

    /** dockerd's checks of a container's healthcheck (its words). */
    public void validate() throws RuntimeError {
        check(interval, "Interval");
        check(timeout, "Timeout");
        check(startPeriod, "StartPeriod");
        check(startInterval, "StartInterval");
        if (retries < 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "Retries in Healthcheck cannot be negative");
        }
        if (!test.isEmpty() && !List.of("NONE", "CMD", "CMD-SHELL").contains(test.get(0))) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "Healthcheck Test must start with NONE, CMD or"
                    + " CMD-SHELL, not " + test.get(0));
        }
        if (!test.isEmpty() && !test.get(0).equals("NONE") && test.size() < 2) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "Healthcheck " + test.get(0) + " needs a command");
        }
    }

    private static void check(long ns, String what) throws RuntimeError {
        if (ns != 0 && ns < 1_000_000) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, what + " in Healthcheck cannot be less than 1ms");
        }
    }

    /** No check runs: none given, or NONE. */
    @JsonIgnore
    public boolean disabled() {
        return test.isEmpty() || test.get(0).equals("NONE");
    }

    /** The command to exec in the container: CMD-SHELL through /bin/sh -c. */
    @JsonIgnore
    public List<String> command() {
        return test.get(0).equals("CMD-SHELL") ? List.of("/bin/sh", "-c", test.get(1)) : test.subList(1, test.size());
    }

    long intervalOrDefault() {
        return interval > 0 ? interval : DEFAULT_INTERVAL;
    }

    long timeoutOrDefault() {
        return timeout > 0 ? timeout : DEFAULT_TIMEOUT;
    }

    long startIntervalOrDefault() {
        return startInterval > 0 ? startInterval : DEFAULT_START_INTERVAL;
    }

    int retriesOrDefault() {
        return retries > 0 ? retries : DEFAULT_RETRIES;
    }

    /** Go's Duration.String: 30s, 1m30s, 1.5s, 500ms. */
    static String format(long ns) {
        if (ns < SECOND) {
            return ns % 1_000_000 == 0 ? ns / 1_000_000 + "ms" : ns + "ns";
        }
        StringBuilder b = new StringBuilder();
        long h = ns / (3600 * SECOND), m = ns / (60 * SECOND) % 60;
        if (h > 0) {
            b.append(h).append('h');
        }
        if (h > 0 || m > 0) {
            b.append(m).append('m');
        }
        java.math.BigDecimal s = java.math.BigDecimal.valueOf(ns % (60 * SECOND), 9).stripTrailingZeros();
        return b.append(s.scale() < 0 ? s.setScale(0).toPlainString() : s.toPlainString()).append('s').toString();
    }

    private static final java.util.regex.Pattern DURATION_PART =
            java.util.regex.Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    /** A flag's duration as Go's time.ParseDuration takes it (30s, 1m30s, 1.5s, 0) in ns; null: 0. */
    public static long duration(String flag, String v) throws RuntimeError {
        if (v == null || v.equals("0")) {
            return 0;
        }
        String s = v.startsWith("-") || v.startsWith("+") ? v.substring(1) : v;
        java.util.regex.Matcher m = DURATION_PART.matcher(s);
        java.math.BigDecimal total = java.math.BigDecimal.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> SECOND;
                case "m" -> 60 * SECOND;
                default -> 3600 * SECOND;
            };
            total = total.add(new java.math.BigDecimal(m.group(1)).multiply(java.math.BigDecimal.valueOf(unit)));
            end = m.end();
        }
        if (end == 0 || end != s.length()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid argument \"" + v + "\" for \"" + flag
                    + "\" flag: time: invalid duration \"" + v + "\"");
        }
        if (v.startsWith("-") && total.signum() != 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + " cannot be negative");
        }
        return total.longValue();
    }
}
