package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull run's container-shaping flags, end to end: what the process inside actually sees — its
 * environment, directory, user, command, mounts, root filesystem, hostname and network.
 */
class RunFlagsTest {
    static Flags f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("run-flags");
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    @Test
    void envAndEnvFileThroughTheCommandLine() throws Exception {
        // Through the real CLI process: its own environment (for -e KEY) and its working directory
        // (a relative --env-file).
        Path work = Files.createDirectories(f.dir.resolve("envwork"));
        Files.writeString(work.resolve("app.env"), """
                # a comment line
                FROM_FILE=file value with spaces
                   # an indented comment
                OVERRIDDEN=from-file

                FROM_HOST_VIA_FILE
                EMPTY=
                """);
        HullCommand hull = new HullCommand(f.dir.resolve("home"), f.dir.resolve("state"),
                Map.of("FT_HOST_VAR", "host-value", "FT_HOST_VIA_FILE_UNUSED", "x", "FROM_HOST_VIA_FILE", "via-file"));
        ProcessBuilder pb = hull.builder("run", "--rm", "--env-file", "app.env", "-e", "OVERRIDDEN=from-flag",
                "-e", "FT_HOST_VAR", "-e", "FT_NOT_ON_HOST", "-e", "PLAIN=a=b", "busybox", "env").directory(work.toFile());
        Path out = f.dir.resolve("env.out");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertThat(p.waitFor()).isZero();
        String env = Files.readString(out);
        assertThat(env.lines()).contains("FROM_FILE=file value with spaces", "OVERRIDDEN=from-flag",
                "FT_HOST_VAR=host-value", "FROM_HOST_VIA_FILE=via-file", "EMPTY=", "PLAIN=a=b", "HOME=/root",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        assertThat(env).doesNotContain("FT_NOT_ON_HOST").doesNotContain("comment").doesNotContain("FT_HOST_VIA_FILE_UNUSED");
    }

    @Test
    void missingEnvFileIsAnErrorNamingIt() throws Exception {
        assertThat(catchMessage("--env-file", "/nonexistent/x.env", "busybox", "true"))
                .contains("--env-file").contains("/nonexistent/x.env").contains("no such file");
    }

    @Test
    void workdirIsTheCwdAndAMissingOneIsMade() throws Exception {
        assertThat(f.output("--rm", "-w", "/etc", "busybox", "pwd")).isEqualTo("/etc\n");
        // docker makes a missing working directory (owned by root, in the container's own layer)
        assertThat(f.output("--rm", "-w", "/srv/new/dir", "busybox", "sh", "-c", "pwd; ls -ld . | cut -c1")).isEqualTo("/srv/new/dir\nd\n");
        // ...and only in that container: the image is untouched
        assertThat(f.run("--rm", "busybox", "ls", "/srv/new").exit()).isNotZero();
        assertThat(catchMessage("-w", "relative", "busybox", "true")).contains("-w relative");
    }

    @Test
    void userByNameFromTheImagesPasswdAndByNumbers() throws Exception {
        assertThat(f.output("--rm", "-u", "nobody", "busybox", "sh", "-c", "id -u; id -g; echo $HOME"))
                .isEqualTo("65534\n65534\n/nonexistent\n");
        assertThat(f.output("--rm", "-u", "1234:5678", "busybox", "sh", "-c", "id -u; id -g"))
                .isEqualTo("1234\n5678\n");
        assertThat(f.output("--rm", "-u", "nobody:tty", "busybox", "sh", "-c", "id -u; id -g")).isEqualTo("65534\n5\n");
        // a uid the image does not know: gid 0, as docker
        assertThat(f.output("--rm", "-u", "4321", "busybox", "id", "-g")).isEqualTo("0\n");
        // as that user, root's files are out of reach
        Flags.Result r = f.run("--rm", "-u", "nobody", "busybox", "touch", "/root/x");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(catchMessage("-u", "nosuchuser", "busybox", "true")).contains("nosuchuser");
    }

    @Test
    void entrypointReplacesTheImagesAndDropsItsCmd() throws Exception {
        // the image's Cmd is ["sh"]: --entrypoint /bin/echo without a command prints an empty line, not "sh"
        assertThat(f.output("--rm", "--entrypoint", "/bin/echo", "busybox")).isEqualTo("\n");
        assertThat(f.output("--rm", "--entrypoint", "/bin/echo", "busybox", "a", "b")).isEqualTo("a b\n");
        // --entrypoint "": none at all; the command runs as given
        assertThat(f.output("--rm", "--entrypoint", "", "busybox", "echo", "plain")).isEqualTo("plain\n");
        assertThat(catchMessage("--entrypoint", "", "busybox")).contains("no command");
    }

    @Test
    void bindMountReadWriteAndReadOnly() throws Exception {
        Path host = Files.createDirectories(f.dir.resolve("bind"));
        Files.writeString(host.resolve("in"), "from host\n");
        assertThat(f.output("--rm", "-v", host + ":/data", "busybox", "sh", "-c", "cat /data/in; echo written >/data/out"))
                .isEqualTo("from host\n");
        assertThat(Files.readString(host.resolve("out"))).isEqualTo("written\n");
        Flags.Result r = f.run("--rm", "-v", host + ":/data:ro", "busybox", "sh", "-c",
                "cat /data/in; echo no >/data/out2");
        assertThat(r.out()).isEqualTo("from host\n");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("Read-only file system");
        assertThat(host.resolve("out2")).doesNotExist();
        // docker's -v makes a missing host directory, its parents too (--mount refuses: RunMountDeviceTest)
        Path missing = f.dir.resolve("made-by-v/sub");
        assertThat(f.output("--rm", "-v", missing + ":/x", "busybox", "sh", "-c", "echo in > /x/f; echo ok"))
                .isEqualTo("ok\n");
        assertThat(Files.readString(missing.resolve("f"))).isEqualTo("in\n");
        assertThat(Files.isDirectory(missing, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(catchMessage("-v", host + ":/x:rx", "busybox", "true")).contains("ro or rw");
    }

    @Test
    void dockersUpFrontRefusals() throws Exception {
        assertThat(catchMessage("-v", "/tmp:/", "busybox", "true")).contains("invalid volume specification: '/tmp:/'")
                .contains("destination can't be '/'");
        assertThat(catchMessage("-v", "/tmp://", "busybox", "true")).contains("destination can't be '/'");
        assertThat(catchMessage("-m", "4m", "busybox", "true")).contains("Minimum memory limit allowed is 6MB");
        int cpus = Runtime.getRuntime().availableProcessors();
        assertThat(catchMessage("--cpus", String.valueOf(cpus + 1), "busybox", "true"))
                .contains("range of CPUs is from 0.01 to " + cpus + ".00, as there are only " + cpus + " CPUs available");
        assertThat(f.output("--rm", "-m", "6m", "--cpus", String.valueOf(cpus), "busybox", "echo", "ok"))
                .as("the bounds themselves are allowed").isEqualTo("ok\n");
    }

    @Test
    void namedVolumeKeepsDataAcrossContainers() throws Exception {
        f.output("--rm", "-v", "ftdata:/vol", "busybox", "sh", "-c", "echo kept >/vol/file");
        assertThat(f.output("--rm", "-v", "ftdata:/vol:ro", "busybox", "cat", "/vol/file")).isEqualTo("kept\n");
        assertThat(f.engine.volumes().mountpoint("ftdata", false).resolve("file")).hasContent("kept");
    }

    @Test
    void tmpfsIsATmpfsNoexecByDefault() throws Exception {
        Flags.Result r = f.run("--rm", "--tmpfs", "/scratch", "busybox", "sh", "-c",
                "grep ' /scratch ' /proc/mounts; cp /bin/busybox /scratch/bb && echo copied; /scratch/bb true");
        assertThat(r.out()).startsWith("tmpfs /scratch tmpfs ").contains("noexec").contains("nosuid")
                .contains("nodev").contains("copied");
        assertThat(r.exit()).as(r.toString()).isEqualTo(126); // sh: Permission denied
        // options after the colon: exec allowed, a size
        assertThat(f.output("--rm", "--tmpfs", "/scratch:exec,size=2m", "busybox", "sh", "-c",
                "cp /bin/busybox /scratch/ && /scratch/busybox echo ran; df -k /scratch | tail -1 | awk '{print $2}'"))
                .isEqualTo("ran\n2048\n");
        assertThat(catchMessage("--tmpfs", "rel", "busybox", "true")).contains("--tmpfs rel");
    }

    @Test
    void readOnlyRootWithAWritableTmpfs() throws Exception {
        Flags.Result r = f.run("--rm", "--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c",
                "touch /x; echo rootfs=$?; touch /tmp/y; echo tmp=$?; grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1");
        assertThat(r.out()).isEqualTo("rootfs=1\ntmp=0\nro\n");
        assertThat(r.err()).contains("Read-only file system");
        // without --read-only the root is writable
        assertThat(f.output("--rm", "busybox", "sh", "-c", "touch /x && echo ok")).isEqualTo("ok\n");
    }

    @Test
    void hostnameGivenOrTheShortId() throws Exception {
        assertThat(f.output("--rm", "--hostname", "box1", "busybox", "sh", "-c", "hostname; echo $HOSTNAME"))
                .isEqualTo("box1\nbox1\n");
        Flags.Result r = f.run("busybox", "hostname");
        assertThat(r.out()).isEqualTo(f.lastId.substring(0, 12) + "\n");
    }

    @Test
    void networkNoneHasOnlyLoopbackAndHostHasTheHostsInterfaces() throws Exception {
        // the default is the bridge network: its own eth0
        assertThat(interfaces(f.output("--rm", "busybox", "cat", "/proc/net/dev"))).containsExactly("lo", "eth0");
        assertThat(interfaces(f.output("--rm", "--network", "none", "busybox", "cat", "/proc/net/dev")))
                .containsExactly("lo");
        // host: the host's own network namespace (its interfaces come and go; the namespace is the thing)
        assertThat(f.output("--rm", "--network", "host", "busybox", "readlink", "/proc/self/ns/net").trim())
                .isEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString());
        assertThat(catchMessage("--network", "nosuch", "busybox", "true")).contains("no such network: nosuch");
    }

    @Test
    void labelsInInspectAndPsFilter() throws Exception {
        String labelled = f.create("--name", "labelled", "--label", "team=core", "-l", "tier", "busybox", "true");
        String other = f.create("--label", "team=other", "busybox", "true");
        HullCommand.Result r = f.hull.run("inspect", "-f", "{{json .Config.Labels}}", "labelled");
        assertThat(r.out().trim()).as(r.toString()).isEqualTo("{\"team\":\"core\",\"tier\":\"\"}");
        r = f.hull.run("ps", "-a", "--no-trunc", "-q", "--filter", "label=team=core", "--filter", "label=tier");
        assertThat(r.out().lines()).as(r.toString()).containsExactly(labelled).doesNotContain(other);
    }

    static java.util.List<String> interfaces(String procNetDev) {
        return procNetDev.lines().skip(2).map(l -> l.substring(0, l.indexOf(':')).trim()).toList();
    }

    /** The message of the error hull run ARGS fails with (in-process: what the CLI prints after "hull: "). */
    static String catchMessage(String... args) throws Exception {
        try {
            Flags.Result r = f.run(args);
            throw new AssertionError("hull run " + String.join(" ", args) + " did not fail: " + r);
        } catch (dev.hull.runtime.RuntimeError e) {
            return e.getMessage();
        }
    }
}
