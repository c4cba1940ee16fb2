package dev.hull.cli;

import dev.hull.engine.Engine;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code hull healthcheck run CONTAINER} (podman's): the container's healthcheck once, now, recorded in
 * its State.Health as the scheduled runs are (its monitor runs this very command at each interval).
 */
final class HealthcheckCli {
    private HealthcheckCli() {}

    @Command(name = "run", mixinStandardHelpOptions = true, description = {"Run the container's healthcheck now.",
        "Exit 0: healthy; 1: the check failed (prints the status: unhealthy, or starting within the start"
            + " period); 125: no healthcheck, or the container is not running."})
    static final class Run implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String ref;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                String status = Engine.defaults().healthcheckRun(ref);
                if (status.equals("healthy")) {
                    return 0;
                }
                System.out.println(status);
                return 1;
            });
        }
    }

    @Command(name = "healthcheck", mixinStandardHelpOptions = true, description = "Run containers' healthchecks.",
            subcommands = Run.class)
    static final class Group implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().usage(System.err);
            return 125;
        }
    }

    static void addTo(CommandLine hull) {
        hull.addSubcommand("healthcheck", new CommandLine(new Group()));
    }
}
