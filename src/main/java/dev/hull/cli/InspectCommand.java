package dev.hull.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInspector;
import dev.hull.engine.Engine;
import dev.hull.image.ImageNotFoundException;
import dev.hull.runtime.RuntimeError;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** hull inspect: a container, else an image, a network or a volume of that name, as docker's inspect looks them up. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = {"Show containers, images, networks or"
    + " volumes in detail (JSON, docker's field names).", "",
    "A name is looked up as a container, then an image, a network and a volume (the first that has it is shown);"
        + " --type looks only there. -f/--format takes a Go template, run once per thing, e.g.",
    "  hull inspect -f '{{.State.Pid}}' web", "  hull inspect --type image -f '{{json .Config.Env}}' busybox",
    "  hull inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' bridge"})
final class InspectCommand implements Callable<Integer> {
    private static final List<String> TYPES = List.of("container", "image", "network", "volume");

    @Option(names = {"-f", "--format"}, description = "A Go template: {{.State.Status}}, {{json .Config}}.")
    String format;
    @Option(names = "--type", paramLabel = "TYPE", description = "Only this kind: container, image, network or volume.")
    String type;
    @Parameters(arity = "1..*", paramLabel = "NAME|ID")
    List<String> refs;

    @Override
    public Integer call() {
        return ContainerCli.guarded(1, () -> {
            if (type != null && !TYPES.contains(type)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "\"" + type + "\" is not a valid value for --type");
            }
            Engine engine = Engine.defaults();
            return ContainerCli.printInspected(refs, format, ref -> find(engine, ref));
        });
    }

    private ObjectNode find(Engine engine, String ref) throws Exception {
        for (String kind : type == null ? TYPES : List.of(type)) {
            ObjectNode n = lookup(engine, kind, ref);
            if (n != null) {
                return n;
            }
        }
        // docker's "Error: No such object: x" (or "No such image: x" with --type image)
        throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "No such " + (type == null ? "object" : type) + ": " + ref);
    }

    /** The thing of this kind named ref, or null when there is none. */
    private static ObjectNode lookup(Engine engine, String kind, String ref) throws Exception {
        try {
            return switch (kind) {
                case "container" -> ContainerInspector.inspect(engine, engine.containers().resolve(ref));
                case "image" -> ImageCli.inspect(engine.images(), engine.images().store().read(), ref);
                case "network" -> NetworkCli.inspect(engine, engine.networking().store().resolve(ref), true);
                default -> VolumeCli.inspect(engine.volumes().get(ref));
            };
        } catch (RuntimeError e) {
            if (e.kind() == RuntimeError.Kind.NOT_FOUND || e.kind() == RuntimeError.Kind.BAD_INPUT) {
                return null;
            }
            throw e;
        } catch (ImageNotFoundException | IllegalArgumentException e) {
            return null; // not an image, or not even an image reference
        }
    }
}
