package dev.hull.cli;

import dev.hull.engine.Engine;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull}: the user's command line, with docker/podman habits. */
@Command(name = "hull", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Hull runs applications in isolated containers on Linux.", "",
            "Try:  hull run --rm busybox echo hello"},
        subcommands = {ContainerCli.Run.class, ContainerCli.Create.class, ContainerCli.Start.class,
            ContainerResourceCli.Stats.class, ContainerResourceCli.Top.class, ContainerResourceCli.Pause.class,
            ContainerResourceCli.Unpause.class, ContainerResourceCli.Update.class,
            ContainerCli.Stop.class, ContainerCli.Restart.class, ContainerCli.Kill.class, ContainerCli.Rm.class,
            ContainerCli.Ps.class, ContainerCli.Logs.class, ContainerCli.Exec.class, ContainerCli.Inspect.class,
            ContainerCli.Wait.class, ContainerCli.Rename.class, ImageCli.Images.class, ImageCli.Remove.class,
            ImageCli.Tag.class, RegistryCli.Pull.class, RegistryCli.Push.class, RegistryCli.Login.class,
            RegistryCli.Logout.class, ArchiveCli.Load.class, ArchiveCli.Save.class, ImageCli.SystemGroup.class, HullCli.RuntimeServer.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes (run):%n",
        exitCodeList = {"0-124:the container's own exit status", "125:Hull itself failed (the message says why)", "126:the command cannot be run", "127:the command was not found",
            "128+N:the container was killed by signal N"})
public final class HullCli {

    @Command(name = "runtime-server", description = {"Keep a warm JVM that runs hull-runtime and hull commands"
        + " (the same as hull system service).", "",
        "bin/hull-runtime hands each command (argv, working directory, stdio) to this server when its socket"
            + " exists, and starts a JVM of its own when it does not. Same behaviour, no JVM start per command."})
    static final class RuntimeServer implements Callable<Integer> {
        @Option(names = "--socket", description = "Socket path (default: $HULL_RUNTIME_SOCKET or "
                + "/run/hull/runtime.sock).")
        java.nio.file.Path socket;

        @Override
        public Integer call() throws Exception {
            java.nio.file.Path path = socket != null ? socket : WarmServer.socketPath();
            WarmServer server = WarmServer.bind(path);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.close();
                } catch (java.io.IOException ignored) {
                    // exiting anyway
                }
            }));
            System.err.println("hull: runtime server listening on " + path);
            server.serve();
            return 0;
        }
    }

    public static int main(String[] args) {
        return commandLine().execute(args);
    }

    /** Every hull command (the warm server keeps built ones for reuse: WarmHull). */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new HullCli());
        for (String c : new String[] {"run", "create", "exec"}) {
            cl.getSubcommands().get(c).getCommandSpec().parser().stopAtPositional(true);
        }
        cl.addSubcommand("container", ContainerCli.containerGroup());
        // docker's habit: a flag the command line cannot take is exit 125, with the message and a hint
        cl.setParameterExceptionHandler((ex, badArgs) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("hull: " + ex.getMessage());
            String name = c.getCommandSpec().qualifiedName().replaceFirst("^hull ?", "");
            c.getErr().println("See 'hull " + (name.isEmpty() ? "" : name + " ") + "--help'.");
            return 125;
        });
        CommandLine runtime = RuntimeCli.commandLine(Invocation.ofThisProcess());
        cl.addSubcommand("runtime", runtime);
        cl.addSubcommand("image", ImageCli.imageGroup());
        VolumeCli.addTo(cl); // hull volume ...
        CpCommand.addTo(cl); // hull cp, hull container cp
        SystemCli.addTo(cl); // hull system df|info, hull info, hull version
        // `source <(hull completion)` gives bash/zsh completion of every command and option.
        CommandLine completion = new CommandLine(new picocli.AutoComplete.GenerateCompletion());
        completion.getCommandSpec().usageMessage().hidden(false);
        cl.addSubcommand("completion", completion);
        WarmHull.register(cl); // hull system service
        return cl;
    }
}
