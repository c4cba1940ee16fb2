package dev.hull.linux;

import java.io.IOException;

/** A failed system call: names the call, its arguments and the errno. */
public final class LinuxException extends IOException {
    private final int errno;
    private final String call;

    public LinuxException(String call, int errno) {
        super(call + ": " + Errno.describe(errno));
        this.errno = errno;
        this.call = call;
    }

    public int errno() {
        return errno;
    }

    public String call() {
        return call;
    }
}
