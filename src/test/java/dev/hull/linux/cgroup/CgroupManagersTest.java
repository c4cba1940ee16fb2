package dev.hull.linux.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class CgroupManagersTest {

    static final CgroupLayout V2 = CgroupLayout.parse(CgroupLayoutTest.PURE_V2);
    static final CgroupLayout LEGACY = CgroupLayout.parse(CgroupLayoutTest.LEGACY);

    @ParameterizedTest
    @CsvSource(nullValues = "NULL", value = {
            "NULL,            abc, /hull/abc",
            "/hull/abc,       x,   /hull/abc",
            "/a/b/c,          x,   /a/b/c",
            "foo,             x,   /hull/foo",
            "foo/bar,         x,   /hull/foo/bar",
            "/with:colon/a:b, x,   /with:colon/a:b",
            "a:b,             x,   /hull/a:b",
    })
    void acceptedPaths(String given, String id, String expected) {
        assertThat(CgroupManagers.resolve(given, id)).isEqualTo(expected);
        assertThat(CgroupManagers.forContainer(V2, given, id).cgroupPath()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/hull/../etc", "..", "../x", "/a/./b", "/a//b", "a//b", "/a/", "/", "", "/a/b/.."})
    void rejectedPaths(String given) {
        assertThatThrownBy(() -> CgroupManagers.forContainer(V2, given, "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("linux.cgroupsPath");
    }

    /** Without --systemd-cgroup runc takes slice:prefix:name as one relative directory; containerd's CRI sends it. */
    @ParameterizedTest
    @ValueSource(strings = {"test.slice:cri-containerd:0123abcd", "system.slice:hull:abc", "machine.slice::abc", "::"})
    void systemdFormIsAPlainRelativePathAsInRunc(String given) {
        assertThat(CgroupManagers.resolve(given, "x")).isEqualTo("/hull/" + given);
        assertThat(CgroupManagers.forContainer(LEGACY, given, "x").cgroupPath()).isEqualTo("/hull/" + given);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a/b", "..", "."})
    void badContainerIdForDefaultPath(String id) {
        assertThatThrownBy(() -> CgroupManagers.forContainer(V2, null, id)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void managerKindAndPathsFollowLayout() {
        CgroupManager v2 = CgroupManagers.forContainer(V2, null, "c1");
        assertThat(v2).isInstanceOf(CgroupV2Manager.class);
        assertThat(v2.paths()).containsExactly(Path.of("/sys/fs/cgroup/hull/c1"));

        CgroupManager v1 = CgroupManagers.forContainer(LEGACY, "/x/y", "c1");
        assertThat(v1).isInstanceOf(CgroupV1Manager.class);
        assertThat(v1.paths()).containsExactly(
                Path.of("/sys/fs/cgroup/systemd/x/y"), Path.of("/sys/fs/cgroup/cpu,cpuacct/x/y"),
                Path.of("/sys/fs/cgroup/net_cls,net_prio/x/y"), Path.of("/sys/fs/cgroup/memory/x/y"),
                Path.of("/sys/fs/cgroup/cpuset/x/y"), Path.of("/sys/fs/cgroup/pids/x/y"),
                Path.of("/sys/fs/cgroup/freezer/x/y"));

        CgroupLayout hybrid = new CgroupLayout(CgroupLayout.Mode.HYBRID, Path.of("/u"),
                List.of(new CgroupLayout.V1Hierarchy(Path.of("/m"), List.of("memory"))));
        assertThat(CgroupManagers.forContainer(hybrid, null, "c").paths())
                .containsExactly(Path.of("/m/hull/c"), Path.of("/u/hull/c"));
    }
}
