package dev.hull.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.Engine;
import dev.hull.machine.Machines;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull machine create|start|stop|restart|rm|set|ls|stats|inspect|shell|exec|console|logs}: system containers. */
final class MachineCli {
    private MachineCli() {}

    static Machines machines() {
        return new Machines(Engine.defaults());
    }

    @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Create a machine: a whole distribution with systemd as PID 1, its own address, limits and console.", "",
        "--distro builds the distribution's template once with mmdebstrap (from the host's apt mirror) and keeps it"
            + " in Hull's image store; each machine is a copy-on-write overlay of it.", "",
        "--disk puts everything the machine writes on a sized disk of its own (a sparse ext4 image: df / inside"
            + " shows its size, a write past it fails with ENOSPC inside); --encrypt encrypts that disk (fscrypt) under"
            + " a key wrapped by --key-file's.", "",
        "Examples:", "  hull machine create web --memory 512m --cpus 2 --disk 5g", "  hull machine start web"})
    static final class Create implements Callable<Integer> {
        @Option(names = "--distro", paramLabel = "DISTRO", description = "debian:12 (the default) or debian:13.")
        String distro;
        @Option(names = "--image", paramLabel = "IMAGE", description = "An image with /sbin/init instead of a"
                + " template.")
        String image;
        @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", description = "Memory limit (512m, 2g).")
        String memory;
        @Option(names = "--cpus", description = "CPUs (1.5: one and a half).")
        double cpus;
        @Option(names = "--pids", paramLabel = "N", description = "Most processes at once.")
        Long pids;
        @Option(names = "--disk", paramLabel = "SIZE", description = "A hard limit on all it writes (5g): its own"
                + " disk.")
        String disk;
        @Option(names = "--encrypt", description = "Encrypt its disk (needs --disk and --key-file).")
        boolean encrypt;
        @Option(names = "--key-file", paramLabel = "FILE", description = "The key-encryption key of an --encrypt"
                + " disk: a file of 32 or more random bytes (head -c 32 /dev/urandom > FILE), never stored by Hull;"
                + " keyring:NAME, a user key in root's user keyring; or passphrase, typed on your terminal.")
        java.nio.file.Path keyFile;
        @Option(names = "--hostname", description = "Hostname (default: NAME).")
        String hostname;
        @Option(names = "--network", paramLabel = "NET", description = "bridge (default), a network's name, none.")
        String network;
        @Option(names = "--ip", paramLabel = "ADDRESS", description = "Its IPv4 address on --network (a network made"
                + " with hull network create; in its subnet, no other machine's or container's).")
        String ip;
        @Option(names = "--ssh-key", paramLabel = "FILE", description = "A public key root can log in with over"
                + " ssh.")
        java.nio.file.Path sshKey;
        @Option(names = "--root-password-file", paramLabel = "FILE", description = "root's password: the file's"
                + " first line (stored hashed).")
        java.nio.file.Path rootPasswordFile;
        @Option(names = "--autostart", description = "Start it with the host: hull machine start --all-autostart"
                + " (contrib/hull-machines.service runs that at boot).")
        boolean autostart;
        @Option(names = "--autostart-order", paramLabel = "N", description = "Where it boots among the autostart"
                + " machines: lower first (default 0; equal orders by name).")
        int autostartOrder;
        @Option(names = {"-p", "--publish"}, paramLabel = "[HOST_IP:][HOST_PORT:]PORT[/PROTO]", description = "A"
                + " port of the machine published on the host, as hull run's -p (repeatable).")
        List<String> publish = new ArrayList<>();
        @Option(names = "--start", description = "Start it once made.")
        boolean start;
        @Option(names = "--privileged", description = "Run it with the host's ids (its root is the host's root)."
                + " Without it, a machine's root is a range of 65536 host ids of its own, in a user namespace.")
        boolean privileged;
        @Option(names = {"-v", "--volume"}, paramLabel = "SRC:DST[:OPTS]", description = "A host directory or a"
                + " named volume bound in, as hull run's -v (repeatable).")
        List<String> volumes = new ArrayList<>();
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                Machines m = machines();
                long mem = memory == null ? 0 : Engine.parseSize(memory, "--memory");
                if (cpus < 0) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpus " + cpus + ": a positive number");
                }
                ContainerInfo c = m.create(new Machines.Request(name, distro, image, mem, cpus, pids, hostname,
                        network, ip, autostart, sshKey, rootPasswordFile, disk, encrypt, keyFile, privileged, volumes,
                        publish, autostartOrder),
                        System.err);
                if (start) {
                    m.start(c.id());
                }
                System.out.println(c.name());
                return 0;
            });
        }
    }

    /** start, stop, restart, rm: one verb over machine names. */
    abstract static class EachMachine implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "NAME")
        List<String> names = new ArrayList<>();

        abstract void apply(Machines m, String name) throws Exception;

        @Override
        public Integer call() {
            Machines m = machines();
            int rc = 0;
            for (String n : names) {
                int one = ContainerCli.guarded(125, () -> {
                    apply(m, n);
                    System.out.println(n);
                    return 0;
                });
                rc = Math.max(rc, one);
            }
            return rc;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = {"Boot machines.", "",
        "--all-autostart boots every machine marked autostart that is not running (in --autostart-order, then by"
            + " name; one that fails is"
            + " reported, the others still boot): contrib/hull-machines.service runs it at host boot."})
    static final class Start implements Callable<Integer> {
        @Option(names = "--all-autostart", description = "Every machine created or set with --autostart.")
        boolean allAutostart;
        @Parameters(arity = "0..*", paramLabel = "NAME")
        List<String> names = new ArrayList<>();

        @Override
        public Integer call() {
            if (allAutostart != names.isEmpty()) {
                System.err.println("hull: give machine names or --all-autostart");
                return 125;
            }
            if (allAutostart) {
                return ContainerCli.guarded(125, () -> machines().startAutostart(System.out, System.err) == 0 ? 0 : 125);
            }
            EachMachine each = new EachMachine() {
                @Override
                void apply(Machines m, String name) throws Exception {
                    m.start(name);
                }
            };
            each.names = names;
            return each.call();
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, sortOptions = false, description = {"Change a machine's"
        + " limits or autostart. On a running machine --memory and --cpus apply at once (its cgroups), and all of"
        + " it is kept for the next start.", "",
        "--disk grows a disk made with create --disk: online where the kernel lets Hull (CAP_SYS_RESOURCE), else"
            + " while the machine is stopped; an encrypted disk grown so needs --key-file to get its key back.", "",
        "Example:", "  hull machine set web --memory 1g --cpus 2 --autostart true --disk 10g"})
    static final class Set implements Callable<Integer> {
        @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", description = "Memory limit (512m, 2g).")
        String memory;
        @Option(names = "--cpus", description = "CPUs (1.5: one and a half; 0: no limit).")
        Double cpus;
        @Option(names = "--autostart", paramLabel = "true|false", arity = "1", description = "Start it with the host.")
        String autostart;
        @Option(names = "--disk", paramLabel = "SIZE", description = "Grow its disk to SIZE (10g).")
        String disk;
        @Option(names = "--key-file", paramLabel = "FILE", description = "Unlock its encrypted disk (also after a"
                + " reboot) with this key file.")
        java.nio.file.Path keyFile;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                if (autostart != null && !autostart.equals("true") && !autostart.equals("false")) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--autostart " + autostart + ": true or false");
                }
                if (cpus != null && cpus < 0) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpus " + cpus + ": a positive number");
                }
                machines().set(name, memory == null ? null : Engine.parseSize(memory, "--memory"), cpus,
                        autostart == null ? null : Boolean.valueOf(autostart),
                        disk, keyFile);
                System.out.println(name);
                return 0;
            });
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = {"Power machines off: systemd's way"
        + " (SIGRTMIN+3 to PID 1), then SIGKILL after the timeout."})
    static class Stop extends EachMachine {
        @Option(names = {"-t", "--time"}, paramLabel = "SECONDS", description = "Wait this long for systemd (default "
                + Machines.STOP_TIMEOUT + ").")
        Integer timeout;

        @Override
        void apply(Machines m, String name) throws Exception {
            m.stop(name, timeout);
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true, description = "Power machines off and boot them again.")
    static final class Restart extends Stop {
        @Override
        void apply(Machines m, String name) throws Exception {
            m.restart(name, timeout);
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove machines (-f: also running ones).")
    static final class Rm extends EachMachine {
        @Option(names = {"-f", "--force"}, description = "Kill a running machine first.")
        boolean force;

        @Override
        void apply(Machines m, String name) throws Exception {
            m.remove(name, force);
        }
    }

    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true, description = "List machines.")
    static final class Ls implements Callable<Integer> {
        @Option(names = "--format", defaultValue = "table", description = "table (default) or json (one object a"
                + " line).")
        String format;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                if (!format.equals("table") && !format.equals("json")) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--format " + format + ": use table or json");
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"NAME", "STATE", "IPV4", "CPUS", "MEMORY", "DISK", "AUTOSTART", "USERNS"});
                for (Machines.Machine x : machines().list()) {
                    if (format.equals("json")) {
                        ObjectNode n = ImageCli.JSON.createObjectNode();
                        n.put("Name", x.name());
                        n.put("State", x.state());
                        n.put("IPv4", x.ipv4());
                        n.put("Cpus", x.cpus());
                        n.put("Memory", x.memory());
                        n.put("Disk", x.disk());
                        n.put("DiskSize", x.diskSize());
                        n.put("Autostart", x.autostart());
                        n.put("AutostartOrder", x.autostartOrder());
                        n.put("Distro", x.distro());
                        n.put("UserNamespace", x.userns());
                        n.put("Id", x.id());
                        System.out.println(ImageCli.JSON.writer().without(SerializationFeature.INDENT_OUTPUT)
                                .writeValueAsString(n));
                    } else {
                        rows.add(new String[] {x.name(), x.state(), x.ipv4().isEmpty() ? "-" : x.ipv4(),
                            x.cpus() > 0 ? String.valueOf(x.cpus()) : "-",
                            x.memory() > 0 ? binarySize(x.memory()) : "-", binarySize(x.disk())
                                    + (x.diskSize() > 0 ? "/" + binarySize(x.diskSize()) : ""),
                            String.valueOf(x.autostart()), x.userns()});
                    }
                }
                if (format.equals("table")) {
                    ContainerCli.printTable(rows);
                }
                return 0;
            });
        }
    }

    /** 268435456 as 256M, as --memory takes it. */
    static String binarySize(long bytes) {
        String[] units = {"", "K", "M", "G", "T"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.valueOf((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v)) + units[u];
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show machines in detail (JSON).")
    static final class Inspect implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "NAME")
        List<String> names = new ArrayList<>();

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                Machines m = machines();
                ArrayNode out = ImageCli.JSON.createArrayNode();
                for (String n : names) {
                    out.add(m.inspect(n));
                }
                System.out.println(ImageCli.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out));
                return 0;
            });
        }
    }

    @Command(name = "shell", mixinStandardHelpOptions = true, description = {"A login shell in a running machine,"
        + " or a command run in a login environment (as machinectl shell).", "", "Examples:",
        "  hull machine shell web", "  hull machine shell web -- systemctl is-system-running"})
    static final class Shell implements Callable<Integer> {
        @Option(names = {"-u", "--user"}, defaultValue = "root", description = "The user (default root).")
        String user;
        @Option(names = {"-t", "--tty"}, description = "A terminal (the default without a command).")
        Boolean tty;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1..*", paramLabel = "CMD")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            // su -l: the user's login environment (HOME, SHELL, PATH, a PAM session), as machinectl shell gives
            List<String> args = command.isEmpty() ? List.of("/bin/su", "-l", user)
                    : new ArrayList<>(List.of("/bin/su", "-l", user, "-s", "/bin/sh", "-c", "exec \"$0\" \"$@\""));
            if (!command.isEmpty()) {
                args.addAll(command);
            }
            return exec(name, args, tty != null ? tty : command.isEmpty(), null);
        }
    }

    @Command(name = "exec", mixinStandardHelpOptions = true, description = "Run a command in a running machine.")
    static final class Exec implements Callable<Integer> {
        @Option(names = {"-t", "--tty"}, description = "Give the command a terminal.")
        boolean tty;
        @Option(names = {"-u", "--user"}, description = "Run as this user.")
        String user;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            return exec(name, command, tty, user);
        }
    }

    private static int exec(String name, List<String> args, boolean tty, String user) {
        try {
            Machines m = machines();
            ContainerInfo c = m.resolve(name);
            Invocation inv = Invocation.current();
            return m.engine().exec(c.id(), new Engine.ExecRequest(args, List.of("TERM=" + (tty ? "xterm" : "dumb")),
                    user, null, tty, true, false, false, inv.stdio(), inv.onStarted()));
        } catch (Exception e) {
            System.err.println("hull: " + e.getMessage());
            return 125;
        }
    }

    @Command(name = "console", mixinStandardHelpOptions = true, description = {"Attach this terminal to a running"
        + " machine's console (/dev/console: systemd's messages, a getty to log in on).", "",
        "ctrl-a q detaches (the machine runs on); ctrl-a ctrl-a types ctrl-a. One console client at a time: a"
            + " second attach is refused while one is attached. A power-off or reboot inside ends the attachment.",
        "", "Example:", "  hull machine console web"})
    static final class Console implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                Invocation inv = Invocation.current();
                dev.hull.runtime.ConsoleAttach.End end = machines().console(name, inv.stdio(), () -> {
                    inv.err().print("Connected to machine " + name + "'s console. Type ctrl-a q to detach.\r\n");
                    inv.err().flush();
                });
                inv.err().print(switch (end) {
                    case DETACHED -> "\r\nDetached from " + name + "'s console (it runs on).\r\n";
                    case CONSOLE_CLOSED -> "\r\nThe console closed: machine " + name + " stopped or rebooted.\r\n";
                    case INPUT_CLOSED -> "\r\nInput ended: detached from " + name + "'s console.\r\n";
                });
                inv.err().flush();
                return 0;
            });
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, description = "Show a machine's console output.")
    static final class Logs implements Callable<Integer> {
        @Option(names = {"-f", "--follow"}, description = "Keep printing until the machine stops.")
        boolean follow;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(125, () -> {
                ContainerCli.Logs logs = new ContainerCli.Logs(); // a machine's are its container's
                logs.ref = machines().resolve(name).id();
                logs.follow = follow;
                logs.tail = "all";
                return logs.call();
            });
        }
    }

    @Command(name = "machine", mixinStandardHelpOptions = true, description = {"Manage machines: system"
        + " containers, a whole Linux distribution with systemd as PID 1.", "", "Examples:",
        "  hull machine create web --memory 512m", "  hull machine start web", "  hull machine shell web",
        "  hull machine stop web", "  hull machine rm web"})
    static final class Group extends UsageGroup {}

    /** Adds {@code hull machine} to hull's command line. */
    static void addTo(CommandLine hull) {
        CommandLine g = new CommandLine(new Group());
        for (Object sub : new Object[] {new Create(), new Start(), new Stop(), new Restart(), new Rm(), new Set(), new Ls(),
            new MachineStatsCli.Stats(), new Inspect(), new Shell(), new Exec(), new Console(), new Logs()}) {
            CommandLine c = new CommandLine(sub);
            if (sub instanceof Shell || sub instanceof Exec) { // the command's own options are its
                c.getCommandSpec().parser().stopAtPositional(true);
            }
            g.addSubcommand(c);
        }
        for (Object sub : MachineSnapshotCli.commands()) { // snapshot, snapshots, restore, clone, lock, unlock
            g.addSubcommand(new CommandLine(sub));
        }
        hull.addSubcommand("machine", g);
    }
}
