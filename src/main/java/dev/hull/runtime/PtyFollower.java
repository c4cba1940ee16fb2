package dev.hull.runtime;

import dev.hull.linux.FdPassing;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;

/**
 * A container's pty that a monitor holds (hull run -it) takes its caller's window size: once before the
 * container's process starts, then at every resize of the caller's terminal (this process's SIGWINCH, or the
 * service's client's, relayed through {@link WindowChanges}). The pty is reached through the init's stdin
 * (/proc/PID/fd/0, its slave side): setting its size there signals the container's foreground processes.
 */
final class PtyFollower implements AutoCloseable {
    private final int callerFd;
    private final int pid;
    private final Runnable resize = this::copySize;
    private WindowChanges changes;
    private boolean handlesSignal;

    private PtyFollower(int callerFd, int pid) {
        this.callerFd = callerFd;
        this.pid = pid;
    }

    /** callerFd: the caller's terminal (its stdin); ownTerminal: it is this process's own (SIGWINCH comes here). */
    static PtyFollower follow(int callerFd, boolean ownTerminal, int pid) {
        PtyFollower f = new PtyFollower(callerFd, pid);
        f.copySize();
        if (!ownTerminal) {
            f.changes = WindowChanges.current();
            if (f.changes != null) {
                f.changes.add(f.resize);
            }
        } else {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sig -> f.copySize());
                f.handlesSignal = true;
            } catch (IllegalArgumentException ignored) {
                // no SIGWINCH for us
            }
            f.copySize(); // a resize since the first copy sent a SIGWINCH nobody heard
        }
        return f;
    }

    private void copySize() {
        int[] size;
        try {
            size = FdPassing.windowSize(callerFd);
        } catch (LinuxException e) {
            return; // the caller has no terminal: the pty keeps its consoleSize
        }
        if (size[0] <= 0 || size[1] <= 0) {
            return;
        }
        int pty;
        try {
            pty = Syscalls.open("/proc/" + pid + "/fd/0", Syscalls.O_RDWR | Syscalls.O_NOCTTY | Syscalls.O_CLOEXEC, 0);
        } catch (LinuxException e) {
            return; // the container ended
        }
        try {
            FdPassing.setWindowSize(pty, size[0], size[1]);
        } catch (LinuxException e) {
            // its stdin is no terminal any more
        } finally {
            Syscalls.close(pty);
        }
    }

    @Override
    public void close() {
        if (changes != null) {
            changes.remove(resize);
        }
        if (handlesSignal) { // the pid may be another process's soon
            sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sun.misc.SignalHandler.SIG_DFL);
        }
    }
}
