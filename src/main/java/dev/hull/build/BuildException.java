package dev.hull.build;

/** A build that cannot go on; the message names the Dockerfile line (file:line) where it has one. */
public final class BuildException extends Exception {
    public BuildException(String message) {
        super(message);
    }

    public BuildException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "Dockerfile:12: message". */
    static BuildException at(String file, int line, String message) {
        return new BuildException(file + ":" + line + ": " + message);
    }
}
