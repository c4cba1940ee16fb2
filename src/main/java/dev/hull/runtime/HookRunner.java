package dev.hull.runtime;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.spec.Hook;
import dev.hull.runtime.spec.State;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Runs one hook in the runtime's namespaces: {@code path} with {@code args} as its exact argv (argv[0]
 * may differ from path, as with execv) and {@code env} as its whole environment, the state JSON on
 * stdin; killed after {@code timeout} seconds.
 */
final class HookRunner {
    private static final int SIGKILL = 9;

    private HookRunner() {}

    static void run(String name, Hook hook, State state) throws RuntimeError {
        String what = "hook hooks." + name + " (" + hook.path() + ")";
        List<String> argv = hook.args().isEmpty() ? List.of(hook.path()) : hook.args();
        int[] in;
        int pid;
        try {
            in = Syscalls.socketpair();
        } catch (LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, what + ": " + e.getMessage());
        }
        try {
            try {
                pid = Syscalls.spawn(hook.path(), argv, hook.env(), new int[] {in[1]}, new int[] {0});
            } catch (LinuxException e) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, what + ": cannot run it: " + e.getMessage());
            }
            Syscalls.close(in[1]);
            in[1] = -1;
            try {
                Syscalls.writeFully(in[0], state.toJson().toString().getBytes(StandardCharsets.UTF_8));
            } catch (LinuxException e) {
                // the hook need not read its stdin (EPIPE)
            }
            Syscalls.close(in[0]);
            in[0] = -1;
            long deadline = hook.timeout() == null ? Long.MAX_VALUE
                    : System.nanoTime() + hook.timeout() * 1_000_000_000L;
            int status;
            try {
                for (;;) {
                    status = Syscalls.waitpid(pid, Syscalls.WNOHANG);
                    if (status != -1) {
                        break;
                    }
                    if (System.nanoTime() > deadline) {
                        Syscalls.kill(pid, SIGKILL);
                        Syscalls.waitpid(pid, 0);
                        throw new RuntimeError(RuntimeError.Kind.FAILED,
                                what + ": timed out after " + hook.timeout() + " s (killed)");
                    }
                    Thread.sleep(2);
                }
            } catch (LinuxException e) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, what + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                try {
                    Syscalls.kill(pid, SIGKILL);
                    Syscalls.waitpid(pid, 0);
                } catch (LinuxException ignored) {
                    // gone
                }
                throw new RuntimeError(RuntimeError.Kind.FAILED, what + ": interrupted");
            }
            int sig = status & 0x7f;
            if (sig != 0) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, what + ": killed by signal " + sig);
            }
            int code = (status >> 8) & 0xff;
            if (code != 0) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, what + ": exited with status " + code);
            }
        } finally {
            ProcessControl.closeQuietly(in[0]);
            ProcessControl.closeQuietly(in[1]);
        }
    }
}
