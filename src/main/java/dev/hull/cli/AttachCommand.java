package dev.hull.cli;

import dev.hull.engine.Engine;
import dev.hull.runtime.DetachKeys;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull attach}: this terminal joins a running container's stdio, as docker attach does. */
@Command(name = "attach", mixinStandardHelpOptions = true, description = {
    "Attach your terminal to a running container's input and output.", "",
    "A container made with -t shows its terminal (sized to yours); with -i too, your keys go to it and"
        + " the detach keys (default ctrl-p ctrl-q) leave it running and return. Without -t you see its"
        + " output from now on, and one made with -i reads your input. hull exits with the container's"
        + " status when it ends.", "",
    "Example:", "  hull run -dit --name box busybox sh", "  hull attach box"}, sortOptions = false)
final class AttachCommand implements Callable<Integer> {
    @Option(names = "--detach-keys", defaultValue = DetachKeys.DEFAULT, description = "These keys leave the"
            + " container running and return (default ${DEFAULT-VALUE}).")
    String detachKeys;
    @Option(names = "--no-stdin", description = "Do not send your input to the container.")
    boolean noStdin;
    @Option(names = "--sig-proxy", arity = "0..1", defaultValue = "true", fallbackValue = "true",
            description = "Without a terminal: the signals hull gets go on to the container (default true).")
    boolean sigProxy;
    @Parameters(index = "0", paramLabel = "CONTAINER")
    String ref;

    @Override
    public Integer call() {
        return ContainerCli.guarded(1, () -> ContainerCli.exitStatus(Engine.defaults()
                .attach(ref, ContainerCli.attach(sigProxy, detachKeys), !noStdin)));
    }
}
