package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.Engine;
import dev.hull.engine.EventLog;
import dev.hull.runtime.DetachKeys;
import dev.hull.runtime.RuntimeError;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exec instances: POST /containers/{id}/exec makes one, /exec/{id}/start runs it (hijacked, or
 * detached), /exec/{id}/json tells its state and exit code, /exec/{id}/resize sizes its terminal.
 */
final class Execs {
    private final Map<String, ExecRecord> execs = new ConcurrentHashMap<>();

    /** An exec instance: made by POST /containers/ID/exec, run by POST /exec/ID/start. */
    static final class ExecRecord {
        final String id;
        final String containerId;
        final List<String> cmd;
        final List<String> env;
        final String user;
        final String workdir;
        final boolean tty;
        final boolean stdin;
        final boolean stdout;
        final boolean stderr;
        final boolean privileged;
        /** The detach keys' bytes for a terminal with stdin (DetachKeys, default ctrl-p,ctrl-q); else null. */
        final String detachKeys;
        volatile boolean running;
        /** The client detached (the keys): the process runs on, unwatched; its pid tells whether it still does. */
        volatile boolean detached;
        volatile boolean started;
        volatile Integer exitCode;
        volatile int pid;

        ExecRecord(String id, String containerId, JsonNode b) throws ApiError {
            this.id = id;
            this.containerId = containerId;
            this.cmd = CreateTranslation.strings(b.path("Cmd"), "Cmd");
            this.env = CreateTranslation.strings(b.path("Env"), "Env");
            this.user = CreateTranslation.text(b, "User");
            this.workdir = CreateTranslation.text(b, "WorkingDir");
            this.tty = b.path("Tty").asBoolean();
            this.stdin = b.path("AttachStdin").asBoolean();
            this.stdout = b.path("AttachStdout").asBoolean();
            this.stderr = b.path("AttachStderr").asBoolean();
            this.privileged = b.path("Privileged").asBoolean();
            if (cmd.isEmpty()) {
                throw ApiError.badRequest("No exec command specified");
            }
            String keys = CreateTranslation.text(b, "DetachKeys");
            try {
                String parsed = DetachKeys.parse(keys == null || keys.isEmpty() ? DetachKeys.DEFAULT : keys);
                this.detachKeys = tty && stdin ? parsed : null;
            } catch (RuntimeError err) {
                throw ApiError.badRequest("Invalid escape keys (" + keys + ") provided");
            }
        }

        /** Running as exec inspect tells it: a detached process runs while its pid does. */
        boolean running() {
            if (detached) {
                return pid > 0 && java.nio.file.Files.exists(java.nio.file.Path.of("/proc/" + pid));
            }
            return running;
        }
    }

    void create(Exchange x, String ref) throws Exception {
        JsonNode b = x.body();
        Engine e = Engine.defaults();
        ContainerInfo c = Containers.info(e, ref);
        Engine.State s = e.state(c);
        if (!s.status().equals("running")) {
            throw ApiError.conflict("container " + c.id() + " is not running");
        }
        byte[] rnd = new byte[32];
        new java.security.SecureRandom().nextBytes(rnd);
        String id = java.util.HexFormat.of().formatHex(rnd);
        ExecRecord rec = new ExecRecord(id, c.id(), b);
        execs.put(id, rec);
        e.events().exec(EventLog.execAction("exec_create", rec.cmd), c, id, null);
        ObjectNode r = Exchange.JSON.createObjectNode();
        r.put("Id", id);
        x.json(201, r);
    }

