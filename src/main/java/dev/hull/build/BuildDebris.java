package dev.hull.build;

import dev.hull.engine.ContainerInfo;
import dev.hull.engine.Engine;
import dev.hull.image.SnapshotStore;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a build killed with -9 leaves, found and removed by the next build: each build's temp
 * directories (HULL_HOME/tmp/build-OWNER-...: the context, key and secret copies, the ssh relay)
 * and its step containers (label dev.hull.build.owner=OWNER) name their owner, the process that
 * runs the build (the command's JVM, or the service's) by pid and start time. A build starting
 * removes what belongs to owners no longer running: their step containers (killed if still running),
 * the ssh-agents they started, then their directories. Its cache entries stay: they were stored
 * complete or not at all.
 */
public final class BuildDebris {
    static final String LABEL = "dev.hull.build.owner";
    private static final Pattern NAME = Pattern.compile("build-(\\d+)-(\\d+)-.*");
    private static final String OWNER = ProcessHandle.current().pid() + "-" + startTime(ProcessHandle.current().pid());

    private BuildDebris() {}

    /** This process as an owner: pid-starttime. */
    static String owner() {
        return OWNER;
    }

    /** A new directory under HULL_HOME/tmp for this process's build: build-OWNER-what-XXXX. */
    public static Path tempDir(Path home, String what) throws IOException {
        Path root = Files.createDirectories(home.resolve("tmp"));
        return Files.createTempDirectory(root, "build-" + OWNER + "-" + what + "-");
    }

    /** Removes the debris of every build whose owner is gone (nothing when none is: a directory listing). */
    static void sweep(Engine engine) {
        Path root = engine.home().resolve("tmp");
        if (!Files.isDirectory(root)) {
            return;
        }
        List<ContainerInfo> containers = null;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, "build-*")) {
            for (Path dir : dirs) {
                Matcher m = NAME.matcher(dir.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                String owner = m.group(1) + "-" + m.group(2);
                if (owner.equals(OWNER) || alive(Long.parseLong(m.group(1)), m.group(2))) {
                    continue;
                }
                if (containers == null) {
                    containers = engine.containers().list();
                }
                for (ContainerInfo c : containers) {
                    if (c.options() != null && owner.equals(c.options().labels.get(LABEL))) {
                        try {
                            engine.remove(c.id(), true);
                        } catch (Exception e) {
                            // removed by another build's sweep meanwhile, or to be tried again next time
                        }
                    }
                }
                AgentProxy.stopLeftBehind(dir);
                try {
                    SnapshotStore.deleteTree(dir);
                } catch (IOException e) {
                    // another sweep took it, or the next one will
                }
            }
        } catch (IOException e) {
            // the next build tries again
        }
    }

    /** Whether process pid runs and started at startTime (a pid used again is another process). */
    private static boolean alive(long pid, String startTime) {
        return startTime.equals(startTime(pid));
    }

    /** Field 22 of /proc/PID/stat (clock ticks after boot), or "" when the process is gone. */
    static String startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return f[19];
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
