package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hull.cli.HullCommand;
import dev.hull.image.SnapshotStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Who the Docker API's socket serves: root, and members of the service's group, by number as the
 * kernel recorded the peer (SO_PEERCRED, SO_PEERGROUPS), as the warm server does — whatever the
 * socket's mode and whatever names the user database gives. The service runs in a mount namespace
 * of the test's whose /etc/passwd also names a second uid "root" and whose /etc/group has a group
 * without listed members (the host's files are not changed); the clients are uids set with setpriv.
 */
class DockerApiPeerTest {

    @Test
    void theDockerSocketServesRootAndTheGroupByNumberAndNobodyElse() throws Exception {
        assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "needs root (a mount namespace for the service, setpriv for the clients)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")) && Files.isExecutable(Path.of("/usr/bin/unshare")),
                "setpriv and unshare (util-linux) are needed to act as other users");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "python3 is the test's unprivileged API client");
        int uid = 42000 + new java.security.SecureRandom().nextInt(8000);
        int gid = uid + 1;
        int member = uid + 2;
        assumeTrue(free(uid) && free(gid) && free(member), "uids/gids " + uid + ".." + member + " are in use on this host");
        String group = "hulldp-" + uid;
        Path tmp = Files.createTempDirectory(Path.of("/tmp"), "hull-dpeer-");
        Process service = null;
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path passwd = tmp.resolve("passwd");
            Files.writeString(passwd, Files.readString(Path.of("/etc/passwd")) + "root:x:" + uid + ":" + uid
                    + ":a second name root:/:/usr/sbin/nologin\n");
            Path groups = tmp.resolve("group");
            Files.writeString(groups, Files.readString(Path.of("/etc/group")) + group + ":x:" + gid + ":\n");
            Path run = Files.createDirectory(tmp.resolve("run"));
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path sock = run.resolve("hull.sock");
            Path docker = run.resolve("docker.sock");
            HullCommand hull = new HullCommand(tmp.resolve("home"), tmp.resolve("state"), Map.of());
            ProcessBuilder pb = hull.builder("system", "service", "--idle-timeout", "0", "--socket", sock.toString(),
                    "--group", group, "--docker-socket", docker.toString());
            List<String> cmd = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                    "mount --bind \"$1\" /etc/passwd && mount --bind \"$2\" /etc/group && shift 2 && exec \"$@\"",
                    "sh", passwd.toString(), groups.toString()));
            cmd.addAll(pb.command());
            pb.command(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("service.log").toFile());
            service = pb.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!ping(null, docker).startsWith("HTTP/1.1 200") && service.isAlive()
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(ping(null, docker)).as("root's _ping; service log:%n%s",
                    Files.readString(tmp.resolve("service.log"))).startsWith("HTTP/1.1 200");
            assertThat(Files.getAttribute(docker, "unix:gid")).isEqualTo(gid);
            // the mode no longer keeps anyone out: only the server's own check does
            Files.setPosixFilePermissions(docker, PosixFilePermissions.fromString("rw-rw-rw-"));

            // a uid that the user database calls "root": not root (the check once compared names)
            assertThat(ping(List.of("--reuid=" + uid, "--regid=" + uid, "--clear-groups"), docker))
                    .startsWith("HTTP/1.1 403");
            assertThat(ping(List.of("--reuid=65534", "--regid=65534", "--clear-groups"), docker))
                    .startsWith("HTTP/1.1 403");
            // members of the group, primary or supplementary (the kernel's list, not /etc/group's members)
            assertThat(ping(List.of("--reuid=" + member, "--regid=" + gid, "--clear-groups"), docker))
                    .startsWith("HTTP/1.1 200");
            assertThat(ping(List.of("--reuid=" + member, "--regid=" + member, "--groups=" + gid), docker))
                    .startsWith("HTTP/1.1 200");
            assertThat(ping(null, docker)).startsWith("HTTP/1.1 200");
        } finally {
            if (service != null) {
                service.destroy();
                if (!service.waitFor(60, TimeUnit.SECONDS)) {
                    service.destroyForcibly().waitFor();
                }
            }
            SnapshotStore.deleteTree(tmp);
        }
    }

    /** Whether no user and no group has id n on this host. */
    static boolean free(int n) throws Exception {
        for (String db : List.of("passwd", "group")) {
            Process p = new ProcessBuilder("getent", db, Integer.toString(n)).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() == 0) {
                return false;
            }
        }
        return true;
    }

    /** The status line of GET /_ping on sock, sent by python3 as the setpriv options say (null: as root). */
    static String ping(List<String> setpriv, Path sock) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (setpriv != null) {
            cmd.add("setpriv");
            cmd.addAll(setpriv);
        }
        cmd.addAll(List.of("/usr/bin/python3", "-c", "import socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX)\n"
                + "try:\n s.connect(sys.argv[1])\nexcept OSError as e:\n print('connect:', e); sys.exit(0)\n"
                + "s.sendall(b'GET /_ping HTTP/1.1\\r\\nHost: d\\r\\nConnection: close\\r\\n\\r\\n')\n"
                + "print(s.recv(200).split(b'\\r\\n')[0].decode())\n", sock.toString()));
        Process p = new ProcessBuilder(cmd).directory(new java.io.File("/")).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        return out;
    }
}
