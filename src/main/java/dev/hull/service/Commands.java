package dev.hull.service;

/**
 * What the service runs: the command lines of {@code hull} and {@code hull-runtime}. The service
 * knows the protocol, the client's descriptors, credentials and lifetime; the front door (the
 * CLI layer) knows the commands and hands an implementation to {@link WarmServer#serve}.
 */
public interface Commands {

    /** Whether request must run in a process of its own (the client then starts a JVM for it). */
    boolean needsOwnProcess(Request request);

    /**
     * Runs one request for its client and returns the exit code. It runs with the client's
     * environment and cwd ({@link dev.hull.runtime.Caller}) and System.in/out/err on the client's
     * descriptors ({@link Stdio}); session has the same streams for command lines that take them.
     */
    int run(Request request, Session session) throws Exception;
}
