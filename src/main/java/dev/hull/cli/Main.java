package dev.hull.cli;

/**
 * Entry point for every Hull command. The launcher names the program with
 * -Dhull.program: "hull-runtime" (the OCI runtime CLI) or "hull" (default).
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        String program = System.getProperty("hull.program", "hull");
        // No service answered (or this command needs a JVM of its own): start one for the next command.
        dev.hull.service.ServiceStarter.startIfWanted(program, args);
        int code = switch (program) {
            case "hull-runtime" -> RuntimeCli.main(args);
            default -> HullCli.main(args);
        };
        System.out.flush();
        System.exit(code);
    }
}
