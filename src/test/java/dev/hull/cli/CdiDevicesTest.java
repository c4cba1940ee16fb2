package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Devices by CDI (the Container Device Interface specs docker 25+ and podman read): --device
 * vendor.com/class=name and --gpus, from spec files (JSON and YAML) in this test's own spec directories
 * (the config file's cdiSpecDirs), against real device nodes (/dev/null, /dev/fuse standing in for a
 * vendor's): the node with its numbers and the device cgroup's permissions, environment, mounts, extra
 * groups, the later directory's device winning, and clear errors for what no spec defines.
 */
class CdiDevicesTest {
    static Path dir;
    static HullCommand hull;
    static HullCommand noGpus;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-cdi-");
        Path low = Files.createDirectories(dir.resolve("etc-cdi"));
        Path high = Files.createDirectories(dir.resolve("run-cdi"));
        Files.createDirectories(dir.resolve("vendor"));
        Files.writeString(dir.resolve("vendor/lib.txt"), "vendor library\n");
        Files.writeString(low.resolve("test.json"), """
                {"cdiVersion": "0.6.0", "kind": "test.hull.dev/dev",
                 "containerEdits": {"env": ["HULL_CDI_KIND=test"], "hooks": [{"hookName": "createRuntime",
                   "path": "/bin/sh", "args": ["sh", "-c", "cat > HOOKFILE"]}]},
                 "devices": [
                  {"name": "null0", "containerEdits": {
                    "deviceNodes": [{"path": "/dev/hull-cdi-null", "hostPath": "/dev/null"}],
                    "env": ["HULL_CDI_DEV=null0"],
                    "mounts": [{"hostPath": "VENDOR", "containerPath": "/opt/vendor", "options": ["ro", "bind"]}],
                    "additionalGids": [4321]}},
                  {"name": "ro0", "containerEdits": {
                    "deviceNodes": [{"path": "/dev/hull-cdi-ro", "hostPath": "/dev/fuse", "permissions": "r"}]}},
                  {"name": "prio", "containerEdits": {"env": ["PRIO=low"]}}
                 ]}
                """.replace("VENDOR", dir.resolve("vendor").toString()).replace("HOOKFILE", dir.resolve("hook.json").toString()));
        // a second definition of prio in the low directory: a conflict there, which the high directory's prio overrides
        Files.writeString(low.resolve("dup.json"), """
                {"cdiVersion": "0.6.0", "kind": "test.hull.dev/dev", "devices": [{"name": "prio",
                 "containerEdits": {"env": ["PRIO=dup"]}}]}
                """);
        Files.writeString(low.resolve("bad.json"), """
                {"cdiVersion": "0.6.0", "kind": "test.hull.dev/bad", "devices": [{"name": "x"}], "surprise": 1}
                """);
        Files.writeString(high.resolve("test.yaml"), """
                cdiVersion: 0.6.0
                kind: test.hull.dev/dev
                devices:
                  - name: prio
                    containerEdits:
                      env: [PRIO=high]
                  - name: yaml0
                    containerEdits:
                      env: [HULL_CDI_YAML=1]
                """);
        Files.writeString(high.resolve("nvidia.yaml"), """
                cdiVersion: 0.5.0
                kind: nvidia.com/gpu
                devices:
                  - name: "0"
                    containerEdits: {env: [GPU=0], deviceNodes: [{path: /dev/nvidia0, hostPath: /dev/null}]}
                  - name: "1"
                    containerEdits: {env: [GPU=1], deviceNodes: [{path: /dev/nvidia1, hostPath: /dev/null}]}
                  - name: all
                    containerEdits: {env: [GPU=all]}
                """);
        Path config = dir.resolve("hull.json");
        Files.writeString(config, "{\"cdiSpecDirs\": [\"" + low + "\", \"" + high + "\"]}");
        Path config2 = dir.resolve("hull-nogpu.json");
        Files.writeString(config2, "{\"cdiSpecDirs\": [\"" + low + "\"]}");
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of("HULL_CONFIG", config.toString()));
        noGpus = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of("HULL_CONFIG", config2.toString()));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (dir != null) {
            hull.run("rm", "-f", "cdi-unknown");
            dev.hull.image.SnapshotStore.deleteTree(dir);
        }
    }

    @Test
    void aDevicesNodesEnvironmentMountsAndGroupsReachTheContainer() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")),
                "needs /dev/fuse (a device outside the default device cgroup rules) for the read-only rule");
        String out = hull.ok("run", "--rm", "--network", "none", "--device", "test.hull.dev/dev=null0", "--device",
                "test.hull.dev/dev=ro0", "busybox", "sh", "-c", "stat -c '%F %t %T' /dev/hull-cdi-null;"
                        + " echo $HULL_CDI_DEV $HULL_CDI_KIND; cat /opt/vendor/lib.txt; id -G;"
                        + " echo x > /dev/hull-cdi-null && echo wrote-null; (exec 3</dev/hull-cdi-ro) && echo opened-r;"
                        + " (exec 3>/dev/hull-cdi-ro) 2>/dev/null && echo opened-w || echo denied-w;"
                        + " touch /opt/vendor/x 2>/dev/null || echo read-only").out();
        assertThat(out).isEqualTo("character special file 1 3\nnull0 test\nvendor library\n0 4321\nwrote-null\n"
                + "opened-r\ndenied-w\nread-only\n");
        assertThat(Files.readString(dir.resolve("hook.json"))).as("the spec's createRuntime hook ran with the state")
                .contains("\"ociVersion\"").contains("\"pid\"");
    }

    @Test
    void aLaterDirectoryWinsAndYamlSpecsWork() throws Exception {
        assertThat(hull.ok("run", "--rm", "--network", "none", "--device", "test.hull.dev/dev=prio", "--device",
                "test.hull.dev/dev=yaml0", "busybox", "sh", "-c", "echo $PRIO $HULL_CDI_YAML").out())
                .isEqualTo("high 1\n");
    }

    @Test
    void gpusAreNvidiaDevicesOfTheCdiSpecs() throws Exception {
        String script = "echo $GPU; ls /dev | grep nvidia | tr '\\n' ' '; echo";
        assertThat(hull.ok("run", "--rm", "--network", "none", "--gpus", "all", "busybox", "sh", "-c", script).out())
                .isEqualTo("all\n\n");
        assertThat(hull.ok("run", "--rm", "--network", "none", "--gpus", "1", "busybox", "sh", "-c", script).out())
                .isEqualTo("0\nnvidia0 \n");
        assertThat(hull.ok("run", "--rm", "--network", "none", "--gpus", "\"device=0,1\"", "busybox", "sh", "-c",
                script).out()).isEqualTo("1\nnvidia0 nvidia1 \n");
        HullCommand.Result r = hull.run("run", "--rm", "--network", "none", "--gpus", "3", "busybox", "true");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("3 GPUs asked, 2 in the CDI specs");
        r = noGpus.run("run", "--rm", "--network", "none", "--gpus", "all", "busybox", "true");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("no CDI spec of kind nvidia.com/gpu").contains("nvidia-ctk cdi generate");
    }

    @Test
    void whatNoSpecDefinesIsAClearErrorAndNothingIsMade() throws Exception {
        HullCommand.Result r = hull.run("create", "--name", "cdi-unknown", "--network", "none", "--device",
                "test.hull.dev/dev=nope", "busybox", "true");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("unresolvable CDI devices test.hull.dev/dev=nope").contains("bad.json")
                .contains("unknown field 'surprise'");
        assertThat(hull.run("inspect", "cdi-unknown").exit()).as("no container left").isNotZero();
        r = hull.run("run", "--rm", "--network", "none", "--gpus", "count=x", "busybox", "true");
        assertThat(r.err()).contains("x is not a GPU count");
    }
}
