package dev.hull.runtime.spec;

/**
 * A bundle configuration (or other OCI document) is invalid. The message has the form
 * {@code "<source>: <field.path>: <problem>"}, e.g.
 * {@code "config.json: process.args: must be a non-empty array of strings"}.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
