package dev.hull.image.registry;

import java.io.IOException;

/** A registry said no, or could not be talked to; the message says which registry and why. */
public class RegistryException extends IOException {
    private final int status;

    public RegistryException(String message) {
        this(message, 0, null);
    }

    public RegistryException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status that caused this, 0 if none (a connection or TLS failure). */
    public int status() {
        return status;
    }
}
