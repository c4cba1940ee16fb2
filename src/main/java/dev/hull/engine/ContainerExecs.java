package dev.hull.engine;

import dev.hull.image.ImageService;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code hull exec} for the {@link Engine}: a new process in a running container. */
final class ContainerExecs {
    private final Engine engine;
    private final ContainerStore containers;
    private final ImageService images;
    private final Path stateRoot;

    ContainerExecs(Engine engine) {
        this.engine = engine;
        this.containers = engine.containers();
        this.images = engine.images();
        this.stateRoot = engine.stateRoot();
    }

    private ContainerRecord requireRunning(ContainerInfo info) throws IOException, RuntimeError {
        return engine.requireRunning(info);
    }

    /** {@code hull exec}: a new process in the running container; its exit code (0 once running with detach). */
    int exec(String ref, Engine.ExecRequest r) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        ContainerRecord rec;
        try (ContainerStore.Locked locked = containers.lock(info)) {
            rec = requireRunning(locked.info());
        }
        if (r.args().isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "exec needs a command");
        }
        ContainerRuntime rt = new ContainerRuntime(stateRoot);
        int devNull = -1;
        try {
            int[] stdio = r.stdio();
            if (!r.interactive() && !r.tty()) {
                devNull = dev.hull.linux.Syscalls.open("/dev/null", dev.hull.linux.Syscalls.O_RDONLY
                        | dev.hull.linux.Syscalls.O_CLOEXEC, 0);
                stdio = new int[] {devNull, stdio == null ? 1 : stdio[1], stdio == null ? 2 : stdio[2]};
            }
            if (stdio != null) {
                rt.withStdio(stdio);
            }
            dev.hull.runtime.spec.Process base = dev.hull.runtime.ContainerExec.spec(rt, rec.id()).process();
            List<String> environment = new ArrayList<>(base.env());
            for (String e : r.env()) {
                String kv = e.contains("=") ? e : dev.hull.runtime.Caller.getenv(e) != null ? e + "=" + dev.hull.runtime.Caller.getenv(e) : null;
                if (kv == null) {
                    continue;
                }
                String key = kv.substring(0, kv.indexOf('=') + 1);
                environment.removeIf(x -> x.startsWith(key));
                environment.add(kv);
            }
            dev.hull.runtime.spec.User u = base.user();
            if (r.user() != null) {
                List<Path> layers = images.unpack(images.getOrBuildBuiltin(info.imageId()));
                ImageUser iu = ImageUser.resolve(r.user(), ImageService.readImageFile(layers, "etc/passwd"),
                        ImageService.readImageFile(layers, "etc/group"));
                u = new dev.hull.runtime.spec.User(iu.uid(), iu.gid(), u == null ? null : u.umask(),
                        iu.additionalGids(), null);
            }
            dev.hull.runtime.spec.Capabilities caps = base.capabilities();
            if (r.privileged()) {
                List<String> all = dev.hull.runtime.spec.CapabilityNames.NAMES;
                caps = new dev.hull.runtime.spec.Capabilities(all, all, List.of(), all, List.of());
            }
            dev.hull.runtime.spec.Process proc = new dev.hull.runtime.spec.Process(r.tty(),
                    r.tty() ? Engine.callerWindow(r.stdio(), base.consoleSize()) : null, u, r.args(), null, environment,
                    r.workdir() != null ? r.workdir() : base.cwd(), base.noNewPrivileges(), caps, base.rlimits(),
                    base.apparmorProfile(), base.oomScoreAdj(), base.selinuxLabel(), base.raw());
            // -it: docker's detach keys let the caller go, the process runs on (its terminal held by the monitor)
            String keys = r.tty() && r.interactive() ? r.detachKeys() : null;
            return dev.hull.runtime.ContainerExec.exec(rt, rec.id(), proc, r.detach(), null,
                    r.detach() ? null : r.onStarted(), keys, containers.dir(info.id()));
        } finally {
            if (devNull >= 0) {
                dev.hull.linux.Syscalls.close(devNull);
            }
        }
    }
}
