package dev.hull.cli;

import dev.hull.engine.ContainerFiles;
import dev.hull.engine.Engine;
import dev.hull.image.ImageService;
import dev.hull.runtime.RuntimeError;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull cp}: files between a container (running or not) and the host. */
@Command(name = "cp", mixinStandardHelpOptions = true, sortOptions = false, description = {
    "Copy files and directories between a container and the host.", "",
    "  hull cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-",
    "  hull cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH", "",
    "Works on running and stopped containers. Paths in the container are looked up inside it: its symlinks,"
        + " absolute or with .., never lead out of the container (a link to /etc/shadow is the container's"
        + " /etc/shadow). A host path with a colon must start with / or ./ .", "",
    "Where things land (docker's rules):",
    "  SRC is a file:  DEST is a directory -> copied into it;  DEST is a file or missing -> written as DEST;"
        + " DEST missing and ending in / -> error.",
    "  SRC is a directory:  DEST missing -> made, SRC's content copied into it;  DEST a directory -> SRC"
        + " copied into it (SRC/. : SRC's content copied into it);  DEST a file -> error.",
    "  - as SRC: a tar stream on stdin, extracted into the directory DEST; - as DEST: SRC as a tar stream on"
        + " stdout.", "",
    "Modes and times are kept (xattrs are not). Copied into a container, files belong to root; copied out,"
        + " to you; -a keeps the source's owners. A symlink SRC is copied as a symlink unless -L.", "",
    "A running container is copied through its own mounts (-v volumes included); a stopped one through its"
        + " file system alone: under a -v mount point you reach the container's own directory, not the volume."
        + " The container is locked while the copy runs (start, stop and rm wait).", "",
    "Examples:", "  hull cp web:/etc/nginx/nginx.conf .", "  hull cp ./site/. web:/srv/www",
    "  hull cp web:/var/log - | tar -tv", "  tar -c -C build . | hull cp - web:/opt/app"})
final class CpCommand implements Callable<Integer> {
    @Option(names = {"-a", "--archive"}, description = "Keep the source's owners (uid:gid).")
    boolean archive;
    @Option(names = {"-L", "--follow-link"}, description = "A symlink SRC_PATH: copy what it points to.")
    boolean followLink;
    @Option(names = {"-q", "--quiet"}, description = "No summary line on stderr.")
    boolean quiet;
    @Parameters(index = "0", paramLabel = "SRC")
    String src;
    @Parameters(index = "1", paramLabel = "DEST")
    String dest;

    /** Adds {@code hull cp} and {@code hull container cp} to hull's command line. */
    static void addTo(picocli.CommandLine hull) {
        hull.addSubcommand("cp", new picocli.CommandLine(new CpCommand()));
        picocli.CommandLine container = hull.getSubcommands().get("container");
        if (container != null) {
            container.addSubcommand("cp", new picocli.CommandLine(new CpCommand()));
        }
    }

    /** CONTAINER:PATH split, or null for a host path ("/..." and "./..." are always host paths) or "-". */
    static String[] containerPath(String arg) {
        if (arg.equals("-") || arg.startsWith("/") || arg.startsWith(".")) {
            return null;
        }
        int colon = arg.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        return new String[] {arg.substring(0, colon), arg.substring(colon + 1)};
    }

    /** A host path made absolute against the command's directory, its trailing "/" or "/." kept. */
    static String hostPath(String p) {
        if (p.startsWith("/")) {
            return p;
        }
        String cwd = Invocation.current().cwd().toString();
        return cwd.endsWith("/") ? cwd + p : cwd + "/" + p;
    }

    @Override
    public Integer call() {
        return ContainerCli.guarded(1, () -> {
            String[] from = containerPath(src);
            String[] to = containerPath(dest);
            if (from != null && to != null) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "copying between containers is not supported:"
                        + " copy to the host first");
            }
            if (from == null && to == null) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "one side must be CONTAINER:PATH (a host path"
                        + " with a colon starts with / or ./)");
            }
            if (dev.hull.runtime.CallerFiles.restricted() && !src.equals("-") && !dest.equals("-")) {
                // The host side of a copy is read or written as root, a tree at a time: for a warm caller
                // other than root the service does not (-v binds are the group's root power; host paths
                // named on the command line are not). Tar streams are the caller's own descriptors.
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "hull cp " + (from != null ? "to" : "from")
                        + " a host path: permission denied (the service copies host files as root, which it does"
                        + " only for root); use a tar stream: hull cp CONTAINER:PATH - | tar -x, or"
                        + " tar -c FILES | hull cp - CONTAINER:DIR");
            }
            ContainerFiles files = new ContainerFiles(Engine.defaults());
            ContainerFiles.Options o = new ContainerFiles.Options(followLink, archive);
            if (from != null && from[1].isEmpty() || to != null && to[1].isEmpty()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "CONTAINER:PATH needs a path after the colon");
            }
            ContainerFiles.Result r;
            String where;
            if (from != null) {
                if (dest.equals("-")) {
                    // System.out and System.in are the client's on the warm path (Stdio); fd 1 and 0 would
                    // be the service's own.
                    System.out.flush();
                    OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
                    files.exportTar(from[0], from[1], out, o);
                    out.flush();
                    return 0;
                }
                where = dest;
                r = files.copyOut(from[0], from[1], hostPath(dest), o);
            } else if (src.equals("-")) {
                where = dest;
                r = files.importTar(System.in, to[0], to[1], o);
            } else {
                where = dest;
                r = files.copyIn(hostPath(src), to[0], to[1], o);
            }
            if (!quiet) {
                System.err.println("Successfully copied " + ImageService.humanSize(r.bytes()) + " to " + where);
            }
            return 0;
        });
    }
}
