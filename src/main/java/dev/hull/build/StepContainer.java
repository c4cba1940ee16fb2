package dev.hull.build;

import dev.hull.build.Dockerfile.Instruction;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One RUN step's container: made by the engine from the step's state (same runtime, seccomp and
 * network defaults as {@code hull run}), started with the build's output (or a log, with -q, whose
 * tail a failure shows), killed when the build is interrupted, and always removed (once its layer is
 * stored, in the background: the build goes on meanwhile, and waits for it before it ends). Its layer
 * is the overlay's upper directory after the command, as a deterministic tar ({@link UpperDiff}).
 */
final class StepContainer {
    private StepContainer() {}

    /** Runs o (its image: s's state) and returns the layer it made; describe names the command in errors. */
    static LayerTar.Stored run(BuildSession b, Stage s, Instruction in, CreateOptions o, String describe)
            throws BuildException, IOException, RuntimeError {
        b.states.put(s.id, s.record(List.of(), null));
        o.image = s.id;
        o.labels.put("dev.hull.build", "step");
        o.labels.put(BuildDebris.LABEL, BuildDebris.owner()); // a build killed with -9: the next one removes it
        o.logOpts.put("max-size", "-1");
        o.noImageVolumes = true; // a RUN's writes under a VOLUME go into the layer, not into a volume
        ContainerInfo info;
        try {
            info = b.engine.create(o);
        } catch (RuntimeError e) {
            throw in.error("RUN: the step's container could not be made: " + e.getMessage());
        }
        b.liveContainers.add(info.id());
        Path log = null;
        int devnull = -1;
        int logFd = -1;
        BuildProgress.RunOutput output = null;
        boolean done = false;
        try {
            if (!"overlay".equals(info.snapshotter())) {
                throw in.error("RUN needs overlayfs (the " + info.snapshotter()
                        + " snapshotter is not supported by hull build yet)");
            }
            devnull = Syscalls.open("/dev/null", Syscalls.O_RDONLY, 0);
            int[] stdio;
            if (b.req.quiet) {
                log = Files.createTempFile(b.tmp, "run-", ".log");
                logFd = Syscalls.open(log.toString(), Syscalls.O_WRONLY, 0);
                stdio = new int[] {devnull, logFd, logFd};
            } else {
                int[] base = b.req.stdio != null ? b.req.stdio : new int[] {0, 1, 2};
                output = b.runOutput(s, new int[] {devnull, base[1], base[2]});
                stdio = output.stdio();
            }
            int code = start(b.engine, info.id(), stdio);
            if (output != null) {
                output.close(); // its last lines come before the step's error or result
            }
            if (code != 0) {
                String tail = "";
                if (log != null) {
                    List<String> lines = Files.readAllLines(log);
                    tail = "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
                }
                throw in.error("RUN failed (step " + b.position(s) + "): the command '" + describe
                        + "' returned a non-zero code: " + code + tail);
            }
            Path dir = b.engine.containers().dir(info.id());
            LayerTar tar = UpperDiff.read(dir.resolve("upper"), dir.resolve("config.json"), b.unpack(s));
            LayerTar.Stored layer = tar.store(b.content, b.tmp, b.epoch);
            done = true;
            return layer;
        } finally {
            if (output != null) {
                output.close();
            }
            if (devnull >= 0) {
                Syscalls.close(devnull);
            }
            if (logFd >= 0) {
                Syscalls.close(logFd);
            }
            if (done && !Thread.currentThread().isInterrupted()) {
                b.removeLater(info.id()); // its layer is stored: the next step need not wait for its removal
            } else {
                boolean interrupted = Thread.interrupted(); // file locks (interruptible channels) must work here
                try {
                    b.engine.remove(info.id(), true);
                } finally {
                    b.liveContainers.remove(info.id());
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
    }

    /**
     * Starts the container and waits for its exit code. Hull's service interrupts a command's
     * thread when its client gets Ctrl-C (the cold path's JVM runs the shutdown hook instead): the
     * container is killed then, and the build ends as interrupted.
     */
    private static int start(Engine engine, String id, int[] stdio)
            throws BuildException, IOException, RuntimeError {
        Thread caller = Thread.currentThread();
        AtomicBoolean over = new AtomicBoolean();
        AtomicBoolean cancelled = new AtomicBoolean();
        Thread watch = Thread.ofPlatform().daemon().name("hull-build-watch").start(() -> {
            while (!over.get()) {
                if (caller.isInterrupted()) {
                    cancelled.set(true);
                    try {
                        engine.kill(id, "KILL");
                    } catch (Exception ignored) {
                        // it ended meanwhile
                    }
                    return;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        int code;
        try {
            code = engine.start(id, new Engine.Attach(stdio, pid -> { }));
        } finally {
            over.set(true);
            watch.interrupt();
        }
        if (cancelled.get() || caller.isInterrupted()) {
            throw new BuildException("interrupted");
        }
        return code;
    }
}
