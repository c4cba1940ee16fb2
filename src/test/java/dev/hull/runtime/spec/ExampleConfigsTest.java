package dev.hull.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The runtime-spec's own good/bad config examples. */
class ExampleConfigsTest {
    /** Examples that are not for Linux: reported as skipped, with the reason in the display name. */
    private static final Map<String, String> NOT_LINUX = Map.of(
            "freebsd-example.json", "FreeBSD-only config",
            "freebsd-minimal.json", "FreeBSD-only config",
            "freebsd-vnet-disable.json", "FreeBSD-only config (bad freebsd.jail.vnet; Hull ignores the freebsd section)",
            "zos-example.json", "z/OS-only config",
            "zos-minimal.json", "z/OS-only config");

    /** The offending field of each Linux bad example (see the files). */
    private static final Map<String, String> BAD_FIELD = Map.of(
            "linux-hugepage.json", "linux.resources.hugepageLimits[0].pageSize",
            "linux-netdevice.json", "linux.netDevices.eth0.name",
            "linux-rdma.json", "linux.resources.rdma.mlx5_1.hcaHandles");

    @TestFactory
    List<DynamicTest> goodConfigsParse() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        List<Path> files = SchemaFiles.list("config", "good");
        assertThat(files).hasSizeGreaterThanOrEqualTo(5);
        for (Path f : files) {
            String name = f.getFileName().toString();
            String skip = NOT_LINUX.get(name);
            if (skip != null) {
                String reason = "SKIPPED " + name + ": " + skip + " (Hull is a Linux runtime)";
                tests.add(dynamicTest(reason, () -> Assumptions.abort(reason)));
            } else if (name.equals("spec-example.json")) {
                // Pre-1.0 example: by design Hull rejects ociVersion outside 1.x, so parse it with the
                // version bumped, and check that the unmodified file is rejected for its version only.
                tests.add(dynamicTest(name + " (ociVersion 0.5.0-dev is rejected; content parses as 1.0.0)", () -> {
                    assertThatThrownBy(() -> SpecParser.parse(f))
                            .isInstanceOf(ConfigException.class)
                            .hasMessage(f + ": ociVersion: unsupported version \"0.5.0-dev\" (expected 1.x.y, e.g. \""
                                    + SpecParser.SPEC_VERSION + "\")");
                    ObjectNode doc = (ObjectNode) new ObjectMapper().readTree(f.toFile());
                    doc.put("ociVersion", "1.0.0");
                    Spec s = SpecParser.parse(new ObjectMapper().writeValueAsBytes(doc), name);
                    assertThat(s.linux().namespaces()).hasSize(8);
                    assertThat(s.mounts()).hasSize(7);
                }));
            } else {
                tests.add(dynamicTest(name, () -> {
                    Spec s = SpecParser.parse(f);
                    assertThat(s.ociVersion()).startsWith("1.");
                    assertThat(s.root()).isNotNull();
                    assertThat(s.root().path()).isEqualTo("rootfs");
                    assertThat(s.raw()).isNotNull();
                }));
            }
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> badConfigsAreRejected() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        List<Path> files = SchemaFiles.list("config", "bad");
        for (Path f : files) {
            String name = f.getFileName().toString();
            String skip = NOT_LINUX.get(name);
            if (skip != null) {
                String reason = "SKIPPED " + name + ": " + skip;
                tests.add(dynamicTest(reason, () -> Assumptions.abort(reason)));
            } else if (name.equals("invalid-json.json")) {
                tests.add(dynamicTest(name, () -> assertThatThrownBy(() -> SpecParser.parse(f))
                        .isInstanceOf(ConfigException.class)
                        .hasMessageStartingWith(f + ": invalid JSON at line 1 column 2: ")));
            } else {
                String field = BAD_FIELD.get(name);
                tests.add(dynamicTest(name + " -> " + field, () -> {
                    assertThat(field).as("expected offending field for new bad example %s", name).isNotNull();
                    assertThatThrownBy(() -> SpecParser.parse(f))
                            .isInstanceOf(ConfigException.class)
                            .hasMessageStartingWith(f + ": " + field + ": ");
                }));
            }
        }
        return tests;
    }

    @Test
    void badExamplesAreAlsoRejectedByTheSchema() throws Exception {
        // Control for the schema-based tests elsewhere: the validator setup really rejects things.
        ObjectMapper m = new ObjectMapper();
        for (String name : BAD_FIELD.keySet()) {
            assertThat(SchemaFiles.validate("config-schema.json", m.readTree(SchemaFiles.example("config", "bad", name).toFile())))
                    .as(name).isNotEmpty();
        }
        assertThat(SchemaFiles.validate("config-schema.json", m.readTree(SchemaFiles.example("config", "good", "spec-example.json").toFile())))
                .isEmpty();
    }

