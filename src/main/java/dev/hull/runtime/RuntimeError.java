package dev.hull.runtime;

/** An error the user can act on; the kind maps to the CLI's exit code. */
public final class RuntimeError extends Exception {
    public enum Kind { BAD_INPUT, NOT_FOUND, EXISTS, WRONG_STATE, PERMISSION, FAILED }

    private final Kind kind;

    public RuntimeError(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public RuntimeError(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
