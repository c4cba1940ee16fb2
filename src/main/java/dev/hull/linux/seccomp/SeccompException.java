package dev.hull.linux.seccomp;

/**
 * A {@code linux.seccomp} object cannot be compiled. The message starts with the field path,
 * e.g. {@code linux.seccomp.syscalls[3].names[0]: unknown syscall "fooo" for x86_64, i386}.
 */
public final class SeccompException extends Exception {
    private static final long serialVersionUID = 1L;

    public SeccompException(String message) {
        super(message);
    }
}
