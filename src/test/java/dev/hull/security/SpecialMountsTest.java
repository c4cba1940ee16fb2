package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.BusyboxRootfs;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Special mount targets an image controls: procfs on a symlinked /proc (the masked /proc paths,
 * resolved by name, would miss it: the CVE-2019-19921 class), and /dev/console, which must be the
 * container's terminal (as with runc) and never a symlink the bind follows (the CVE-2025-52565 class).
 */
class SpecialMountsTest {
    static Attack a;

    @BeforeAll
    static void setUp() throws Exception {
        a = new Attack("special");
    }

    @AfterAll
    static void tearDown() throws Exception {
        a.close();
    }

    /** A private, writable busybox rootfs for a test that changes it. */
    static Path privateRootfs(String name) throws Exception {
        return BusyboxRootfs.ensure(a.dir.resolve("rootfs-" + name));
    }

    @Test
    void procOnASymlinkedTargetIsRefused() throws Exception {
        Path rootfs = privateRootfs("proc-link");
        Files.delete(rootfs.resolve("proc"));
        Files.createSymbolicLink(rootfs.resolve("proc"), Path.of("tmp"));
        Path b = a.bundle("proc-link", "sh", "-c", "cat /tmp/self/status > /out/leak");
        ObjectNode c = Attack.config(b);
        ((ObjectNode) c.get("root")).put("path", rootfs.toString());
        Attack.write(b, c);
        String id = "proc-link-" + ProcessHandle.current().pid();
        Attack.Result r = a.create(id, b);
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.err()).as("%s", r).contains("/proc").contains("symlink");
        assertThat(Files.exists(b.resolve("out/leak"))).isFalse();
    }

    @Test
    void aTerminalIsAlsoDevConsole() throws Exception {
        Attack.Result r = a.hull("run", "--rm", "-t", "--network", "none", "busybox", "sh", "-c",
                "[ /dev/console -ef \"$(tty)\" ] && echo console-is-tty; stat -c %t /dev/console");
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.out()).as("%s", r).contains("console-is-tty").contains("88"); // pty slaves: major 136 = 0x88
    }

    @Test
    void aSymlinkedDevConsoleIsNotFollowed() throws Exception {
        // No /dev tmpfs: the image's own /dev is used (devpts still on /dev/pts), where /dev/console points at a file the
        // container could otherwise get the terminal bound over.
        Path rootfs = privateRootfs("console-link");
        Files.createDirectories(rootfs.resolve("dev"));
        Files.writeString(rootfs.resolve("etc/target"), "untouched");
        Files.createSymbolicLink(rootfs.resolve("dev/console"), Path.of("/etc/target"));
        Path b = a.bundle("console-link", "sh", "-c", "cat /etc/target > /out/target");
        ObjectNode c = Attack.config(b);
        ((ObjectNode) c.get("root")).put("path", rootfs.toString());
        ((ObjectNode) c.get("root")).put("readonly", false);
        ((ObjectNode) c.get("process")).put("terminal", true);
        ArrayNode mounts = (ArrayNode) c.get("mounts");
        for (int i = mounts.size() - 1; i >= 0; i--) {
            String dest = mounts.get(i).path("destination").asText();
            if (dest.equals("/dev")) {
                mounts.remove(i);
            }
        }
        Attack.write(b, c);
        Path sock = a.dir.resolve("console.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            String id = "console-link-" + ProcessHandle.current().pid();
            a.track(id);
            Attack.Result r = a.runtime("create", "--console-socket", sock.toString(), "--bundle", b.toString(), id);
            assertThat(r.exit()).as("%s", r).isNotZero();
            assertThat(r.err()).as("%s", r).contains("/dev/console");
        }
        assertThat(Files.readString(rootfs.resolve("etc/target"))).isEqualTo("untouched");
    }

    @Test
    void theHostsProcBoundOnPurposeStillWorks() throws Exception {
        // procfs reached without a symlink is what the config asked for (monitoring agents bind it)
        for (String v : new String[] {"/proc:/host/proc:ro", "/proc:/host/proc"}) {
            Attack.Result r = a.hull("run", "--rm", "--network", "none", "-v", v, "busybox", "sh", "-c",
                    "test -d /host/proc/1 && echo host-proc");
            assertThat(r.exit()).as(v + ": %s", r).isZero();
            assertThat(r.out()).isEqualTo("host-proc\n");
        }
    }

    @Test
    void aTerminalWithoutAMountNamespaceBindsNothingOnTheHost() throws Exception {
        // Without a mount namespace of its own Hull makes no mount at all: not even /dev/console.
        Path rootfs = privateRootfs("console-nomntns");
        Path pts = Files.createDirectories(rootfs.resolve("dev/pts"));
        Files.deleteIfExists(rootfs.resolve("dev/ptmx"));
        Files.createSymbolicLink(rootfs.resolve("dev/ptmx"), Path.of("pts/ptmx"));
        List<String> mine = new ArrayList<>();
        try {
            mountOnHost(mine, "devpts", pts, "newinstance,ptmxmode=0666");
            mountOnHost(mine, "proc", rootfs.resolve("proc"), null);
            Path b = a.bundle("console-nomntns", "true");
            ObjectNode c = Attack.config(b);
            ((ObjectNode) c.get("root")).put("path", rootfs.toString());
            ((ObjectNode) c.get("root")).put("readonly", false);
            ((ObjectNode) c.get("process")).put("terminal", true);
            ((ArrayNode) c.get("mounts")).removeAll();
            ArrayNode ns = (ArrayNode) c.path("linux").path("namespaces");
            for (int i = ns.size() - 1; i >= 0; i--) {
                if (ns.get(i).path("type").asText().equals("mount")) {
                    ns.remove(i);
                }
            }
            ((ObjectNode) c.get("linux")).putArray("maskedPaths");
            ((ObjectNode) c.get("linux")).putArray("readonlyPaths");
            Attack.write(b, c);
            Path sock = a.dir.resolve("console-nomntns.sock");
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(sock));
                String id = "console-nomntns-" + ProcessHandle.current().pid();
                a.track(id);
                Attack.Result r = a.runtime("create", "--console-socket", sock.toString(), "--bundle", b.toString(), id);
                assertThat(r.exit()).as("%s", r).isZero();
                assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).as("the host's mounts")
                        .doesNotContain(rootfs.resolve("dev/console").toString());
            }
        } finally {
            for (int i = mine.size() - 1; i >= 0; i--) {
                new ProcessBuilder("umount", "-l", mine.get(i)).inheritIO().start().waitFor();
            }
        }
    }

    private static void mountOnHost(List<String> mine, String type, Path at, String options) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", type));
        if (options != null) {
            cmd.addAll(List.of("-o", options));
        }
        cmd.addAll(List.of(type, at.toString()));
        assertThat(new ProcessBuilder(cmd).inheritIO().start().waitFor()).as("mount %s on %s", type, at).isZero();
        mine.add(at.toString());
    }
}
