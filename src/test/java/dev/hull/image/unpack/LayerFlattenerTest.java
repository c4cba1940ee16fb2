package dev.hull.image.unpack;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.linux.Syscalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerFlattenerTest {
    @TempDir
    Path tmp;

    private Path layer(String name, byte[] tar) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve(name));
        new LayerUnpacker(true).unpack(new ByteArrayInputStream(tar), dir, new UnpackLimits(1L << 30, 1000, 0), name);
        return dir;
    }

    @Test
    void threeLayersFlattenLikeOverlayfsWouldShowThem() throws IOException {
        TarArchiveEntry shadow = TarBuilder.entry("etc/shadow", TarConstants.LF_NORMAL);
        shadow.setIds(0, 42);
        shadow.setMode(0640);
        TarArchiveEntry keep = TarBuilder.entry("home/keep", TarConstants.LF_NORMAL);
        keep.setIds(1000, 1000);
        keep.setMode(04700);
        keep.addPaxHeader("SCHILY.xattr.user.k", "v");
        Path l1 = layer("l1", new TarBuilder().dir("etc", 0755).file("etc/passwd", "root", 0644).add(shadow, new byte[0])
                .dir("opt", 0755).file("opt/old", "old", 0644).file("bin/tool", "t", 0755)
                .hardlink("bin/tool2", "bin/tool").symlink("bin/sh", "busybox").add(keep, new byte[0]).bytes());
        Path l2 = layer("l2", new TarBuilder().dir("etc", 0755).file("etc/.wh.shadow", "", 0)
                .file("etc/passwd", "root2", 0644).dir("opt", 0750).file("opt/.wh..wh..opq", "", 0)
                .file("opt/new", "new", 0644).bytes());
        Path l3 = layer("l3", new TarBuilder().file("usr/x", "x", 0644).symlink("link", "/etc/passwd").bytes());
        Path root = Files.createDirectory(tmp.resolve("root"));

        LayerFlattener.flatten(List.of(l1, l2, l3), root);

        assertThat(Files.exists(root.resolve("etc/shadow"), NOFOLLOW_LINKS)).as("whited out").isFalse();
        assertThat(Files.readString(root.resolve("etc/passwd"))).isEqualTo("root2");
        try (Stream<Path> opt = Files.list(root.resolve("opt"))) {
            assertThat(opt.map(p -> p.getFileName().toString())).containsExactly("new");
        }
        assertThat((int) Files.getAttribute(root.resolve("opt"), "unix:mode") & 07777).isEqualTo(0750);
        assertThat(Syscalls.lgetxattr(root.resolve("opt").toString(), "trusted.overlay.opaque")).isNull();
        assertThat(Files.getAttribute(root.resolve("bin/tool2"), "unix:ino"))
                .isEqualTo(Files.getAttribute(root.resolve("bin/tool"), "unix:ino"));
        assertThat(Files.readSymbolicLink(root.resolve("bin/sh")).toString()).isEqualTo("busybox");
        assertThat(Files.readSymbolicLink(root.resolve("link")).toString()).isEqualTo("/etc/passwd");
        assertThat(Files.readString(root.resolve("usr/x"))).isEqualTo("x");
        Path k = root.resolve("home/keep");
        assertThat(Files.getAttribute(k, "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(k, "unix:gid")).isEqualTo(1000);
        assertThat((int) Files.getAttribute(k, "unix:mode") & 07777).isEqualTo(04700);
        assertThat(Syscalls.lgetxattr(k.toString(), "user.k")).isEqualTo(new byte[] {'v'});
        assertThat(Files.getLastModifiedTime(root.resolve("etc"))).isEqualTo(TarBuilder.MTIME);
        assertThat(Files.getLastModifiedTime(root.resolve("bin/sh"), NOFOLLOW_LINKS)).isEqualTo(TarBuilder.MTIME);
        try (Stream<Path> all = Files.walk(root)) {
            assertThat(all.filter(p -> !Files.isDirectory(p, NOFOLLOW_LINKS) && !Files.isRegularFile(p, NOFOLLOW_LINKS)
                    && !Files.isSymbolicLink(p))).as("no whiteout devices left").isEmpty();
        }
    }
}
