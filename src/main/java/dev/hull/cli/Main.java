package dev.hull.cli;

/**
 * Entry point for every Hull command. The launcher names the program with
 * -Dhull.program: "hull-runtime" (the OCI runtime CLI) or "hull" (default).
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        String program = System.getProperty("hull.program", "hull");
        // picocli's default factory looks for Groovy's Closure class unless told not to: a miss that
        // searches every jar on the class path (~10 ms of a cold call)
        System.setProperty("picocli.disable.closures", "true");
        // No service answered (or this command needs a JVM of its own): start one for the next command.
        dev.hull.service.ServiceStarter.startIfWanted(program, args);
        int code = switch (program) {
            case "hull-runtime" -> RuntimeCli.main(args);
            default -> HullCli.main(args);
        };
        System.out.flush();
        if (program.equals("hull-runtime")) {
            // System.exit first sets up the JDK's System.Logger (a ServiceLoader lookup, ~10 classes)
            // to log Runtime.exit, then runs the shutdown hooks. hull-runtime's commands register
            // none (no addShutdownHook, deleteOnExit or Console in its code paths), so a cold call
            // halts once its output is out.
            System.err.flush();
            Runtime.getRuntime().halt(code);
        }
        System.exit(code);
    }
}
