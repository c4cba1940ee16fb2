package dev.hull.runtime;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.FdPassing;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.UnixSocket;
import dev.hull.linux.seccomp.SeccompCompiler;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.Process;
import dev.hull.runtime.spec.Spec;
import dev.hull.runtime.spec.State;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Seccomp user notification (SCMP_ACT_NOTIFY with {@code linux.seccomp.listenerPath}), the Java side.
 *
 * <p>The init loads the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER (op 61) and sends the listener fd
 * to Java on a socketpair, the executor's extra fd after the console and hook-state sockets. A
 * thread here receives it as soon as it comes, connects to {@code listenerPath} and sends the
 * runtime spec's <em>container process state</em> ({@code ociVersion}, {@code fds: ["seccompFd"]},
 * {@code pid}, {@code metadata} = listenerMetadata, {@code state}) with the fd attached (SCM_RIGHTS),
 * as runc does. It runs beside the create/exec handshake, because the init goes on under the filter
 * and a notified syscall before {@code ready} waits for the listener; the main thread collects the
 * result before COMMIT ({@link #finish}), so a create whose listener cannot be reached fails, naming
 * the field, and leaves nothing behind. The notified syscalls of the init meanwhile wait in the
 * kernel; if Java drops the fd they fail with ENOSYS (the listener is gone).
 */
final class SeccompNotify implements AutoCloseable {
    /** The name of the passed fd in the container process state (runtime spec). */
    static final String SECCOMP_FD_NAME = "seccompFd";
    private static final SeccompNotify NONE = new SeccompNotify(null, -1, -1);

    private final SeccompCompiler.Filter filter;
    private int ours, theirs;
    private Thread thread;
    private volatile RuntimeError error;

    private SeccompNotify(SeccompCompiler.Filter filter, int ours, int theirs) {
        this.filter = filter;
        this.ours = ours;
        this.theirs = theirs;
    }

    /**
     * The executor fd the init sends the listener fd on: after the ones {@link ProcessControl.Channels}
     * hands over (console, then hook state for a create).
     */
    static int executorFd(Spec spec, Process proc, boolean create, int preserveFds) {
        // after the console and hook-state sockets and the --preserve-fds ones (see executorFds)
        return ProcessControl.FIRST_EXTRA_FD + (proc.terminal() ? 1 : 0)
                + (create && ProcessControl.hooksInInit(spec) ? 1 : 0) + preserveFds;
    }

    /** The socketpair for a filter that notifies; a no-op object otherwise. */
    static SeccompNotify open(Spec spec) throws RuntimeError, LinuxException {
        SeccompCompiler.Filter f;
        try {
            f = PlanSeccomp.compile(spec);
        } catch (ConfigException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
        if (f == null || !f.notifies()) {
            return NONE;
        }
        int[] p = Syscalls.socketpair();
        return new SeccompNotify(f, p[0], p[1]);
    }

    /** fds with the executor's end appended (its number is {@link #executorFd}). */
    int[] executorFds(int[] fds) {
        if (theirs < 0) {
            return fds;
        }
        int[] out = Arrays.copyOf(fds, fds.length + 1);
        out[fds.length] = theirs;
        return out;
    }

    /** Once the executor runs: its copy is its own. */
    void spawned() {
        ProcessControl.closeQuietly(theirs);
        theirs = -1;
    }

    /** Before GO: waits (on a thread) for the listener fd, then sends it with pid and state to listenerPath. */
    void start(int pid, State state) {
        if (ours < 0) {
            return;
        }
        int sock = ours;
        thread = Thread.ofPlatform().daemon().name("hull-seccomp-notify").start(() -> forward(sock, pid, state));
    }

    private void forward(int sock, int pid, State state) {
        int fd;
        try {
            UnixSocket.Message m = UnixSocket.receive(sock, 64, 1);
            if (m.fds().length != 1) {
                return; // the init ended (or create was abandoned) before loading the filter: its error says why
            }
            fd = m.fds()[0];
        } catch (LinuxException e) {
            error = fail("receiving the listener fd from the container init: " + e.getMessage());
            return;
        }
        try {
            send(filter.listenerPath(), fd, payload(pid, filter.listenerMetadata(), state));
        } catch (LinuxException e) {
            error = fail(e.getMessage());
        } finally {
            Syscalls.close(fd);
        }
    }

    private RuntimeError fail(String why) {
        return new RuntimeError(RuntimeError.Kind.FAILED, "config.json: linux.seccomp.listenerPath "
                + filter.listenerPath() + ": cannot hand the seccomp listener fd over (SCMP_ACT_NOTIFY): " + why);
    }

    /** The container process state of the runtime spec. */
    static byte[] payload(int pid, String metadata, State state) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("ociVersion", ContainerRuntime.OCI_VERSION);
        n.putArray("fds").add(SECCOMP_FD_NAME);
        n.put("pid", pid);
        if (metadata != null && !metadata.isEmpty()) {
            n.put("metadata", metadata);
        }
        n.set("state", state.toJson());
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Connects to the listener's socket and sends payload with fd attached. */
    static void send(String path, int fd, byte[] payload) throws LinuxException {
        int s = FdPassing.connect(path);
        try {
            FdPassing.sendFd(s, fd, payload);
        } finally {
            Syscalls.close(s);
        }
    }

    /**
     * After READY, or when the creation failed: waits for the thread (the init has sent the fd by
     * READY; otherwise the shutdown ends its wait) and throws what went wrong in handing it over.
     */
    void finish() throws RuntimeError {
        if (thread == null) {
            return;
        }
        UnixSocket.shutdown(ours); // a queued message is still received
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        thread = null;
        RuntimeError e = error;
        if (e != null) {
            throw e;
        }
    }

    /** As {@link #finish}, for the failure path: a hand-over error is the likelier cause, so it wins. */
    void rethrowInstead(Exception cause) throws RuntimeError {
        try {
            finish();
        } catch (RuntimeError e) {
            e.addSuppressed(cause);
            throw e;
        }
    }

    @Override
    public void close() {
        if (thread != null) {
            try {
                finish();
            } catch (RuntimeError ignored) {
                // reported by the caller's own path, or irrelevant once creation failed
            }
        }
        ProcessControl.closeQuietly(ours);
        ProcessControl.closeQuietly(theirs);
        ours = theirs = -1;
    }
}
