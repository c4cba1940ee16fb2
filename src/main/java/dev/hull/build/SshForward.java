package dev.hull.build;

import dev.hull.linux.AtFiles;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ssh identity a build's git fetches and its {@code RUN --mount=type=ssh} steps (through an
 * {@link AgentProxy}) may use ({@code hull build --ssh}, BuildKit's flag): none by default, so that a repository named {@code git@host:x.git} is fetched without the service's
 * (root's) keys, agent or ssh configuration; with {@code --ssh default} the caller's agent
 * ({@code SSH_AUTH_SOCK}), with {@code --ssh default=KEY[,KEY]} the caller's key files. What the
 * caller names is checked to be the caller's own (a service runs the fetch as root for a caller that
 * may not be): an agent socket is held by an O_PATH descriptor and ssh reaches it through that
 * descriptor, never through the caller's path again; a key file is read through a descriptor and
 * copied into the build's private temp directory.
 *
 * @param agent a descriptor (O_PATH) of the agent's socket, or -1
 * @param keys copies of the key files (mode 0600, under a root-only directory)
 * @param knownHosts the files of known host keys (empty: the host's, /etc/ssh/ssh_known_hosts and
 *     the service user's ~/.ssh/known_hosts, read only)
 */
public record SshForward(int agent, List<Path> keys, List<Path> knownHosts) implements AutoCloseable {
    /** No identity: what every fetch gets unless the caller forwards one (and the Docker API's, always). */
    public static final SshForward NONE = new SshForward(-1, List.of(), List.of());

    public SshForward {
        keys = List.copyOf(keys);
        knownHosts = List.copyOf(knownHosts);
    }

    /**
     * From {@code --ssh} values: {@code default} (the agent at the caller's SSH_AUTH_SOCK) or
     * {@code default=PATH[,PATH]} (key files; a path that is an agent socket means that agent).
     * Key copies go under tmp. An empty list: {@link #NONE}.
     */
    public static SshForward parse(List<String> specs, Map<String, String> callerEnv,
            java.util.function.UnaryOperator<Path> resolve, int callerUid, Path tmp) throws BuildException, IOException {
        if (specs.isEmpty()) {
            return NONE;
        }
        int agent = -1;
        List<Path> keys = new ArrayList<>();
        try {
            for (String spec : specs) {
                int eq = spec.indexOf('=');
                String id = eq < 0 ? spec : spec.substring(0, eq);
                if (!id.equals("default")) {
                    throw new BuildException("--ssh " + spec + ": only the id default is supported (it is what the git"
                            + " fetch of the context and of ADD uses, and RUN --mount=type=ssh)");
                }
                List<String> paths = new ArrayList<>();
                if (eq < 0) {
                    String sock = callerEnv.get("SSH_AUTH_SOCK");
                    if (sock == null || sock.isEmpty()) {
                        throw new BuildException("--ssh " + spec + ": SSH_AUTH_SOCK is not set (start ssh-agent, or give"
                                + " key files: --ssh default=$HOME/.ssh/id_ed25519)");
                    }
                    paths.add(sock);
                } else {
                    for (String p : spec.substring(eq + 1).split(",")) {
                        if (!p.isBlank()) {
                            paths.add(p.strip());
                        }
                    }
                    if (paths.isEmpty()) {
                        throw new BuildException("--ssh " + spec + ": use default or default=PATH[,PATH]");
                    }
                }
                for (String p : paths) {
                    int fd = openOwn(spec, resolve.apply(Path.of(p)), callerUid);
                    if (AtFiles.fstat(fd).type() == AtFiles.S_IFSOCK) {
                        if (agent >= 0) {
                            Syscalls.close(fd);
                            throw new BuildException("--ssh " + spec + ": one agent only");
                        }
                        agent = fd;
                    } else {
                        keys.add(copyKey(spec, p, fd, tmp, keys.size()));
                    }
                }
            }
        } catch (BuildException | IOException | RuntimeException e) {
            if (agent >= 0) {
                Syscalls.close(agent);
            }
            throw e;
        }
        return new SshForward(agent, keys, List.of());
    }

    /**
     * This forward checking host keys against these files instead of the host's (a test's server).
     * The agent's descriptor is shared: close one of the two.
     */
    public SshForward knownHosts(List<Path> files) {
        return new SshForward(agent, keys, files);
    }

    /** The agent's socket as a path ssh can connect to (through this process's descriptor), or null. */
    String agentPath() {
        return agent < 0 ? null : "/proc/" + ProcessHandle.current().pid() + "/fd/" + agent;
    }

    /**
     * The command git runs for ssh (GIT_SSH_COMMAND, a shell line): no configuration file, no prompt,
     * no forwarding, host keys checked (unknown hosts refused, nothing written), and only the
     * identities this forward holds — with none, no key file and no agent at all.
     */
    String sshCommand() {
        List<String> o = new ArrayList<>(List.of("ssh", "-F", "/dev/null", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no", "-o", "ForwardAgent=no",
                "-o", "ForwardX11=no", "-o", "ClearAllForwardings=yes", "-o", "PermitLocalCommand=no",
                "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
                "-o", "HostbasedAuthentication=no", "-o", "GSSAPIAuthentication=no"));
        o.addAll(List.of("-o", "IdentityAgent=" + (agent < 0 ? "none" : "SSH_AUTH_SOCK")));
        o.addAll(List.of("-o", "IdentitiesOnly=" + (agent < 0 ? "yes" : "no")));
        if (keys.isEmpty()) {
            o.addAll(List.of("-o", "IdentityFile=none"));
        }
        for (Path k : keys) {
            o.addAll(List.of("-o", "IdentityFile=" + k));
        }
        if (!knownHosts.isEmpty()) {
            o.addAll(List.of("-o", "GlobalKnownHostsFile=/dev/null", "-o", "UserKnownHostsFile="
                    + String.join(" ", knownHosts.stream().map(Path::toString).toList())));
        }
        StringBuilder line = new StringBuilder();
        for (String w : o) {
            line.append(line.isEmpty() ? "" : " ").append('\'').append(w.replace("'", "'\\''")).append('\'');
        }
        return line.toString();
    }

    /** The path p opened without following a symlink at its end, refused unless the caller owns it. */
    private static int openOwn(String spec, Path p, int callerUid) throws BuildException {
        int fd;
        try {
            fd = Syscalls.open(p.toString(), Syscalls.O_PATH | Syscalls.O_NOFOLLOW | Syscalls.O_CLOEXEC, 0);
        } catch (LinuxException e) {
            throw new BuildException("--ssh " + spec + ": " + p + ": " + (e.errno() == dev.hull.linux.Errno.ELOOP
                    ? "a symbolic link; give the file itself" : dev.hull.linux.Errno.describe(e.errno())));
        }
        try {
            AtFiles.Stat s = AtFiles.fstat(fd);
            if (s.type() == AtFiles.S_IFLNK) {
                throw new BuildException("--ssh " + spec + ": " + p + ": a symbolic link; give the file itself");
            }
            if (s.type() != AtFiles.S_IFSOCK && s.type() != AtFiles.S_IFREG) {
                throw new BuildException("--ssh " + spec + ": " + p + ": not a key file or an agent's socket");
            }
            if (callerUid > 0 && s.uid() != callerUid) {
                throw new BuildException("--ssh " + spec + ": " + p + " belongs to uid " + s.uid() + ", not to you");
            }
            return fd;
        } catch (LinuxException e) {
            Syscalls.close(fd);
            throw new BuildException("--ssh " + spec + ": " + p + ": " + e.getMessage());
        } catch (BuildException | RuntimeException e) {
            Syscalls.close(fd);
            throw e;
        }
    }

    /** The key file pathFd (O_PATH) reads, copied to a 0600 file of root's under tmp; pathFd is closed. */
    private static Path copyKey(String spec, String name, int pathFd, Path tmp, int n) throws BuildException, IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            int fd = Syscalls.open("/proc/self/fd/" + pathFd, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                byte[] buf = new byte[8192];
                for (int r; (r = Syscalls.read(fd, buf, 0, buf.length)) > 0; ) {
                    bytes.write(buf, 0, r);
                    if (bytes.size() > 1 << 20) {
                        throw new BuildException("--ssh " + spec + ": " + name + ": not a key file (over 1 MiB)");
                    }
                }
            } finally {
                Syscalls.close(fd);
            }
        } catch (LinuxException e) {
            throw new BuildException("--ssh " + spec + ": " + name + ": " + e.getMessage());
        } finally {
            Syscalls.close(pathFd);
        }
        Path dir = tmp.resolve("ssh");
        if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        }
        Path key = dir.resolve("key" + n);
        Files.write(key, bytes.toByteArray(), java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return key;
    }

    @Override
    public void close() {
        if (agent >= 0) {
            Syscalls.close(agent);
        }
    }
}
