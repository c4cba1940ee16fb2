package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.spec.Features;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OCI idmapped mounts (mounts[].uidMappings/gidMappings, the idmap/ridmap options) through hull-runtime's
 * create/start, with a user namespace mapping the container's 0..65535 to host 100000..165535.
 */
class IdmappedMountsTest {
    static final int HOST_BASE = 100000;
    static Path base;
    static ContainerRuntime rt;

    @BeforeAll
    static void setUp() {
        Assumptions.assumeTrue(Features.create().path("linux").path("mountExtensions").path("idmap")
                .path("enabled").asBoolean(), "idmapped mounts need root and Linux 5.12 or later");
        base = Bundles.tempDir("idmap");
        rt = new ContainerRuntime(ContainerTests.root(base));
    }

    @AfterAll
    static void tearDown() {
        if (base != null) {
            Bundles.cleanUp(base);
        }
    }

    /** A bundle with a new user namespace: container 0..65535 is host 100000..165535. */
    static Bundles.Bundle userNsBundle() {
        Bundles.Bundle b = Bundles.create(base, "b");
        b.namespace("user", null);
        for (String f : new String[] {"uidMappings", "gidMappings"}) {
            mapping(b.linux().putArray(f), 0, HOST_BASE, 65536);
        }
        b.withoutMount("/sys/fs/cgroup"); // cgroup v1 cannot be mounted in a user namespace
        return b;
    }

    static void mapping(ArrayNode a, long containerId, long hostId, long size) {
        a.addObject().put("containerID", containerId).put("hostID", hostId).put("size", size);
    }

    static ObjectNode lastMount(Bundles.Bundle b) {
        return (ObjectNode) b.mounts().get(b.mounts().size() - 1);
    }

    /** A host directory (mode 0777) with a file owned by root and one owned by 1000:1000. */
    static Path source(Bundles.Bundle b) throws Exception {
        Path src = Files.createDirectories(b.dir.resolve("src"));
        Files.setPosixFilePermissions(src, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(src.resolve("root-file"), "r");
        Files.writeString(src.resolve("user-file"), "u");
        Files.setAttribute(src.resolve("user-file"), "unix:uid", 1000);
        Files.setAttribute(src.resolve("user-file"), "unix:gid", 1000);
        return src;
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertThat(p.waitFor()).as("%s", String.join(" ", cmd)).isZero();
    }

    static int uid(Path p) throws Exception {
        return (int) Files.getAttribute(p, "unix:uid");
    }

    static int gid(Path p) throws Exception {
        return (int) Files.getAttribute(p, "unix:gid");
    }

    @Test
    void theContainersOwnMappingsShowOnDiskOwnersAsTheyAre() throws Exception {
        Bundles.Bundle b = userNsBundle();
        Path src = source(b);
        b.mount("/mnt/a", "bind", src.toString(), "bind", "rw");
        for (String f : new String[] {"uidMappings", "gidMappings"}) {
            mapping(lastMount(b).putArray(f), 0, HOST_BASE, 65536);
        }
        b.mount("/mnt/b", "bind", src.toString(), "bind", "rw"); // the same directory without idmapping
        String out = ContainerTests.output(rt, b, "stat -c %u:%g /mnt/a/root-file /mnt/a/user-file /mnt/b/user-file;"
                + " touch /mnt/a/made-inside; mkdir /mnt/a/dir-inside; touch /mnt/b/plain-inside");
        assertThat(out.strip().split("\n")).containsExactly("0:0", "1000:1000", "65534:65534");
        // what the container's root writes through the idmapped mount lands as on-disk root, not as host 100000
        assertThat(uid(src.resolve("made-inside"))).isZero();
        assertThat(gid(src.resolve("made-inside"))).isZero();
        assertThat(uid(src.resolve("dir-inside"))).isZero();
        assertThat(uid(src.resolve("plain-inside"))).as("without idmap: the host uid of the container's root")
                .isEqualTo(HOST_BASE);
    }

    @Test
    void mappingsOfTheMountsOwnGoThroughAHelperUserNamespace() throws Exception {
        Bundles.Bundle b = userNsBundle();
        Path src = source(b);
        // the kernel refuses writes into a directory whose owner the mount does not map
        Files.setAttribute(src, "unix:uid", 1000);
        Files.setAttribute(src, "unix:gid", 1000);
        b.mount("/mnt/a", "bind", src.toString(), "bind", "rw");
        // on-disk 1000 appears as host 100000, the container's root; nothing else is mapped
        mapping(lastMount(b).putArray("uidMappings"), 1000, HOST_BASE, 1);
        mapping(lastMount(b).putArray("gidMappings"), 1000, HOST_BASE, 1);
        String out = ContainerTests.output(rt, b,
                "stat -c %u:%g /mnt/a/user-file /mnt/a/root-file; touch /mnt/a/made-inside");
        assertThat(out.strip().split("\n")).containsExactly("0:0", "65534:65534");
        assertThat(uid(src.resolve("made-inside"))).as("written by the container's root").isEqualTo(1000);
        assertThat(gid(src.resolve("made-inside"))).isEqualTo(1000);
    }

    @Test
    void theIdmapOptionAloneTakesTheContainersMappings() throws Exception {
        Bundles.Bundle b = userNsBundle();
        Path src = source(b);
        b.mount("/mnt/a", "bind", src.toString(), "rbind", "idmap");
        String out = ContainerTests.output(rt, b, "stat -c %u /mnt/a/root-file /mnt/a/user-file; touch /mnt/a/x");
        assertThat(out.strip().split("\n")).containsExactly("0", "1000");
        assertThat(uid(src.resolve("x"))).isZero();
    }

    @Test
    void ridmapMapsTheSubmountsOfAnRbindToo() throws Exception {
        Bundles.Bundle b = userNsBundle();
        Path src = source(b);
        Path sub = Files.createDirectories(src.resolve("sub"));
        sh("mount", "-t", "tmpfs", "-o", "mode=755", "idmap-sub", sub.toString());
        try {
            Files.writeString(sub.resolve("in-sub"), "s");
            b.mount("/mnt/a", "bind", src.toString(), "rbind", "ridmap");
            b.mount("/mnt/b", "bind", src.toString(), "rbind", "idmap");
            String out = ContainerTests.output(rt, b, "stat -c %u /mnt/a/sub/in-sub /mnt/b/sub/in-sub");
            assertThat(out.strip().split("\n")).as("ridmap: the submount idmapped; idmap: only the top")
                    .containsExactly("0", "65534");
        } finally {
            sh("umount", sub.toString());
        }
    }

    @Test
    void mappingsWithoutAUserNamespaceAreRefusedNamingTheMount() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b");
        b.mount("/mnt/a", "bind", source(b).toString(), "bind");
        mapping(lastMount(b).putArray("uidMappings"), 0, HOST_BASE, 65536);
        mapping(lastMount(b).putArray("gidMappings"), 0, HOST_BASE, 65536);
        int index = b.mounts().size() - 1;
        assertThatThrownBy(() -> rt.create(Bundles.id("idmap-nouserns"), b.write().dir, null))
                .isInstanceOf(RuntimeError.class)
                .hasMessageContaining("config.json: mounts[" + index + "].uidMappings: an idmapped mount needs a new user"
                        + " namespace");
    }