    @Test
    void specExampleFieldsAreMapped() throws Exception {
        Path f = SchemaFiles.example("config", "good", "spec-example.json");
        ObjectNode doc = (ObjectNode) new ObjectMapper().readTree(Files.readAllBytes(f));
        doc.put("ociVersion", "1.0.2");
        Spec s = SpecParser.parse(new ObjectMapper().writeValueAsBytes(doc), "spec-example.json");

        assertThat(s.ociVersion()).isEqualTo("1.0.2");
        assertThat(s.hostname()).isEqualTo("slartibartfast");
        assertThat(s.domainname()).isEqualTo("foobarbaz.test");
        assertThat(s.root()).isEqualTo(new Root("rootfs", true));
        assertThat(s.annotations()).containsEntry("com.example.key1", "value1").hasSize(2);

        Process p = s.process();
        assertThat(p.terminal()).isTrue();
        assertThat(p.consoleSize()).isNull();
        assertThat(p.user()).isEqualTo(new User(1, 1, null, List.of(5L, 6L), null));
        assertThat(p.args()).containsExactly("sh");
        assertThat(p.env()).containsExactly(
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm");
        assertThat(p.cwd()).isEqualTo("/");
        assertThat(p.noNewPrivileges()).isTrue();
        assertThat(p.capabilities().effective()).containsExactly("CAP_AUDIT_WRITE", "CAP_KILL");
        assertThat(p.capabilities().ambient()).containsExactly("CAP_NET_BIND_SERVICE");
        assertThat(p.capabilities().inheritable()).hasSize(3);
        assertThat(p.rlimits()).containsExactly(new Rlimit("RLIMIT_CORE", 1024, 1024), new Rlimit("RLIMIT_NOFILE", 1024, 1024));
        assertThat(p.apparmorProfile()).isEqualTo("acme_secure_profile");
        assertThat(p.selinuxLabel()).startsWith("system_u:system_r:");
        assertThat(p.oomScoreAdj()).isNull();

        assertThat(s.mounts().get(1)).isEqualTo(new Mount("/dev", "tmpfs", "tmpfs",
                List.of("nosuid", "strictatime", "mode=755", "size=65536k"), List.of(), List.of()));
        assertThat(s.mounts().get(0).options()).isEmpty();

        Hooks h = s.hooks();
        assertThat(h.prestart()).hasSize(2);
        assertThat(h.prestart().get(0)).isEqualTo(new Hook("/usr/bin/fix-mounts",
                List.of("fix-mounts", "arg1", "arg2"), List.of("key1=value1"), null));
        assertThat(h.poststart().get(0).timeout()).isEqualTo(5);
        assertThat(h.createRuntime()).hasSize(2);
        assertThat(h.createContainer()).hasSize(1);
        assertThat(h.startContainer()).hasSize(1);
        assertThat(h.poststop()).hasSize(1);

        Linux l = s.linux();
        assertThat(l.namespaces()).extracting(Namespace::type)
                .containsExactly("pid", "network", "ipc", "uts", "mount", "user", "cgroup", "time");
        assertThat(l.namespace("user")).contains(new Namespace("user", null));
        assertThat(l.namespace("nope")).isEmpty();
        assertThat(l.uidMappings()).containsExactly(new IdMapping(0, 1000, 32000));
        assertThat(l.gidMappings()).containsExactly(new IdMapping(0, 1000, 32000));
        assertThat(l.timeOffsets()).containsEntry("monotonic", new TimeOffset(172800, 0))
                .containsEntry("boottime", new TimeOffset(604800, 0));
        assertThat(l.devices()).containsExactly(
                new Device("c", "/dev/fuse", 10, 229, 438, 0L, 0L),
                new Device("b", "/dev/sda", 8, 0, 432, 0L, 0L));
        assertThat(l.cgroupsPath()).isEqualTo("/myRuntime/myContainer");
        assertThat(l.resources().path("pids").path("limit").asLong()).isEqualTo(32771);
        assertThat(l.rootfsPropagation()).isEqualTo("slave");
        assertThat(l.sysctl()).containsEntry("net.ipv4.ip_forward", "1").hasSize(2);
        assertThat(l.maskedPaths()).contains("/proc/kcore").hasSize(4);
        assertThat(l.readonlyPaths()).contains("/proc/sys").hasSize(6);
        assertThat(l.mountLabel()).startsWith("system_u:object_r:");
        assertThat(l.seccomp().path("defaultAction").asText()).isEqualTo("SCMP_ACT_ALLOW");
        assertThat(l.personalityDomain()).isNull();
    }

    @Test
    void minimalConfigHasEmptyDefaults() throws Exception {
        Spec s = SpecParser.parse(SchemaFiles.example("config", "good", "minimal.json"));
        assertThat(s.process()).isNull();
        assertThat(s.linux()).isNull();
        assertThat(s.hooks()).isNull();
        assertThat(s.hostname()).isNull();
        assertThat(s.mounts()).isEmpty();
        assertThat(s.annotations()).isEmpty();
        assertThat(s.root()).isEqualTo(new Root("rootfs", false));
    }
}
