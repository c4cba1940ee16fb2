package dev.hull.cli;

import dev.hull.engine.ContainerChanges;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.Engine;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code hull diff}: what a container changed in its file system, docker's lines (C, A, D and the path). */
@Command(name = "diff", mixinStandardHelpOptions = true, description = {
    "Show what a container changed in its file system: C (changed), A (added) or D (deleted) and the path.",
    "", "Read from its writable layer against its image's (the overlay snapshotter's; a container of the copy"
        + " snapshotter keeps no record of it and shows nothing). What Hull made for its own mounts (/etc/hosts,"
        + " /etc/resolv.conf) is not listed, as docker lists none.",
    "", "Example:", "  hull run --name d busybox sh -c 'echo hi > /tmp/x; rm /etc/motd 2>/dev/null'",
    "  hull diff d"})
final class DiffCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONTAINER")
    String container;

    static void addTo(picocli.CommandLine hull) {
        hull.addSubcommand("diff", new picocli.CommandLine(new DiffCommand()));
        picocli.CommandLine group = hull.getSubcommands().get("container");
        if (group != null) {
            group.addSubcommand("diff", new picocli.CommandLine(new DiffCommand()));
        }
    }

    @Override
    public Integer call() {
        return ContainerCli.guarded(1, () -> {
            Engine engine = Engine.defaults();
            ContainerInfo info = engine.containers().resolve(container);
            StringBuilder out = new StringBuilder();
            for (ContainerChanges.Change c : ContainerChanges.of(engine, info)) {
                out.append(switch (c.kind()) {
                    case MODIFIED -> "C ";
                    case ADDED -> "A ";
                    case DELETED -> "D ";
                }).append(c.path()).append('\n');
            }
            System.out.print(out);
            System.out.flush();
            return 0;
        });
    }
}
