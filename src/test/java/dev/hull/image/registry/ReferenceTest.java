package dev.hull.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.image.Reference;
import org.junit.jupiter.api.Test;

class ReferenceTest {
    @Test
    void dockerHubNamesAreNormalized() {
        Reference r = Reference.parse("busybox");
        assertThat(r.toString()).isEqualTo("docker.io/library/busybox:latest");
        assertThat(r.registry()).isEqualTo("docker.io");
        assertThat(r.repository()).isEqualTo("library/busybox");
        assertThat(r.manifestReference()).isEqualTo("latest");
        assertThat(Reference.parse("user/app:1.0").toString()).isEqualTo("docker.io/user/app:1.0");
        assertThat(Reference.parse("index.docker.io/library/alpine").name()).isEqualTo("docker.io/library/alpine");
    }

    @Test
    void registriesWithPortsAndLocalhost() {
        Reference r = Reference.parse("127.0.0.1:5000/a/b:t");
        assertThat(r.registry()).isEqualTo("127.0.0.1:5000");
        assertThat(r.repository()).isEqualTo("a/b");
        assertThat(r.tag()).isEqualTo("t");
        Reference l = Reference.parse("localhost/x");
        assertThat(l.registry()).isEqualTo("localhost");
        assertThat(l.repository()).isEqualTo("x");
        assertThat(l.toString()).isEqualTo("localhost/x:latest");
    }

    @Test
    void digests() {
        String hex = "a".repeat(64);
        Reference r = Reference.parse("127.0.0.1:5000/app@sha256:" + hex);
        assertThat(r.tag()).isNull();
        assertThat(r.digest().toString()).isEqualTo("sha256:" + hex);
        assertThat(r.manifestReference()).isEqualTo("sha256:" + hex);
        Reference both = Reference.parse("app:1@sha256:" + hex);
        assertThat(both.tag()).isEqualTo("1");
        assertThat(both.manifestReference()).isEqualTo("sha256:" + hex);
        assertThat(both.withTag("2").toString()).isEqualTo("docker.io/library/app:2");
    }

    @Test
    void badNamesAreRejectedNamingThem() {
        assertThatThrownBy(() -> Reference.parse("Upper/Case")).hasMessageContaining("Upper/Case");
        assertThatThrownBy(() -> Reference.parse("app:bad tag")).hasMessageContaining("app:bad tag");
        assertThatThrownBy(() -> Reference.parse("app@sha256:123")).hasMessageContaining("app@sha256:123");
        assertThatThrownBy(() -> Reference.parse("a//b")).hasMessageContaining("a//b");
        assertThatThrownBy(() -> Reference.parse("")).hasMessageContaining("empty");
    }
}
