package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad configs, ids and bundles: a non-zero exit, a message naming the file or field, and no state left. */
class BadInputTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("badinput");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    /** create fails with a message containing all of {@code expected}; nothing is left under the root. */
    static void createFails(Path bundle, String id, String... expected) throws Exception {
        Host.Result r = Host.cli(root, "create", "--bundle", bundle.toString(), id);
        assertThat(r.exit()).as("%s", r).isEqualTo(1);
        assertThat(r.err()).as("%s", r).startsWith("hull-runtime: ").contains(expected)
                .doesNotContain("Exception").doesNotContain("\tat ");
        assertNothingUnderRoot();
    }

    static void assertNothingUnderRoot() throws Exception {
        if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.list(root)) {
                assertThat(s.toList()).as("state directories left under %s", root).isEmpty();
            }
        }
    }

    @Test
    void invalidJson() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").write();
        Files.writeString(b.dir.resolve("config.json"), "{ \"ociVersion\": \"1.2.0\", \"process\": ");
        createFails(b.dir, Bundles.id("json"), "config.json");
    }

    @Test
    void missingProcess() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b");
        b.config.remove("process");
        b.write();
        String id = Bundles.id("noproc");
        createFails(b.dir, id, "config.json", "process");
        assertThat(Host.cgroupDirs(id)).allSatisfy(d -> assertThat(d).doesNotExist());
    }

    @Test
    void unknownNamespaceType() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").namespace("bogus", null).write();
        createFails(b.dir, Bundles.id("ns"), "namespaces", "bogus");
    }

    @Test
    void missingArgs() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b");
        b.process().putArray("args");
        b.write();
        createFails(b.dir, Bundles.id("args"), "process.args");
    }

    @Test
    void bindSourceMissing() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").mount("/mnt/a", "bind", "/nonexistent-hull-src", "bind").write();
        createFails(b.dir, Bundles.id("src"), "mounts[", "/nonexistent-hull-src");
    }

    @Test
    void badIds() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").args("true").write();
        createFails(b.dir, "../escaped", "invalid container id", "../escaped");
        assertThat(base.resolve("escaped")).doesNotExist();
        createFails(b.dir, "a/b", "invalid container id");
        createFails(b.dir, "", "container id must not be empty");
        createFails(b.dir, "..", "invalid container id");
        Host.Result st = Host.cli(root, "state", "../etc");
        assertThat(st.exit()).isNotZero();
        assertThat(st.err()).contains("invalid container id");
    }

    @Test
    void missingBundle() throws Exception {
        Path missing = base.resolve("no-such-bundle");
        createFails(missing, Bundles.id("nobundle"), missing.resolve("config.json").toString(), "no such file");
        Path empty = Files.createDirectories(base.resolve("empty-bundle"));
        createFails(empty, Bundles.id("nobundle"), empty.resolve("config.json").toString());
    }

    @Test
    void missingRootfs() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b");
        ((com.fasterxml.jackson.databind.node.ObjectNode) b.config.get("root")).put("path", "no-rootfs-here");
        b.write();
        createFails(b.dir, Bundles.id("rootfs"), "root.path", b.dir.resolve("no-rootfs-here").toString());
    }
}
