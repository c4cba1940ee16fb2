package dev.hull.rootless;

import dev.hull.cli.HullCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * An ordinary user of this host for rootless tests: made with useradd (its home under /tmp, and with
 * or without the subordinate ranges useradd allots in /etc/subuid and /etc/subgid), running bin/hull
 * through runuser with a clean environment. The user is removed again (userdel -r also drops its
 * ranges) only if this made it. Hull's launcher, executor and classes are copied where the user can
 * read them (the test's classpath lives under /root): {@link #install}.
 */
final class RootlessUser implements AutoCloseable {
    final String name;
    final long uid;
    final Path home;
    private final Path launcher;
    private final String classpath;
    private final boolean made;
    /** A tun device node of the test's own, bound over /dev/net/tun for this user's commands ({@link #useTun}); or null. */
    private Path tun;

    private RootlessUser(String name, long uid, Path home, Path launcher, String classpath, boolean made) {
        this.name = name;
        this.uid = uid;
        this.home = home;
        this.launcher = launcher;
        this.classpath = classpath;
        this.made = made;
    }

    /**
     * A test class's set-up, as a JUnit extension (a static {@code @RegisterExtension} field): before the
     * class, a directory under /tmp that everyone may read, with Hull installed in it ({@link #install}),
     * and a user with subordinate ranges named after base; after it, both removed.
     */
    static final class Fixture implements org.junit.jupiter.api.extension.BeforeAllCallback,
            org.junit.jupiter.api.extension.AfterAllCallback {
        private final String base;
        private Path dir;
        private RootlessUser user;

        Fixture(String base) {
            this.base = base;
        }

        Path dir() {
            return dir;
        }

        RootlessUser user() {
            return user;
        }

        @Override
        public void beforeAll(org.junit.jupiter.api.extension.ExtensionContext context) throws Exception {
            assumeHost();
            dir = Files.createTempDirectory(Path.of("/tmp"), base + "-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            install(dir.resolve("install"));
            user = RootlessUser.create(base, true, dir.resolve("install"));
        }

        @Override
        public void afterAll(org.junit.jupiter.api.extension.ExtensionContext context) throws Exception {
            try {
                if (user != null) {
                    user.close();
                }
            } finally {
                if (dir != null) {
                    dev.hull.image.SnapshotStore.deleteTree(dir);
                }
            }
        }
    }

    /** Users named base-PID whose test JVM (PID) is gone: a killed run's, nobody's now. */
    private static void removeLeftovers(String base) throws IOException, InterruptedException {
        for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
            String user = line.split(":", 2)[0];
            if (user.startsWith(base + "-") && user.substring(base.length() + 1).matches("\\d+")
                    && ProcessHandle.of(Long.parseLong(user.substring(base.length() + 1))).isEmpty()) {
                run("pkill", "-9", "-u", user);
                run("userdel", "-r", user);
            }
        }
    }

    /** Skips unless this host can run rootless Hull: root to make users, newuidmap/newgidmap, useradd. */
    static void assumeHost() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "making test users needs root");
        for (String b : List.of("/usr/bin/newuidmap", "/usr/bin/newgidmap", "/usr/sbin/useradd", "/usr/bin/nsenter",
                "/usr/bin/unshare", "/usr/sbin/runuser")) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of(b)), b + " is missing (Debian: uidmap, passwd, util-linux)");
        }
    }

    /**
     * The user NAME (made now unless it exists), with subordinate ranges or explicitly without;
     * install: the directory {@link #install} filled.
     */
    static RootlessUser create(String base, boolean subordinateIds, Path install) throws IOException, InterruptedException {
        // The name carries this JVM's pid: another run of the tests on the host has users of its own,
        // and a killed run's users (their pid gone) are removed here.
        removeLeftovers(base);
        String name = base + "-" + ProcessHandle.current().pid();
        boolean made = false;
        if (run("id", "-u", name).exit() != 0) {
            Path home = Path.of("/tmp", name + "-home");
            List<String> cmd = new ArrayList<>(List.of("useradd", "--create-home", "--home-dir", home.toString(),
                    "--shell", "/bin/sh"));
            if (subordinateIds) {
                cmd.addAll(List.of("-K", "SUB_UID_COUNT=65536", "-K", "SUB_GID_COUNT=65536"));
            } else {
                cmd.addAll(List.of("-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0"));
            }
            cmd.add(name);
            HullCommand.Result r = run(cmd.toArray(String[]::new));
            if (r.exit() != 0) {
                throw new IOException("useradd " + name + ": " + r);
            }
            made = true;
        }
        long uid = Long.parseLong(run("id", "-u", name).out().strip());
        Path home = Path.of(run("sh", "-c", "getent passwd " + name + " | cut -d: -f6").out().strip());
        boolean hasRange = Files.readAllLines(Path.of("/etc/subuid")).stream().anyMatch(l -> l.startsWith(name + ":"));
        if (hasRange != subordinateIds) {
            Assumptions.abort("user " + name + " exists " + (hasRange ? "with" : "without")
                    + " a range in /etc/subuid, but this test needs the other (a leftover? userdel -r " + name + ")");
        }
        return new RootlessUser(name, uid, home, install.resolve("bin/hull"), install.resolve("classes") + ":"
                + install.resolve("lib") + "/*", made);
    }

    /**
     * Copies what rootless Hull runs into dir (readable by everyone): bin/hull, bin/hull-userns and bin/hull-runtime,
     * the executor as target/hull-executor (where bin/hull looks), the test JVM's classpath as
     * classes/ (this build's classes) and lib/ (its jars).
     */
    static void install(Path dir) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String s : List.of("hull", "hull-userns", "hull-runtime")) {
            Files.copy(Path.of("bin", s), bin.resolve(s), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Files.createDirectories(dir.resolve("target"));
        Files.copy(Path.of(System.getProperty("hull.executor")), dir.resolve("target/hull-executor"),
                StandardCopyOption.COPY_ATTRIBUTES);
        Path lib = Files.createDirectories(dir.resolve("lib"));
        for (String e : System.getProperty("java.class.path").split(":")) {
            Path p = Path.of(e);
            if (Files.isDirectory(p) && p.getFileName().toString().equals("classes")) {
                copyTree(p, dir.resolve("classes"));
            } else if (Files.isRegularFile(p) && e.endsWith(".jar")) {
                Files.copy(p, lib.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                        Files.isDirectory(p) || Files.isExecutable(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /**
     * bin/hull as this user, in its home, with only HOME, USER, PATH (and extra) set; HULL_NO_SERVICE=1
     * unless extra sets it (a test of the user's service: HULL_NO_SERVICE=0).
     */
    HullCommand.Result hull(Map<String, String> extra, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(asUser(extra));
        cmd.add(launcher.toString());
        cmd.addAll(List.of(args));
        return exec(home, cmd);
    }

    /**
     * This host's /dev/net/tun is root's alone (0600), and the host's devices are never changed: the
     * test makes its own node of the same device (10:200), 0666, in dir (which it owns), and runs the
     * user's commands in a private mount namespace where that node is bound over /dev/net/tun. The
     * user's namespace holder, made by the first command, keeps that view. Skips where mknod is refused.
     */
    void useTun(Path dir) throws IOException, InterruptedException {
        Path node = dir.resolve("tun");
        HullCommand.Result r = run("mknod", "-m", "666", node.toString(), "c", "10", "200");
        Assumptions.assumeTrue(r.exit() == 0, "cannot make a tun device node of the test's own: " + r);
        this.tun = node;
    }

    /** argv prefix: runuser to this user with a clean environment (see {@link #hull(Map, String...)}), then a command. */
    List<String> asUser(Map<String, String> extra) {
        List<String> cmd = new ArrayList<>();
        if (tun != null) {
            cmd.addAll(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                    "mount --bind \"$0\" /dev/net/tun && exec \"$@\"", tun.toString()));
        }
        cmd.addAll(List.of("runuser", "-u", name, "--", "env", "-i", "HOME=" + home,
                "USER=" + name, "LOGNAME=" + name, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HULL_CLASSPATH=" + classpath,
                "HULL_JAVA_HOME=" + System.getProperty("java.home")));
        if (!extra.containsKey("HULL_NO_SERVICE")) {
            cmd.add("HULL_NO_SERVICE=1");
        }
        extra.forEach((k, v) -> cmd.add(k + "=" + v));
        return cmd;
    }

    /** Any command as this user (asUser's environment), in its home. */
    HullCommand.Result as(Map<String, String> extra, String... command) throws IOException, InterruptedException {
        List<String> cmd = asUser(extra);
        cmd.addAll(List.of(command));
        return exec(home, cmd);
    }

    HullCommand.Result hull(String... args) throws IOException, InterruptedException {
        return hull(Map.of(), args);
    }

    /**
     * Moves this user's ranges in /etc/subuid and /etc/subgid to a new start past every range there (as
     * an administrator would; usermod refuses while the user runs anything), under shadow's lock
     * (FILE.lock, made by link(), as useradd takes it): the new start.
     */
    long moveRanges() throws IOException, InterruptedException {
        long start = pastEveryRange();
        editRanges(l -> l.startsWith(name + ":") ? name + ":" + start + ":65536" : l, null);
        return start;
    }

    /** Adds a second line for this user to /etc/subuid and /etc/subgid: count ids past every range there; the start. */
    long addRange(int count) throws IOException, InterruptedException {
        long start = pastEveryRange();
        editRanges(l -> l, name + ":" + start + ":" + count);
        return start;
    }

    /** Removes the line of this user's that {@link #addRange} added. */
    void removeRange(long start) throws IOException, InterruptedException {
        editRanges(l -> l.startsWith(name + ":" + start + ":") ? null : l, null);
    }

    /** A start past every range in /etc/subuid and /etc/subgid, on a 65536 boundary. */
    private static long pastEveryRange() throws IOException {
        long start = 0;
        for (String f : List.of("/etc/subuid", "/etc/subgid")) {
            for (String l : Files.readAllLines(Path.of(f))) {
                String[] p = l.split(":");
                if (p.length == 3) {
                    start = Math.max(start, Long.parseLong(p[1]) + Long.parseLong(p[2]));
                }
            }
        }
        return (start / 65536 + 1) * 65536;
    }

    /** Rewrites each line of /etc/subuid and /etc/subgid through edit (null: dropped), and appends extra (if not null), under shadow's lock. */
    private static void editRanges(java.util.function.UnaryOperator<String> edit, String extra)
            throws IOException, InterruptedException {
        for (String f : List.of("/etc/subuid", "/etc/subgid")) {
            Path file = Path.of(f);
            Path mine = Path.of(f + "." + ProcessHandle.current().pid());
            Path lock = Path.of(f + ".lock");
            Files.writeString(mine, Long.toString(ProcessHandle.current().pid()));
            try {
                for (int i = 0; ; i++) {
                    try {
                        Files.createLink(lock, mine);
                        break;
                    } catch (java.nio.file.FileAlreadyExistsException e) {
                        if (i > 600) {
                            throw new IOException(lock + " stays taken");
                        }
                        Thread.sleep(100);
                    }
                }
                try {
                    StringBuilder out = new StringBuilder();
                    for (String l : Files.readAllLines(file)) {
                        String e = edit.apply(l);
                        if (e != null) {
                            out.append(e).append('\n');
                        }
                    }
                    if (extra != null) {
                        out.append(extra).append('\n');
                    }
                    Path tmp = Path.of(f + ".hulltest-" + ProcessHandle.current().pid());
                    Files.writeString(tmp, out);
                    Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(file));
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(lock);
                }
            } finally {
                Files.deleteIfExists(mine);
            }
        }
    }

    /** The default state directory (no XDG_RUNTIME_DIR here): /tmp/hull-UID. */
    Path state() {
        return Path.of("/tmp/hull-" + uid);
    }

    /**
     * Ends the user's namespace holder (the tests remove their containers first), and the user, its
     * home and state if this made it (userdel refuses while the user still runs something: retried).
     */
    @Override
    public void close() throws IOException, InterruptedException {
        Path pidFile = state().resolve("userns.pid");
        if (Files.exists(pidFile)) {
            String pid = Files.readString(pidFile).strip().split("\\s+")[0]; // "PID START"
            run("kill", "-KILL", pid);
            for (int i = 0; i < 600 && Files.exists(Path.of("/proc", pid)); i++) {
                Thread.sleep(100);
            }
        }
        if (made) {
            run("pkill", "-KILL", "-u", name); // what is left of the user's (a service of another namespace)
            for (int i = 0; i < 50 && run("userdel", "-r", name).exit() != 0; i++) {
                Thread.sleep(200);
            }
            run("rm", "-rf", state().toString());
        }
    }

    static HullCommand.Result run(String... cmd) throws IOException, InterruptedException {
        return exec(Path.of("/"), List.of(cmd));
    }

    private static HullCommand.Result exec(Path dir, List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("hull-rootless-", ".out");
        Path err = Files.createTempFile("hull-rootless-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectInput(ProcessBuilder.Redirect.from(
                    new java.io.File("/dev/null"))).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in 300 s");
            }
            return new HullCommand.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
