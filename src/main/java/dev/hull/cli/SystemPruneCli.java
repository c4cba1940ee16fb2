package dev.hull.cli;

import dev.hull.engine.Engine;
import dev.hull.engine.Pruning;
import dev.hull.engine.VolumeStore;
import dev.hull.image.ImageService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hull system prune}: the prune commands in docker's order, with docker's report. */
@Command(name = "prune", mixinStandardHelpOptions = true, description = {"Remove what nothing uses: stopped"
    + " containers, networks no container uses, images without a name (with -a: every image no container"
        + " uses) and hull build's cache; volumes only with --volumes.", "",
    "The same as hull container prune, hull network prune, hull image prune [-a], hull builder prune and"
        + " (--volumes) hull volume prune, one after the other. Hull never asks for confirmation.", "",
    "Examples:", "  hull system prune", "  hull system prune -a --volumes"}, sortOptions = false)
final class SystemPruneCli implements Callable<Integer> {
    @Option(names = {"-a", "--all"}, description = "Every image no container uses, not only those without a name.")
    boolean all;
    @Option(names = "--volumes", description = "Also every volume no container uses.")
    boolean volumes;
    @Option(names = {"-f", "--force"}, description = "Accepted for docker's habit (Hull never asks).")
    boolean force;

    @Override
    public Integer call() {
        return ContainerCli.guarded(1, () -> {
            Engine engine = Engine.defaults();
            long bytes = 0;
            Pruning.Containers c = Pruning.containers(engine, null);
            section("Deleted Containers:", c.removed().stream().map(x -> x.id()).toList());
            bytes += c.bytes();
            section("Deleted Networks:", Pruning.networks(engine, null));
            engine.networking().restoreRules(); // as hull network prune
            if (volumes) {
                VolumeStore.Pruned v = engine.volumes().prune(engine::volumesInUse, x -> true);
                section("Deleted Volumes:", v.names());
                bytes += v.bytes();
            }
            ImageService.Pruned i = engine.images().prune(all, engine::imagesInUse, null);
            section("Deleted Images:", i.ids().stream().map(id -> "deleted: " + (id.startsWith("sha256:") ? id : "sha256:" + id)).toList());
            bytes += i.bytes();
            bytes += dev.hull.build.BuildCachePrune.prune(engine.home(),
                    dev.hull.build.BuildCachePrune.Options.ALL, new ArrayList<>());
            System.out.println("Total reclaimed space: " + ImageService.humanSize(bytes));
            return 0;
        });
    }

    /** docker's report of one kind: its title, one line each, a blank line; nothing when none went. */
    private static void section(String title, List<String> lines) {
        if (!lines.isEmpty()) {
            System.out.println(title);
            lines.forEach(System.out::println);
            System.out.println();
        }
    }
}
