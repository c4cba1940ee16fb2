package dev.hull.cli;

import dev.hull.engine.EngineConfig;
import dev.hull.linux.FdControl;
import dev.hull.linux.Syscalls;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupManager;
import dev.hull.linux.cgroup.CgroupManagers;
import dev.hull.runtime.Caller;
import dev.hull.runtime.GoDuration;
import dev.hull.runtime.RuntimeError;
import dev.hull.service.BuildInfo;
import dev.hull.service.ServiceLock;
import dev.hull.service.WarmServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hull system service} (and its older name {@code hull runtime-server}): Hull's service in the foreground. */
final class ServiceCli {
    private ServiceCli() {}

    /** The cgroup an auto-started service moves to, out of whatever cgroup its first command ran in. */
    static final String CGROUP = "/hull-service";

    /** Adds hull system service and hull runtime-server to hull's command line. */
    static void addTo(CommandLine hull) {
        hull.getSubcommands().get("system").addSubcommand("service", new CommandLine(new Service()));
        CommandLine alias = new CommandLine(new Service());
        alias.getCommandSpec().usageMessage().description("Hull's service (the same as hull system service).");
        hull.addSubcommand("runtime-server", alias);
    }

    @Command(name = "service", mixinStandardHelpOptions = true, description = {
        "Run Hull's service in the foreground: a resident JVM that runs hull and hull-runtime commands, so that a"
            + " command costs no JVM start.", "",
        "You rarely need this: the first command that finds no service starts one in the background (its own"
            + " session, its log in /var/log/hull/service.log), and it exits after --idle-timeout with no client."
            + " Opt out with HULL_NO_SERVICE=1, hull --no-service, or \"autoStartService\": false in /etc/hull/hull.json."
            + " Either way a command behaves the same: the containers, images and state are the same files"
            + " (HULL_HOME and HULL_STATE come from each client's environment).", "",
        "A service runs commands only for clients of its own build: after an upgrade or rebuild, the first new client"
            + " makes an old service retire (at once when nothing runs through it, else when the last command ends);"
            + " meanwhile commands run in their own JVM.", "",
        "Commands that always run in their own JVM: login without -p/--password-stdin (it prompts on your terminal),"
            + " and anything with --preserve-fds.", "",
        "Socket: --socket, else $HULL_RUNTIME_SOCKET, else /run/hull/runtime.sock (mode 0600: root only; 0660"
            + " root:hull when a group hull exists, whose members may then use it, as docker's group: that is root's"
            + " power). The service refuses any other caller (SO_PEERCRED), whatever the socket's mode. Under systemd,"
            + " socket activation works (contrib/hull.socket, hull.service). Stop it with SIGTERM or SIGINT.", "",
        "Rootless (an ordinary user): the user's own service, in the user's namespace, on hull.sock and docker.sock"
            + " in $XDG_RUNTIME_DIR/hull (else /tmp/hull-UID), for that user only; it ends with the namespace.", "",
        "Example:", "  hull system service --idle-timeout 0 &    # never exits by itself"})
    static final class Service implements Callable<Integer> {
        @Option(names = "--socket", description = "Socket path (default: $HULL_RUNTIME_SOCKET or "
                + "/run/hull/runtime.sock).")
        Path socket;

        @Option(names = "--group", paramLabel = "GROUP", description = "Members of GROUP may use the service too, if"
                + " it exists (default: ${DEFAULT-VALUE}).", defaultValue = WarmServer.DEFAULT_GROUP)
        String group;

        @Option(names = "--idle-timeout", paramLabel = "DURATION", description = "Exit after this long with no client"
                + " connected, e.g. 3h, 30m, 90s; 0: never (default: serviceIdleTimeout of the config file, else 3h).")
        String idleTimeout;

        @Option(names = "--docker-socket", paramLabel = "PATH", description = "Serve the Docker Engine API here, for"
                + " the docker CLI and other Docker clients (default: docker.sock beside the service's socket:"
                + " /run/hull/docker.sock; same mode, group and peer check; '' or none: no Docker API).")
        String dockerSocket;

        @Option(names = "--take-docker-sock", paramLabel = "PATH", arity = "0..1", fallbackValue = "/var/run/docker.sock",
                description = "Also serve the Docker API on PATH (default: /var/run/docker.sock, where clients look"
                + " by default) when no server holds it: a stale socket is replaced, a live dockerd's is refused"
                + " (the service does not start) and never removed.")
        Path takeDockerSocket;

        @Option(names = {"-D", "--debug"}, description = "Log each Docker API request (method and path) in the"
                + " service's log, as dockerd -D does.")
        boolean debug;

        @Option(names = "--auto", hidden = true, description = "Started by a command (ServiceStarter): leave its cgroup.")
        boolean auto;

        @Option(names = "--lock-fd", hidden = true, description = "The service lock, taken by whoever started us.")
        Integer lockFd;

