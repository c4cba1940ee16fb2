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
        subcommands = {HullCli.Run.class, ImageCli.Images.class, ImageCli.Remove.class,
            ImageCli.Tag.class, RegistryCli.Pull.class, RegistryCli.Push.class, RegistryCli.Login.class,
            RegistryCli.Logout.class, ArchiveCli.Load.class, ArchiveCli.Save.class, ImageCli.SystemGroup.class, HullCli.RuntimeServer.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes (run):%n",
        exitCodeList = {"0-124:the container's own exit status", "125:Hull itself failed (the message says why)", "126:the command cannot be run", "127:the command was not found",
            "128+N:the container was killed by signal N"})
public final class HullCli {

    @Command(name = "run", description = {"Run a command in a new container.", "",
        "Examples:", "  hull run --rm busybox echo hello", "  hull run --rm -e GREETING=hi busybox sh -c 'echo $GREETING'",
        "  hull run --rm -v /srv/data:/data:ro busybox ls /data", "  hull run -d --name web busybox httpd -f"},
            sortOptions = false)
    static final class Run implements Callable<Integer> {
        @Option(names = "--rm", description = "Remove the container when it exits.")
        boolean rm;
        @Option(names = {"-d", "--detach"}, description = "Run in the background and print the container id.")
        boolean detach;
        @Option(names = "--name", description = "Name the container (default: a random id).")
        String name;
        @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE", description = "Set an environment variable.")
        List<String> env = new ArrayList<>();
        @Option(names = {"-w", "--workdir"}, description = "Working directory inside the container.")
        String workdir;
        @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]", description = "Run as this user: a name from the"
                + " image's /etc/passwd or a number (default: the image's User, else root).")
        String user;
        @Option(names = {"-h", "--hostname"}, description = "Container hostname (default: the id's first 12 characters).")
        String hostname;
        @Option(names = "--network", defaultValue = "none", description = "none (own loopback) or host.")
        String network;
        @Option(names = {"-v", "--volume"}, paramLabel = "HOST:CONTAINER[:ro]", description = "Bind-mount a host path.")
        List<String> volumes = new ArrayList<>();
        @Option(names = "--read-only", description = "Mount the container's root filesystem read-only.")
        boolean readOnly;
        @Option(names = "--entrypoint", description = "Run this instead of the image's Entrypoint (\"\" for none);"
                + " the image's Cmd is then not used.")
        String entrypoint;
        @Option(names = "--pull", defaultValue = "missing", description = "missing (default: pull when not here),"
                + " always, or never.")
        String pull;
        @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "Platform to pull.")
        String platform;
        @picocli.CommandLine.Mixin
        RegistryCli.Access access = new RegistryCli.Access();
        @Option(names = "--help", usageHelp = true, description = "Show this help.")
        boolean help;
        @Parameters(index = "0", paramLabel = "IMAGE", description = "Image to run (name, name:tag, name@digest or id; built in: busybox).")
        String image;
        @Parameters(index = "1..*", paramLabel = "COMMAND", description = "Command and arguments (default: the image's Cmd).")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            try {
                Engine engine = Engine.defaults();
                dev.hull.image.Platform plat = platform == null ? dev.hull.image.Platform.host()
                        : dev.hull.image.Platform.parse(platform);
                Engine.ImageSource fromRegistry = text -> {
                    try {
                        return RegistryCli.pull(engine.images(), access, text, plat, false, System.err);
                    } catch (java.io.IOException e) {
                        throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "image " + text
                                + " is not here and pulling it failed: " + e.getMessage(), e);
                    }
                };
                switch (pull) {
                    case "missing" -> engine.imageSource(fromRegistry);
                    case "never" -> { }
                    case "always" -> {
                        if (!dev.hull.image.BusyboxImage.isBuiltinName(image)) {
                            fromRegistry.fetch(image);
                        }
                    }
                    default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                            "--pull " + pull + ": use missing, always or never");
                }
                var req = new Engine.RunRequest(image, command, name, rm, detach, env, workdir, user, hostname,
                        network, volumes, readOnly, entrypoint);
                int code = engine.run(req, SignalForwarder::forwardTo);
                return code;
            } catch (RuntimeError e) {
                System.err.println("hull: " + e.getMessage());
                // docker's conventions: 127 command not found, 126 cannot be run, 125 Hull failed
                String m = e.getMessage();
                if (m.contains("executable file not found")) {
                    return 127;
                }
                if (m.contains(": exec: ") && m.contains("Permission denied")) {
                    return 126;
                }
                return 125;
            } catch (Exception e) {
                System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                return 125;
            }
        }
    }

    @Command(name = "runtime-server", description = {"Keep a warm JVM that runs hull-runtime commands.", "",
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
        CommandLine cl = new CommandLine(new HullCli());
        cl.getSubcommands().get("run").getCommandSpec().parser().stopAtPositional(true);
        CommandLine runtime = RuntimeCli.commandLine(Invocation.ofThisProcess());
        cl.addSubcommand("runtime", runtime);
        cl.addSubcommand("image", ImageCli.imageGroup());
        // `source <(hull completion)` gives bash/zsh completion of every command and option.
        CommandLine completion = new CommandLine(new picocli.AutoComplete.GenerateCompletion());
        completion.getCommandSpec().usageMessage().hidden(false);
        cl.addSubcommand("completion", completion);
        return cl.execute(args);
    }
}
