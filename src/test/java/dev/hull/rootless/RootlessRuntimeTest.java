package dev.hull.rootless;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.cli.HullCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull-runtime as an ordinary user (issue 19), with runc's --rootless semantics: a bundle from
 * {@code hull-runtime spec --rootless} (a user namespace mapping the user to 0) goes through
 * create/start/state/exec/kill/delete with its state in $XDG_RUNTIME_DIR/hull-runtime (else
 * /tmp/hull-runtime-UID), no cgroup (limits refused), and more than the user's own id mapped
 * through newuidmap/newgidmap within the user's ranges.
 */
class RootlessRuntimeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @org.junit.jupiter.api.extension.RegisterExtension
    static final RootlessUser.Fixture FIXTURE = new RootlessUser.Fixture("hulltest-rlrt");
    static Path dir;
    static RootlessUser user;
    static String runtime;
    static Path busybox = Path.of("/bin/busybox");

    @BeforeAll
    static void setUp() {
        Assumptions.assumeTrue(Files.isExecutable(busybox), "/bin/busybox is missing (Debian: busybox-static)");
        dir = FIXTURE.dir();
        user = FIXTURE.user();
        runtime = dir.resolve("install/bin/hull-runtime").toString();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (user != null) {
            RootlessUser.run("rm", "-rf", "/tmp/hull-runtime-" + user.uid);
        }
    }

    /** A bundle of the user's: busybox as rootfs, config.json from spec --rootless, then edit applied. */
    private static Path bundle(String name, Consumer<ObjectNode> edit) throws Exception {
        Path b = user.home.resolve(name);
        HullCommand.Result r = user.as(Map.of(), "sh", "-c", "mkdir -p " + b + "/rootfs/bin && cp " + busybox + " " + b
                + "/rootfs/bin/busybox && for t in sh sleep id cat; do ln -s busybox " + b + "/rootfs/bin/$t; done && cd "
                + b + " && " + runtime + " spec --rootless");
        assertThat(r.exit()).as(r.toString()).isZero();
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).put("terminal", false);
        edit.accept(spec);
        JSON.writeValue(b.resolve("config.json").toFile(), spec); // root writes; the file stays the user's
        return b;
    }

    private static void args(ObjectNode spec, String... args) {
        ArrayNode a = ((ObjectNode) spec.get("process")).putArray("args");
        for (String s : args) {
            a.add(s);
        }
    }

    private static HullCommand.Result rt(Map<String, String> env, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = runtime;
        System.arraycopy(args, 0, cmd, 1, args.length);
        return user.as(env, cmd);
    }

    @Test
    void aRootlessSpecGoesThroughCreateStartStateExecKillDeleteAsTheUser() throws Exception {
        Path run = user.home.resolve("rt-run");
        assertThat(RootlessUser.run("runuser", "-u", user.name, "--", "mkdir", "-m", "700", run.toString()).exit())
                .isZero();
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", run.toString());
        Path b = bundle("b-life", s -> args(s, "sleep", "1000"));
        String id = "rlrt-life-" + ProcessHandle.current().pid();
        HullCommand.Result r = rt(env, "create", "--bundle", b.toString(), id);
        assertThat(r.exit()).as(r.toString()).isZero();
        try {
            Path state = run.resolve("hull-runtime").resolve(id);
            assertThat(state).isDirectory();
            assertThat(Files.getOwner(state).getName()).isEqualTo(user.name);
            assertThat(Path.of("/run/hull-runtime", id)).doesNotExist();
            r = rt(env, "state", id);
            assertThat(r.out()).as(r.toString()).contains("\"status\" : \"created\"");
            int pid = JSON.readTree(r.out()).get("pid").asInt();
            assertThat(rt(env, "start", id).exit()).isZero();
            r = rt(env, "state", id);
            assertThat(r.out()).as(r.toString()).contains("\"status\" : \"running\"");
            // the user's own process, in a user namespace where the user is root
            assertThat(Files.readString(Path.of("/proc", Integer.toString(pid), "uid_map")).trim().split("\\s+"))
                    .containsExactly("0", Long.toString(user.uid), "1");
            assertThat(Files.getOwner(Path.of("/proc", Integer.toString(pid))).getName()).isEqualTo(user.name);
            // rootless Hull's own `hull runtime` (root of the user's namespace: --rootless auto is rootless
            // there too) finds the same state root
            r = user.hull(env, "runtime", "state", id);
            assertThat(r.out()).as(r.toString()).contains("\"status\" : \"running\"");
            r = rt(env, "exec", id, "id", "-u");
            assertThat(r.out()).as(r.toString()).isEqualTo("0\n");
            assertThat(rt(env, "kill", id, "KILL").exit()).isZero();
            for (int i = 0; i < 600 && !rt(env, "state", id).out().contains("\"stopped\""); i++) {
                Thread.sleep(100);
            }
            assertThat(rt(env, "state", id).out()).contains("\"status\" : \"stopped\"");
            r = rt(env, "delete", id);
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(state).doesNotExist();
        } finally {
            rt(env, "delete", "--force", id);
        }
    }

    @Test
    void limitsAreRefusedAndLeaveNothing() throws Exception {
        Path b = bundle("b-limits", s -> {
            args(s, "true");
            ((ObjectNode) s.get("linux")).putObject("resources").putObject("memory").put("limit", 64L << 20);
        });
        String id = "rlrt-limits-" + ProcessHandle.current().pid();
        HullCommand.Result r = rt(Map.of(), "run", "--bundle", b.toString(), id);
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("config.json: linux.resources.memory: a rootless container has no cgroup");
        assertThat(rt(Map.of(), "list", "-q").out()).doesNotContain(id);
        assertThat(Path.of("/tmp/hull-runtime-" + user.uid, id)).doesNotExist();
    }

    @Test
    void theUsersSubordinateRangeIsMappedThroughNewuidmapAndAnotherIsRefused() throws Exception {
        String[] range = Files.readAllLines(Path.of("/etc/subuid")).stream().filter(l -> l.startsWith(user.name + ":"))
                .findFirst().orElseThrow().split(":");
        String[] grange = Files.readAllLines(Path.of("/etc/subgid")).stream().filter(l -> l.startsWith(user.name + ":"))
                .findFirst().orElseThrow().split(":");
        Path b = bundle("b-range", s -> {
            args(s, "cat", "/proc/self/uid_map");
            ObjectNode linux = (ObjectNode) s.get("linux");
            ((ArrayNode) linux.get("uidMappings")).addObject().put("containerID", 1).put("hostID",
                    Long.parseLong(range[1])).put("size", Long.parseLong(range[2]));
            ((ArrayNode) linux.get("gidMappings")).addObject().put("containerID", 1).put("hostID",
                    Long.parseLong(grange[1])).put("size", Long.parseLong(grange[2]));
        });
        // no XDG_RUNTIME_DIR: the state goes to /tmp/hull-runtime-UID
        HullCommand.Result r = rt(Map.of(), "run", "--bundle", b.toString(), "rlrt-range-" + ProcessHandle.current().pid());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out().trim().split("\\s+")).containsExactly("0", Long.toString(user.uid), "1", "1", range[1],
                range[2]);
        assertThat(Path.of("/tmp/hull-runtime-" + user.uid)).isDirectory();

        Path other = bundle("b-other", s -> {
            args(s, "true");
            ((ArrayNode) s.get("linux").get("uidMappings")).addObject().put("containerID", 1)
                    .put("hostID", Long.parseLong(range[1]) + Long.parseLong(range[2])).put("size", 10);
        });
        r = rt(Map.of(), "run", "--bundle", other.toString(), "rlrt-other-" + ProcessHandle.current().pid());
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("newuidmap refused the mappings of config.json");
        assertThat(rt(Map.of(), "list", "-q").out()).isEmpty();
    }

    @Test
    void aBadRootlessValueIsAnError() throws Exception {
        HullCommand.Result r = rt(Map.of(), "--rootless", "maybe", "list");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("--rootless must be auto, true or false, not maybe");
    }
}
