package dev.hull.runtime.executor;

import java.io.IOException;

/** The executor could not carry out the plan; the message is the executor's. */
public final class ExecutorException extends IOException {
    public ExecutorException(String message) {
        super(message);
    }
}
