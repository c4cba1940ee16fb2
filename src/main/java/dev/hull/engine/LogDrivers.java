package dev.hull.engine;

import dev.hull.runtime.RuntimeError;

/** docker's --log-driver and --log-opt, checked and turned into the monitor's rotation limits. */
final class LogDrivers {
    private LogDrivers() {}

    /** The most json-file logs a container keeps (the monitor renames each one at every rotation). */
    static final int MAX_LOG_FILES = 1000;

    /**
     * --log-driver, and --log-opt max-size=SIZE (k, m, g; -1: no rotation), max-file=N: {max bytes (0
     * none), files}.
     */
    static long[] limits(CreateOptions o) throws RuntimeError {
        long size = 0;
        long files = 1;
        switch (o.logDriverName()) {
            case "json-file", "local" -> { }
            case "none" -> {
                if (!o.logOpts.isEmpty()) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt " + o.logOpts.keySet().iterator()
                            .next() + ": the none log driver takes no options");
                }
                return new long[] {size, files};
            }
            default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-driver " + o.logDriver
                    + ": Hull logs with json-file (the default), local or none");
        }
        for (var e : o.logOpts.entrySet()) {
            switch (e.getKey()) {
                case "max-size" -> {
                    if (!e.getValue().trim().equals("-1")) { // docker's "unlimited": size stays 0
                        size = Engine.parseSize(e.getValue(), "--log-opt max-size");
                        if (size <= 0) {
                            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt max-size must be above 0"
                                    + " (-1: no rotation)");
                        }
                    }
                }
                case "max-file" -> {
                    try {
                        files = Long.parseLong(e.getValue());
                    } catch (NumberFormatException x) {
                        files = 0;
                    }
                    if (files < 1 || files > MAX_LOG_FILES) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt max-file=" + e.getValue()
                                + ": a number from 1 to " + MAX_LOG_FILES);
                    }
                }
                default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt " + e.getKey()
                        + ": the json-file log takes max-size and max-file");
            }
        }
        if (files > 1 && size == 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-opt max-file needs max-size");
        }
        return new long[] {size, files};
    }
}
