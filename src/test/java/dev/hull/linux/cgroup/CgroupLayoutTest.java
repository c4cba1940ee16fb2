package dev.hull.linux.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.linux.cgroup.CgroupLayout.Mode;
import dev.hull.linux.cgroup.CgroupLayout.V1Hierarchy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CgroupLayoutTest {

    static final String PURE_V2 = """
            22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
            23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
            26 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
            27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            """;

    /** Ubuntu 18.04-style legacy layout: comounts, named systemd hierarchy with extra options, no cgroup2. */
    static final String LEGACY = """
            25 30 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
            27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
            30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
            31 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,net_cls,net_prio
            32 25 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
            33 25 0:30 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpuset,clone_children
            34 25 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
            35 25 0:32 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,freezer
            """;

    static String hybridFixture() throws IOException {
        try (InputStream in = CgroupLayoutTest.class.getResourceAsStream("mountinfo-hybrid.txt")) {
            assertThat(in).as("fixture mountinfo-hybrid.txt").isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void parsesPureV2() {
        CgroupLayout l = CgroupLayout.parse(PURE_V2);
        assertThat(l.mode()).isEqualTo(Mode.V2);
        assertThat(l.unifiedMount()).isEqualTo(Path.of("/sys/fs/cgroup"));
        assertThat(l.v1()).isEmpty();
    }

    @Test
    void parsesHybridFixtureFromThisMachine() throws IOException {
        CgroupLayout l = CgroupLayout.parse(hybridFixture());
        assertThat(l.mode()).isEqualTo(Mode.HYBRID);
        assertThat(l.unifiedMount()).isEqualTo(Path.of("/sys/fs/cgroup/unified"));
        assertThat(l.v1()).containsExactly(
                new V1Hierarchy(Path.of("/sys/fs/cgroup/cpu"), List.of("cpu")),
                new V1Hierarchy(Path.of("/sys/fs/cgroup/cpuacct"), List.of("cpuacct")),
                new V1Hierarchy(Path.of("/sys/fs/cgroup/cpuset"), List.of("cpuset")),
                new V1Hierarchy(Path.of("/sys/fs/cgroup/memory"), List.of("memory")),
                new V1Hierarchy(Path.of("/sys/fs/cgroup/devices"), List.of("devices")),
                new V1Hierarchy(Path.of("/sys/fs/cgroup/freezer"), List.of("freezer")),
                new V1Hierarchy(Path.of("/sys/fs/cgroup/blkio"), List.of("blkio")),
                new V1Hierarchy(Path.of("/sys/fs/cgroup/pids"), List.of("pids")),
                new V1Hierarchy(Path.of("/sys/fs/cgroup/systemd"), List.of("name=systemd")));
    }

    @Test
    void parsesLegacyWithComountsAndNamedHierarchy() {
        CgroupLayout l = CgroupLayout.parse(LEGACY);
        assertThat(l.mode()).isEqualTo(Mode.LEGACY);
        assertThat(l.unifiedMount()).isNull();
        assertThat(l.v1()).extracting(V1Hierarchy::controllers).containsExactly(
                List.of("name=systemd"), List.of("cpu", "cpuacct"), List.of("net_cls", "net_prio"),
                List.of("memory"), List.of("cpuset"), List.of("pids"), List.of("freezer"));
        assertThat(l.v1Hierarchy("cpuacct").orElseThrow().mountPoint()).isEqualTo(Path.of("/sys/fs/cgroup/cpu,cpuacct"));
        assertThat(l.v1Hierarchy("blkio")).isEmpty();
    }

    @Test
    void duplicateMountsOfOneHierarchyCountOnce_andOctalEscapesAreDecoded() {
        String text = LEGACY
                + "50 25 0:29 /docker/abc /var/lib/x\\040y/memory rw - cgroup cgroup rw,memory\n"
                + "51 25 0:40 / /tmp/private\\040cg2 rw - cgroup2 none rw\n"
                + "52 23 0:40 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
                + "53 23 0:41 / /tmp/other rw - cgroup cgroup rw,name=foo,none\n";
        CgroupLayout l = CgroupLayout.parse(text);
        assertThat(l.mode()).isEqualTo(Mode.HYBRID);
        assertThat(l.unifiedMount()).as("conventional mount point preferred").isEqualTo(Path.of("/sys/fs/cgroup/unified"));
        assertThat(l.v1Hierarchy("memory").orElseThrow().mountPoint()).isEqualTo(Path.of("/sys/fs/cgroup/memory"));
        assertThat(l.v1()).filteredOn(h -> h.has("memory")).hasSize(1);
        assertThat(l.v1Hierarchy("name=foo").orElseThrow().controllers()).containsExactly("name=foo");

        CgroupLayout only = CgroupLayout.parse("51 25 0:40 / /tmp/private\\040cg2 rw - cgroup2 none rw\n");
        assertThat(only.unifiedMount()).isEqualTo(Path.of("/tmp/private cg2"));
    }

    @Test
    void noCgroupFilesystemIsAnError() {
        assertThatThrownBy(() -> CgroupLayout.parse("27 1 8:1 / / rw - ext4 /dev/sda1 rw\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no cgroup");
    }

    /** Facts of /proc/self/mountinfo computed independently of the parser (plain splitting on " - "). */
    @Test
    void detectOnThisHostIsConsistentWithMountinfo() throws IOException {
        CgroupLayout l = CgroupLayout.detect();
        List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        Set<Path> v2Points = new HashSet<>();
        List<Set<String>> v1Sets = new ArrayList<>();
        for (String line : lines) {
            String[] halves = line.split(" - ", 2);
            String[] post = halves[1].split(" ");
            String point = halves[0].split(" ")[4];
            if (post[0].equals("cgroup2")) {
                v2Points.add(Path.of(point));
            } else if (post[0].equals("cgroup")) {
                Set<String> s = new HashSet<>(Arrays.asList(post[2].split(",")));
                s.removeIf(o -> o.equals("rw") || o.equals("ro") || o.equals("xattr") || o.equals("noprefix")
                        || o.equals("clone_children") || o.startsWith("release_agent="));
                if (!v1Sets.contains(s)) {
                    v1Sets.add(s);
                }
            }
        }
        assertThat(l.v1()).extracting(h -> Set.copyOf(h.controllers())).containsExactlyInAnyOrderElementsOf(v1Sets);
        if (v2Points.isEmpty()) {
            assertThat(l.mode()).isEqualTo(Mode.LEGACY);
        } else {
            assertThat(v2Points).contains(l.unifiedMount());
            assertThat(l.mode()).isEqualTo(v1Sets.isEmpty() ? Mode.V2 : Mode.HYBRID);
        }
        // This project's CI host: v1 hybrid with separate cpu/cpuacct and a unified mount.
        if (Files.isDirectory(Path.of("/sys/fs/cgroup/unified")) && Files.isDirectory(Path.of("/sys/fs/cgroup/cpuacct"))
                && v2Points.contains(Path.of("/sys/fs/cgroup/unified"))) {
            assertThat(l.mode()).isEqualTo(Mode.HYBRID);
            assertThat(l.unifiedMount()).isEqualTo(Path.of("/sys/fs/cgroup/unified"));
            assertThat(l.v1()).extracting(V1Hierarchy::controllers).contains(
                    List.of("cpu"), List.of("cpuacct"), List.of("cpuset"), List.of("memory"), List.of("devices"),
                    List.of("freezer"), List.of("blkio"), List.of("pids"), List.of("name=systemd"));
            assertThat(l.v1Hierarchy("name=systemd").orElseThrow().mountPoint())
                    .isEqualTo(Path.of("/sys/fs/cgroup/systemd"));
        }
    }
}
