package dev.hull.service.docker;

import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerLogs;
import dev.hull.engine.Engine;
import dev.hull.runtime.DetachKeys;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * POST /containers/{id}/attach, as dockerd answers it (a hijacked connection): before the start it
 * waits for it (docker run, docker start -a); to a running container with stdin it joins the
 * container through its monitor's attach.sock, as {@code hull attach} does — socket pairs stand
 * for the client's stdio, their other ends pumped to and from the connection, the detach keys
 * ({@code detachKeys}, default ctrl-p,ctrl-q) leave it running; without stdin it follows the log.
 * {@code logs=1} replays the log first.
 */
final class AttachApi {
    private final Map<String, Hijack.Bridge> pendingAttach;

    AttachApi(Map<String, Hijack.Bridge> pendingAttach) {
        this.pendingAttach = pendingAttach;
    }

    void attach(Exchange x, String ref) throws Exception {
        Engine e = Engine.defaults();
        ContainerInfo c = Containers.info(e, ref);
        boolean tty = c.options() != null && c.options().tty;
        boolean stdin = x.flag("stdin") && c.options() != null && c.options().interactive;
        boolean stdout = x.flag("stdout");
        boolean stderr = x.flag("stderr");
        boolean logs = x.flag("logs");
        boolean stream = x.param("stream") == null || x.flag("stream");
        String keys;
        try {
            String text = x.param("detachKeys");
            keys = DetachKeys.parse(text == null || text.isEmpty() ? DetachKeys.DEFAULT : text);
        } catch (RuntimeError err) {
            throw ApiError.badRequest("Invalid detach keys (" + x.param("detachKeys") + ") provided: "
                    + err.getMessage());
        }
        Engine.State s = e.state(c);
        if (s.status().equals("paused")) {
            throw ApiError.conflict("You cannot attach to a paused container, unpause it first");
        }
        if (!stream) { // the log only, no live stream (dockerd: stream=0)
            Hijack.upgrade(x, tty, logSession(e, c, tty, stdout, stderr, logs, false));
            return;
        }
        if (s.running()) {
            if (!stdin) {
                Hijack.upgrade(x, tty, logSession(e, c, tty, stdout, stderr, logs, true));
            } else {
                joinMonitor(x, e, c, tty, stdout, stderr, logs, keys);
            }
            return;
        }
        // The docker CLI keeps the detach keys it reads to itself and closes its connection; dockerd lets a
        // terminal's attachment go when its stdin ends, and so does this side: it types the keys for it.
        Hijack.Bridge b = tty && stdin ? new Hijack.Bridge(true, true, stdout, stderr) {
            private boolean typed;

            @Override
            public synchronized void inputClosed() {
                if (started && !typed) {
                    typed = true;
                    input(java.nio.ByteBuffer.wrap(keys.getBytes(StandardCharsets.ISO_8859_1)));
                }
                super.inputClosed();
            }
        } : new Hijack.Bridge(tty, stdin, stdout, stderr);
        b.detachKeys = keys;
        if (logs) {
            b.prelude = raw -> replay(raw, e, c, tty, stdout, stderr, new ContainerLogs.Query(-1, null, null,
                    false, false));
        }
        Hijack.Bridge old = pendingAttach.put(c.id(), b);
        if (old != null) {
            old.abandon();
        }
        b.onClientGone(() -> {
            if (pendingAttach.remove(c.id(), b)) {
                b.abandon();
            }
        });
        Hijack.upgrade(x, tty, b);
    }

    /** The running container's monitor takes socket pairs for the client's stdio; this side pumps them. */
    private static void joinMonitor(Exchange x, Engine e, ContainerInfo c, boolean tty, boolean stdout,
            boolean stderr, boolean logs, String keys) throws Exception {
        Thread[] attaching = new Thread[1];
        boolean[] left = new boolean[1];
        Runnable leave = () -> { // the connection to the monitor closes: it lets our descriptors go
            synchronized (attaching) {
                left[0] = true;
                if (attaching[0] != null) {
                    attaching[0].interrupt();
                }
            }
        };
        // The client's stdin ends (its half-close): dockerd ends such an attachment (the container runs
        // on, its stdin open for the next one); what the container wrote until then still comes.
        Hijack.Bridge b = new Hijack.Bridge(tty, true, stdout, stderr) {
            @Override
            public void inputClosed() {
                super.inputClosed();
                leave.run();
            }
        };
        String id = c.id();
        b.prelude = raw -> {
            if (logs) {
                replay(raw, e, c, tty, stdout, stderr, new ContainerLogs.Query(-1, null, null, false, false));
            }
            synchronized (attaching) {
                attaching[0] = Thread.ofPlatform().daemon().name("hull-api-attach-" + c.shortId()).start(() -> {
                    int code = -1;
                    try {
                        code = Engine.defaults().attach(id, new Engine.Attach(b.theirs, null, keys), true);
                    } catch (RuntimeError err) {
                        b.say("Error: " + err.getMessage() + "\n");
                    } catch (IOException | RuntimeException err) {
                        b.say("Error: " + err + "\n");
                        DockerApiServer.log("attach " + id + ": " + err);
                    } finally {
                        // the monitor let our descriptors go (detached, ended): the pumps end at the
                        // end of what it wrote, and the connection with them
                        b.releaseTheirs();
                        b.exited(code);
                    }
                });
                if (left[0]) {
                    attaching[0].interrupt();
                }
            }
        };
        b.onClientGone(b::inputClosed);
        Hijack.upgrade(x, tty, b);
    }

    /** The log as a session: replayed (logs=1), then followed while the container runs (follow). */
    private static Hijack.Session logSession(Engine e, ContainerInfo c, boolean tty, boolean stdout, boolean stderr,
            boolean logs, boolean follow) {
        return new Hijack.Session() {
            @Override
            public void opened(Hijack.Stream raw) {
                Thread.ofPlatform().daemon().name("hull-api-attach-" + c.shortId()).start(() -> {
                    try {
                        if (logs) {
                            replay(raw, e, c, tty, stdout, stderr, new ContainerLogs.Query(-1, null, null, false,
                                    false));
                        }
                        if (follow) {
                            // its output from now on: the log's end, followed
                            replay(raw, e, c, tty, stdout, stderr, new ContainerLogs.Query(0, null, null, false,
                                    true));
                        }
                    } finally {
                        raw.finish();
                    }
                });
            }

            @Override
            public void input(java.nio.ByteBuffer data) {}

            @Override
            public void inputClosed() {}
        };
    }

    /** Writes the log the query selects on raw (framed without a terminal). */
    private static void replay(Hijack.Stream raw, Engine e, ContainerInfo c, boolean tty, boolean stdout,
            boolean stderr, ContainerLogs.Query q) {
        Frames out = new Frames(raw::write, tty ? 0 : 1);
        Frames err = new Frames(raw::write, tty ? 0 : 2);
        try (PrintStream o = new PrintStream(stdout ? out : OutputStream.nullOutputStream(), false,
                StandardCharsets.UTF_8);
                PrintStream er = new PrintStream(stderr ? err : OutputStream.nullOutputStream(), false,
                        StandardCharsets.UTF_8)) {
            ContainerLogs.print(e.containers().logFile(c.id()), q, o, er,
                    () -> !out.failed && !err.failed && running(e, c));
        } catch (IOException ignored) {
            // the client went away
        }
    }

    static boolean running(Engine e, ContainerInfo c) {
        try {
            return e.state(c).running();
        } catch (IOException ex) {
            return false;
        }
    }
}
