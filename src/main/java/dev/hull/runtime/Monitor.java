package dev.hull.runtime;

import java.nio.file.Path;
import java.util.List;

/**
 * A container that keeps a monitor (the executor, staying on as the init's parent): where it
 * records the status and the json-file log, and the restart policy it applies. Java decides
 * the policy; the monitor only carries it out.
 *
 * @param logFile      json-file log, or null for none
 * @param logMaxSize   rotate when the log would grow past this many bytes (0: never)
 * @param logMaxFiles  log files kept, the live one included
 * @param stopMarker   the user asked the container to stop when this file exists: no restart
 * @param stdinInherit the caller's stdin goes to the container (-i, attached): directly, or through the monitor
 *                     when it holds the container's stdin (a terminal, stdinPipe)
 * @param detachKeys   typed on a relayed terminal, these let the caller go (the container runs on); "" none
 * @param stdinPipe    the container's stdin is a pipe the monitor holds (-i without a terminal): what the
 *                     starting client and every later {@code hull attach} types goes there; the starting
 *                     client's stdin's end closes it (docker's StdinOnce)
 * @param onExit       argv the monitor execs once the container has ended for good (--rm), or empty
 * @param onEnd        argv the monitor execs once the container has ended for good by itself (no stop
 *                     was asked: nobody else is there to clean up after it), or empty; onExit wins
 * @param health       the healthcheck the monitor runs while the container runs, or null
 */
public record Monitor(Path statusFile, Path logFile, long logMaxSize, int logMaxFiles, RestartPolicy restart,
        Path stopMarker, boolean stdinInherit, String detachKeys, List<String> onExit, List<String> onEnd,
        boolean stdinPipe, Health health) {

    /**
     * argv the monitor runs (one at a time) while the init runs: an interval after each start and
     * after each run's end; startInterval instead within startPeriod of a start (0: none).
     */
    public record Health(long intervalMs, long startIntervalMs, long startPeriodMs, List<String> argv) {}

    /**
     * docker's restart policies: no, on-failure[:N], always, unless-stopped; and on-reboot (a machine's):
     * only when the init ended by reboot(2) in its pid namespace (killed by SIGHUP), as LXC restarts one.
     */
    public record RestartPolicy(String name, int maxRetries) {
        public static final RestartPolicy NO = new RestartPolicy("no", 0);

        public static RestartPolicy parse(String text) {
            if (text == null || text.isEmpty() || text.equals("no")) {
                return NO;
            }
            String[] p = text.split(":", 2);
            switch (p[0]) {
                case "always", "unless-stopped", "on-reboot" -> {
                    if (p.length > 1) {
                        throw new IllegalArgumentException("--restart " + text + ": a retry count only goes with"
                                + " on-failure");
                    }
                    return new RestartPolicy(p[0], 0);
                }
                case "on-failure" -> {
                    int n = 0;
                    if (p.length > 1) {
                        try {
                            n = Integer.parseInt(p[1]);
                        } catch (NumberFormatException e) {
                            n = -1;
                        }
                        if (n < 0) {
                            throw new IllegalArgumentException("--restart " + text + ": the retry count must be a"
                                    + " number >= 0");
                        }
                    }
                    return new RestartPolicy("on-failure", n);
                }
                default -> throw new IllegalArgumentException("--restart " + text
                        + ": use no, on-failure[:N], always or unless-stopped");
            }
        }

        /** The code the monitor understands: 0 no, 1 on-failure, 2 always, 3 unless-stopped, 4 on-reboot. */
        public int mode() {
            return switch (name) {
                case "on-failure" -> 1;
                case "always" -> 2;
                case "unless-stopped" -> 3;
                case "on-reboot" -> 4;
                default -> 0;
            };
        }

        @Override
        public String toString() {
            return name.equals("on-failure") && maxRetries > 0 ? name + ":" + maxRetries : name;
        }
    }
}