    boolean route(Exchange x) throws Exception {
        if (x.path.size() != 3) {
            return false;
        }
        ExecRecord r = execs.get(x.seg(1));
        if (r == null) {
            throw ApiError.notFound("No such exec instance: " + x.seg(1));
        }
        switch (x.method + " " + x.seg(2)) {
            case "GET json" -> x.json(200, execInspect(r));
            case "POST start" -> execStart(x, r);
            case "POST resize" -> {
                if (!r.running || r.pid <= 0) {
                    throw ApiError.conflict("exec " + r.id + " is not running");
                }
                Containers.resize(r.pid, x);
                x.empty(200);
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static ObjectNode execInspect(ExecRecord r) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("ID", r.id);
        n.put("Running", r.running());
        if (r.exitCode == null) {
            n.putNull("ExitCode");
        } else {
            n.put("ExitCode", r.exitCode);
        }
        ObjectNode pc = n.putObject("ProcessConfig");
        pc.put("tty", r.tty);
        pc.put("entrypoint", r.cmd.getFirst());
        ArrayNode args = pc.putArray("arguments");
        r.cmd.stream().skip(1).forEach(args::add);
        pc.put("privileged", r.privileged);
        pc.put("user", r.user == null ? "" : r.user);
        n.put("OpenStdin", r.stdin);
        n.put("OpenStderr", r.stderr);
        n.put("OpenStdout", r.stdout);
        n.put("CanRemove", false);
        n.put("ContainerID", r.containerId);
        // dockerd's is a []byte: base64 in JSON
        n.put("DetachKeys", r.detachKeys == null ? "" : java.util.Base64.getEncoder().encodeToString(
                r.detachKeys.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
        n.put("Pid", r.pid);
        return n;
    }

    private void execStart(Exchange x, ExecRecord r) throws Exception {
        JsonNode b = x.body();
        boolean detach = b.path("Detach").asBoolean();
        synchronized (r) {
            if (r.started) {
                throw ApiError.conflict("Error: Exec command " + r.id + " has already run");
            }
            r.started = true;
        }
        Engine e = Engine.defaults();
        ContainerInfo c = Containers.info(e, r.containerId);
        if (!e.state(c).status().equals("running")) {
            throw ApiError.conflict("container " + c.id() + " is not running");
        }
        e.events().exec(EventLog.execAction("exec_start", r.cmd), c, r.id, null);
        if (detach) {
            // As dockerd (whose shim waits for it): the service waits for the detached process, every
            // stdio /dev/null, to give exec inspect its exit code and the events their exec_die.
            runExec(r, Hijack.Bridge.discarding());
            x.empty(200);
            return;
        }
        // The docker CLI keeps the detach keys it reads to itself and closes its connection: for a terminal
        // with stdin, this side types the keys then, so the process runs on (as dockerd's does) instead of
        // being hung up.
        Hijack.Bridge bridge = new Hijack.Bridge(r.tty, r.stdin, r.stdout, r.stderr) {
            private boolean typed;

            @Override
            public void opened(Hijack.Stream connection) {
                super.opened(connection);
                runExec(r, this);
            }

            @Override
            public void inputClosed() {
                synchronized (this) {
                    if (r.detachKeys != null && r.running && !typed) {
                        typed = true;
                        input(java.nio.ByteBuffer.wrap(r.detachKeys.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
                    }
                }
                super.inputClosed();
            }

            @Override
            public void closed() {
                inputClosed();
                super.closed();
            }
        };
        Hijack.upgrade(x, r.tty, bridge);
    }

    private static void runExec(ExecRecord r, Hijack.Bridge bridge) {
        r.running = true;
        Thread.ofPlatform().daemon().name("hull-api-exec-" + r.id.substring(0, 12)).start(() -> {
            int code = 126;
            Engine e = Engine.defaults();
            try {
                code = e.exec(r.containerId, new Engine.ExecRequest(r.cmd, r.env, r.user, r.workdir, r.tty, r.stdin,
                        false, r.privileged, bridge.theirs, pid -> {
                            r.pid = pid;
                            if (!r.tty) { // the process has its copies; a terminal's relay (here) uses ours to the end
                                bridge.releaseTheirs();
                            }
                        }, r.detachKeys));
            } catch (Exception err) {
                String m = err.getMessage() == null ? err.toString() : err.getMessage();
                code = m.contains("executable file not found") || m.contains("no such file or directory") ? 127
                        : m.contains("permission denied") ? 126 : 126;
                // known before the client hears the end: it asks exec inspect for the code right after
                r.exitCode = code;
                r.running = false;
                bridge.say("OCI runtime exec failed: " + m + "\n");
                bridge.abandon();
            } finally {
                if (code == Engine.DETACHED) {
                    r.detached = true; // it runs on: no exit code yet
                } else {
                    r.exitCode = code;
                }
                r.running = false;
                try {
                    e.events().exec(code == Engine.DETACHED ? "exec_detach" : "exec_die",
                            Containers.info(e, r.containerId), r.id, code == Engine.DETACHED ? null : code);
                } catch (Exception gone) {
                    // the container was removed meanwhile: no event to give it
                }
                bridge.releaseTheirs();
                bridge.exited(code);
            }
        });
    }
}