        @Override
        public Integer call() throws Exception {
            if (Caller.current() != null) {
                System.err.println("hull: the service runs in a process of its own, not in a service");
                return 125;
            }
            dev.hull.disk.KeySources.inService();
            Path path = socket != null ? socket.toAbsolutePath() : WarmServer.socketPath();
            Duration idle;
            try {
                idle = idleTimeout != null ? GoDuration.parse(idleTimeout, "--idle-timeout", true)
                        : EngineConfig.load().serviceIdleTimeout();
            } catch (RuntimeError e) {
                System.err.println("hull: " + e.getMessage());
                return 125;
            }
            int lock;
            if (lockFd != null) {
                lock = FdControl.dupAtLeast(lockFd, 3); // close-on-exec: no executor or monitor inherits it
                Syscalls.close(lockFd);
            } else {
                lock = ServiceLock.tryAcquire(path);
                if (lock < 0) {
                    System.err.println("hull: another Hull service runs or is starting on " + path + " (it holds "
                            + ServiceLock.file(path) + ")");
                    return 1;
                }
            }
            boolean rootless = dev.hull.service.RootlessService.active();
            if (rootless) {
                group = null; // the user's own service: no group of the host is let in
            } else if (auto) {
                leaveCallersCgroup(); // before anyone can connect
            }
            WarmServer server;
            try {
                server = WarmServer.fromSystemd(path, group);
                if (server == null) {
                    server = WarmServer.bind(path, group);
                }
            } catch (java.io.IOException e) {
                Syscalls.close(lock);
                System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                return 1;
            }
            server.holdingLock(lock).idleTimeout(idle);
            WarmServer s = server;
            if (rootless) {
                dev.hull.service.RootlessService.watchHolder(() -> {
                    try {
                        s.close();
                    } catch (java.io.IOException ignored) {
                        // stopping anyway
                    }
                });
            }
            dev.hull.service.docker.DockerApiServer taken = null;
            if (takeDockerSocket != null) { // asked for by name: no service rather than one without it
                try {
                    taken = startDockerApi(s, takeDockerSocket.toAbsolutePath());
                } catch (java.io.IOException | RuntimeException e) {
                    s.close();
                    System.err.println("hull: --take-docker-sock: " + (e.getMessage() == null ? e : e.getMessage()));
                    return 1;
                }
            }
            dev.hull.service.docker.DockerApiServer docker = startDockerApi(path, s);
            dev.hull.service.docker.DockerApiServer dockerSock = taken;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    s.close();
                    if (docker != null) {
                        docker.close();
                    }
                    if (dockerSock != null) {
                        dockerSock.close();
                    }
                } catch (java.io.IOException ignored) {
                    // exiting anyway
                }
            }));
            log("listening on " + path + " (build " + BuildInfo.id() + ", pid " + ProcessHandle.current().pid()
                    + ", idle timeout " + (idle.isZero() ? "none" : idle.toSeconds() + " s") + ")");
            server.serve(new ServiceCommands());
            if (docker != null) {
                docker.close();
            }
            if (taken != null) {
                taken.close();
            }
            log("stopped" + (server.retireReason() != null ? ": " + server.retireReason() : ""));
            return 0;
        }

        /**
         * The Docker API beside the warm socket ({@link dev.hull.service.docker.DockerApiServer}), whose
         * clients keep the service from idling out. A socket that cannot be served is logged, and
         * the service goes on without it.
         */
        private dev.hull.service.docker.DockerApiServer startDockerApi(Path warm, WarmServer server) {
            String p = dockerSocket != null ? dockerSocket : warm.resolveSibling("docker.sock").toString();
            if (p.isEmpty() || p.equals("none")) {
                return null;
            }
            Path dockerPath = Path.of(p).toAbsolutePath();
            try {
                return startDockerApi(server, dockerPath);
            } catch (java.io.IOException | RuntimeException e) {
                log("no Docker API on " + dockerPath + ": " + (e.getMessage() == null ? e : e.getMessage()));
                return null;
            }
        }

        private dev.hull.service.docker.DockerApiServer startDockerApi(WarmServer server, Path dockerPath)
                throws java.io.IOException {
            dev.hull.service.docker.DockerApiServer.debug(debug);
            var api = dev.hull.service.docker.DockerApiServer.start(dockerPath, group);
            server.alsoServing(api::connections);
            api.onActivity(server::touch);
            log("Docker API on " + dockerPath);
            return api;
        }

        /**
         * A service started by a command was born in that command's cgroup (a containerd shim's, a
         * conmon scope, a login session) and would be killed with it: it moves to a cgroup of its
         * own, in every hierarchy.
         */
        private static void leaveCallersCgroup() {
            try {
                CgroupManager cg = CgroupManagers.forContainer(CgroupLayout.detect(), CGROUP, null);
                try {
                    cg.create();
                } catch (java.io.IOException e) {
                    if (!cg.exists()) {
                        throw e;
                    } // made already, by this host's other services (one per socket)
                }
                cg.addProcess((int) ProcessHandle.current().pid());
            } catch (Exception e) {
                log("stays in its starter's cgroup: " + e.getMessage());
            }
        }
    }

    static void log(String message) {
        System.err.println(Instant.now() + " hull: service " + message);
    }

    /** Lines for hull version and hull info about the service this command ran in. */
    static String describe() {
        WarmServer.Status s = WarmServer.current();
        if (s == null) {
            return "not used (this command ran in a JVM of its own)";
        }
        Duration up = Duration.between(s.started(), Instant.now());
        return String.format("pid %d, build %s, up %dh%02dm%02ds, socket %s, idle timeout %s", s.pid(), s.build(),
                up.toHours(), up.toMinutesPart(), up.toSecondsPart(), s.socket(),
                s.idleTimeout().isZero() ? "none" : s.idleTimeout().toSeconds() + " s");
    }
}