    @Test
    void badIdmappedMountsAreRefusedNamingTheField() throws Exception {
        Bundles.Bundle b = userNsBundle();
        b.mount("/mnt/a", "tmpfs", "tmpfs", "idmap");
        int index = b.mounts().size() - 1;
        assertThatThrownBy(() -> rt.create(Bundles.id("idmap-tmpfs"), b.write().dir, null))
                .isInstanceOf(RuntimeError.class).hasMessageContaining("config.json: mounts[" + index + "]: idmapped"
                        + " mounts are only supported for bind mounts");

        Bundles.Bundle c = userNsBundle();
        c.mount("/mnt/a", "bind", source(c).toString(), "bind");
        mapping(lastMount(c).putArray("uidMappings"), 0, HOST_BASE, 65536);
        int i2 = c.mounts().size() - 1;
        assertThatThrownBy(() -> rt.create(Bundles.id("idmap-half"), c.write().dir, null))
                .isInstanceOf(RuntimeError.class).hasMessageContaining("config.json: mounts[" + i2 + "].gidMappings:"
                        + " required with uidMappings");
    }

    @Test
    void aFilesystemThatRefusesIdmappingIsAClearErrorNamingTheMount() throws Exception {
        Bundles.Bundle b = userNsBundle();
        b.mount("/mnt/a", "bind", "/proc/sys", "bind", "idmap"); // procfs has no idmapped mounts
        int index = b.mounts().size() - 1;
        String id = Bundles.id("idmap-proc");
        assertThatThrownBy(() -> rt.create(id, b.write().dir, null))
                .isInstanceOf(RuntimeError.class)
                .hasMessageContaining("mounts[" + index + "] (/mnt/a): idmapping /proc/sys")
                .hasMessageContaining("does not support idmapped mounts");
        assertThat(rt.store().dir(id)).as("nothing of the refused container is left").doesNotExist();
    }

    @Test
    void anIdmappedRootfsOverlayShowsImageFilesAsTheContainersRoots() throws Exception {
        Bundles.Bundle b = userNsBundle().overlay();
        ((ObjectNode) b.config.get("annotations")).put(Annotations.ROOTFS_IDMAP, "true");
        // the overlay's root directory is its upper directory: the container's root must own it (the engine does)
        Files.setAttribute(b.upper(), "unix:uid", HOST_BASE);
        Files.setAttribute(b.upper(), "unix:gid", HOST_BASE);
        String out = ContainerTests.output(rt, b,
                "stat -c %u:%g / /bin /etc; touch /made-inside; echo x >> /etc/passwd");
        assertThat(out.strip().split("\n")).containsExactly("0:0", "0:0", "0:0");
        // the upper layer is not idmapped: what the container writes has the host ids of its range
        assertThat(uid(b.upper().resolve("made-inside"))).isEqualTo(HOST_BASE);
        assertThat(uid(b.upper().resolve("etc/passwd"))).as("copied up").isEqualTo(HOST_BASE);
        assertThat(uid(Bundles.rootfs().resolve("etc/passwd"))).as("the image's file is untouched").isZero();
    }

    @Test
    void withoutIdmapTheSameRootfsIsOwnedByNobody() throws Exception {
        Bundles.Bundle b = userNsBundle().overlay();
        String out = ContainerTests.output(rt, b, "stat -c %u /bin");
        assertThat(out.strip()).isEqualTo("65534");
    }
}
