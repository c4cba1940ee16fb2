package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.engine.VolumeStore;
import dev.hull.runtime.Caller;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What Hull does on the host with files a container made: removing its writable layer ({@code hull
 * rm}, both snapshotters), removing and measuring a volume it wrote ({@code hull volume rm}, {@code
 * system df}). The container fills them with symlinks to the canary, directories it made
 * unreadable, device nodes and FIFOs: the host walks must never follow a link or open a node.
 */
class RemovalEscapeTest {
    static HullBox box;
    static String c;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("removal");
        c = box.canary.dir.toString();
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    /** Links to the canary (absolute, climbing, to its files and its directory), locked directories, nodes. */
    static String litter(String where) {
        return "mkdir -p " + where + "/d/deeper && ln -s " + c + " " + where + "/dir-link && ln -s " + c + "/file " + where
                + "/file-link && ln -s " + "../".repeat(40) + c.substring(1) + " " + where + "/d/rel-link && ln -s " + c
                + "/sub " + where + "/d/deeper/sub-link && mkfifo " + where + "/fifo && mknod " + where + "/null c 1 3 &&"
                + " chmod 000 " + where + "/d/deeper " + where + "/d && echo LITTERED";
    }

    @Test
    void removingAContainerNeverFollowsWhatItMade() throws Exception {
        for (String snapshotter : new String[] {"overlay", "copy"}) {
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("HULL_SNAPSHOTTER", snapshotter);
            String name = "litter-" + snapshotter;
            Object r = Caller.with(new Caller(box.dir, env), () -> box.runOrRefusal("--name", name, "busybox", "sh", "-c",
                    litter("/litter") + " && ln -s " + c + " /etc/evil && rm -rf /tmp && ln -s " + c + " /tmp"));
            assertThat(r).as(snapshotter).isInstanceOf(HullBox.Result.class);
            assertThat(((HullBox.Result) r).out()).as(snapshotter + ": " + r).isEqualTo("LITTERED\n");
            Path dir = box.engine.containers().dir(box.info(name).id());
            assertThat(dir).exists();
            box.remove(name);
            assertThat(dir).as(snapshotter).doesNotExist();
            box.canary.assertUntouched();
        }
    }

    @Test
    void removingAVolumeNeverFollowsWhatAContainerPutThere() throws Exception {
        // a megabyte the test owns, outside the volume, that a link-following walk would count
        Path big = Files.createDirectories(box.dir.resolve("big"));
        Files.write(big.resolve("mb"), new byte[1 << 20]);
        String out = box.output("--rm", "-v", "littered:/data", "busybox", "sh", "-c", litter("/data") + " && ln -s "
                + big + " /data/big-dir && ln -s " + big + "/mb /data/big-file");
        assertThat(out).isEqualTo("LITTERED\n");
        Path data = box.engine.volumes().mountpoint("littered", false);
        // system df / volume prune measure it: the links are not followed
        assertThat(VolumeStore.size(data)).as("bytes counted in the volume").isLessThan(4096);
        box.engine.volumes().remove("littered", false, box.engine::volumesInUse);
        assertThat(data).doesNotExist();
        box.canary.assertUntouched();
        assertThat(Files.size(big.resolve("mb"))).isEqualTo(1 << 20);
    }
}
