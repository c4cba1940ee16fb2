package dev.hull.cli;

import dev.hull.engine.Engine;
import dev.hull.engine.RootlessMigration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Rootless Hull's own commands: {@code hull system migrate}. */
final class RootlessCli {
    private RootlessCli() {}

    /** Adds hull system migrate to hull's command line. */
    static void addTo(CommandLine hull) {
        hull.getSubcommands().get("system").addSubcommand("migrate", new CommandLine(new Migrate()));
    }

    @Command(name = "migrate", mixinStandardHelpOptions = true, description = {
        "Rootless Hull: make the user's namespace again, after an administrator changed the user's ranges in"
            + " /etc/subuid or /etc/subgid (podman's system migrate).",
        "Running containers are stopped first (they live in that namespace; each is named), then the namespace's"
            + " holder and the user's service end, and a new namespace is made with the current ranges."})
    static final class Migrate implements Callable<Integer> {
        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                RootlessMigration.requireRootless();
                System.out.println(RootlessMigration.migrate(Engine.defaults(), System.err));
                return 0;
            });
        }
    }
}
