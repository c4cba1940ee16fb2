package dev.hull.cli;

import dev.hull.engine.Engine;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code hull}: the user's command line, with docker/podman habits. */
@Command(name = "hull", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Hull runs applications in isolated containers on Linux.", "",
            "Try:  hull run --rm busybox echo hello"},
        exitCodeListHeading = "%nExit codes (run):%n",
        exitCodeList = {"0-124:the container's own exit status", "125:Hull itself failed (the message says why)", "126:the command cannot be run", "127:the command was not found",
            "128+N:the container was killed by signal N"})
public final class HullCli {

    /** The top-level commands declared by class, in the order help lists them. */
    private static final Class<?>[] COMMANDS = {ContainerCli.Run.class, ContainerCli.Create.class, ContainerCli.Start.class, AttachCommand.class,
            ContainerResourceCli.Stats.class, ContainerResourceCli.Top.class, ContainerResourceCli.Pause.class,
            ContainerResourceCli.Unpause.class, ContainerResourceCli.Update.class,
            ContainerCli.Stop.class, ContainerCli.Restart.class, ContainerCli.Kill.class, ContainerCli.Rm.class,
            ContainerCli.Ps.class, ContainerCli.Logs.class, ContainerCli.Exec.class, InspectCommand.class,
            ContainerCli.Wait.class, ContainerCli.Rename.class, NetworkCli.Port.class, ImageCli.Images.class, ImageCli.Remove.class,
            ImageCli.Tag.class, RegistryCli.Pull.class, RegistryCli.Push.class, RegistryCli.Login.class,
            RegistryCli.Logout.class, ArchiveCli.Load.class, ArchiveCli.Save.class, BuildCli.Build.class, BuildCli.History.class,
            BuildCli.BuilderGroup.class, CommitCli.Commit.class, CommitCli.Export.class, CommitCli.Import.class,
            EventsCli.class, ImageCli.SystemGroup.class, CommandLine.HelpCommand.class};
    /** These can be built alone (no other command adds to them); the system group cannot (df, info, service join it). */
    private static final java.util.Map<String, Class<?>> ALONE = new java.util.HashMap<>();

    static {
        for (Class<?> c : COMMANDS) {
            if (c != ImageCli.SystemGroup.class && c != CommandLine.HelpCommand.class) {
                ALONE.put(c.getAnnotation(Command.class).name(), c);
            }
        }
    }

    /** docker's {@code hull -v}: the version, as -V and --version (a second versionHelp option would make picocli warn). */
    static String[] dockerArgs(String[] args) {
        if (args.length > 0 && args[0].equals("-v")) {
            String[] a = args.clone();
            a[0] = "--version";
            return a;
        }
        return args;
    }

    public static int main(String[] args) {
        args = dockerArgs(args);
        // A cold JVM spends most of a short command building picocli's model of every command:
        // `hull run ...` builds only `run` (help, completion and the groups build them all).
        Class<?> only = args.length > 0 ? ALONE.get(args[0]) : null;
        return (only != null ? commandLine(only) : commandLine()).execute(args);
    }

    /** hull with one command only. */
    static CommandLine commandLine(Class<?> only) {
        CommandLine cl = new CommandLine(new HullCli());
        cl.addSubcommand(new CommandLine(CommandObjects.of(only)));
        return finish(cl);
    }

    /** What every hull command line gets: positional-stop for commands taking one, docker's exit 125 for bad flags. */
    private static CommandLine finish(CommandLine cl) {
        for (String c : new String[] {"run", "create", "exec"}) {
            CommandLine sub = cl.getSubcommands().get(c);
            if (sub != null) {
                sub.getCommandSpec().parser().stopAtPositional(true);
            }
        }
        // docker's habit: a flag the command line cannot take is exit 125, with the message and a hint
        cl.setParameterExceptionHandler((ex, badArgs) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("hull: " + ex.getMessage());
            // a mistyped command or flag: picocli's "Did you mean: ...?" (docker's habit too)
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, c.getErr());
            String name = c.getCommandSpec().qualifiedName().replaceFirst("^hull ?", "");
            c.getErr().println("See 'hull " + (name.isEmpty() ? "" : name + " ") + "--help'.");
            return 125;
        });
        return cl;
    }

    /** Every hull command (the service keeps built ones for reuse: ServiceCommands). */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new HullCli());
        for (Class<?> c : COMMANDS) {
            cl.addSubcommand(c == CommandLine.HelpCommand.class ? new CommandLine.HelpCommand()
                    : CommandObjects.of(c));
        }
        cl.addSubcommand("container", ContainerCli.containerGroup());
        CommandLine runtime = RuntimeCli.commandLine(Invocation.ofThisProcess());
        cl.addSubcommand("runtime", runtime);
        cl.addSubcommand("image", ImageCli.imageGroup());
        VolumeCli.addTo(cl); // hull volume ...
        NetworkCli.addTo(cl); // hull network ...
        MachineCli.addTo(cl); // hull machine ...
        CpCommand.addTo(cl); // hull cp, hull container cp
        DiffCommand.addTo(cl); // hull diff, hull container diff
        HealthcheckCli.addTo(cl); // hull healthcheck run
        SystemCli.addTo(cl); // hull system df|info, hull info, hull version
        // `source <(hull completion)` gives bash/zsh completion of every command and option.
        CommandLine completion = new CommandLine(new picocli.AutoComplete.GenerateCompletion());
        completion.getCommandSpec().usageMessage().hidden(false);
        cl.addSubcommand("completion", completion);
        ServiceCli.addTo(cl); // hull system service, hull runtime-server
        RootlessCli.addTo(cl); // hull system migrate
        return finish(cl);
    }
}
