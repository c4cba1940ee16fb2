package dev.hull.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** DefaultSpec, Features and State output against the shared JSON schemas. */
class GeneratedDocumentsTest {
    private static final ObjectMapper M = new ObjectMapper();

    @ParameterizedTest(name = "rootless={0}")
    @ValueSource(booleans = {false, true})
    void defaultSpecValidatesAndRoundTrips(boolean rootless) throws Exception {
        ObjectNode doc = DefaultSpec.create(rootless);
        assertThat(SchemaFiles.validate("config-schema.json", doc)).isEmpty();

        Spec s = SpecParser.parse(M.writeValueAsBytes(doc), "config.json");
        assertThat(s.raw().toString()).isEqualTo(doc.toString());
        assertThat(s.ociVersion()).isEqualTo(SpecParser.SPEC_VERSION);
        assertThat(s.hostname()).isEqualTo("hull");
        assertThat(s.root()).isEqualTo(new Root("rootfs", true));
        Process p = s.process();
        assertThat(p.terminal()).isTrue();
        assertThat(p.user()).isEqualTo(new User(0, 0, null, List.of(), null));
        assertThat(p.args()).containsExactly("sh");
        assertThat(p.env()).containsExactly("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm");
        assertThat(p.cwd()).isEqualTo("/");
        assertThat(p.noNewPrivileges()).isTrue();
        List<String> caps = List.of("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
        assertThat(p.capabilities()).isEqualTo(new Capabilities(caps, caps, List.of(), caps, List.of()));
        assertThat(p.rlimits()).containsExactly(new Rlimit("RLIMIT_NOFILE", 1024, 1024));
        assertThat(s.mounts()).extracting(Mount::destination)
                .containsExactly("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup");
        Mount pts = s.mounts().get(2);
        Mount sys = s.mounts().get(5);
        Linux l = s.linux();
        assertThat(l.maskedPaths()).contains("/proc/kcore", "/sys/firmware").hasSize(11);
        assertThat(l.readonlyPaths()).containsExactly("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
        if (!rootless) {
            assertThat(l.namespaces()).extracting(Namespace::type)
                    .containsExactly("pid", "network", "ipc", "uts", "mount", "cgroup");
            assertThat(l.uidMappings()).isEmpty();
            assertThat(pts.options()).contains("gid=5");
            assertThat(sys).isEqualTo(new Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"), List.of(), List.of()));
            assertThat(l.resources().path("devices").get(0).path("access").asText()).isEqualTo("rwm");
        } else {
            assertThat(l.namespaces()).extracting(Namespace::type)
                    .containsExactly("pid", "ipc", "uts", "mount", "cgroup", "user");
            long euid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            long egid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:gid")).longValue();
            assertThat(l.uidMappings()).containsExactly(new IdMapping(0, euid, 1));
            assertThat(l.gidMappings()).containsExactly(new IdMapping(0, egid, 1));
            assertThat(pts.options()).noneMatch(o -> o.startsWith("gid=") || o.startsWith("uid="));
            assertThat(sys).isEqualTo(new Mount("/sys", "none", "/sys", List.of("rbind", "nosuid", "noexec", "nodev", "ro"), List.of(), List.of()));
            assertThat(l.resources()).isNull();
        }
        // Every default mount's options are understood (only fs data like mode=/size= is passed through).
        for (Mount m : s.mounts()) {
            for (String o : m.options()) {
                assertThat(MountOptions.known().contains(o) || o.contains("=") || o.equals("newinstance"))
                        .as("%s option %s", m.destination(), o).isTrue();
            }
        }
    }

    @Test
    void featuresValidateAndAdvertiseWhatHullParses() {
        ObjectNode f = Features.create();
        assertThat(SchemaFiles.validate("features-schema.json", f)).isEmpty();
        assertThat(f.path("ociVersionMin").asText()).isEqualTo("1.0.0");
        assertThat(f.path("ociVersionMax").asText()).isEqualTo(SpecParser.SPEC_VERSION);
        assertThat(strings(f.path("hooks"))).containsExactly(
                "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop");
        assertThat(strings(f.path("mountOptions"))).isEqualTo(MountOptions.known())
                .contains("ro", "rw", "nosuid", "rbind", "rprivate", "defaults", "tmpcopyup", "nosymfollow");
        JsonNode linux = f.path("linux");
        assertThat(strings(linux.path("namespaces"))).containsExactlyInAnyOrder(
                "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time");
        assertThat(linux.path("cgroup")).isEqualTo(M.valueToTree(Map.of("v1", true, "v2", true, "systemd", false, "systemdUser", false)));
        assertThat(strings(linux.path("capabilities"))).hasSize(41).startsWith("CAP_CHOWN")
                .endsWith("CAP_CHECKPOINT_RESTORE");
        assertThat(linux.path("seccomp").path("enabled").asBoolean(false)).isTrue();
        assertThat(strings(linux.path("seccomp").path("operators"))).hasSize(7).contains("SCMP_CMP_MASKED_EQ");
        assertThat(strings(linux.path("seccomp").path("archs"))).containsExactly("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
        assertThat(strings(linux.path("seccomp").path("supportedFlags"))).contains("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
        assertThat(strings(linux.path("seccomp").path("actions"))).contains("SCMP_ACT_NOTIFY");
        assertThat(linux.path("apparmor").path("enabled").asBoolean(true)).isFalse();
        assertThat(linux.path("selinux").path("enabled").asBoolean(true)).isFalse();
        assertThat(f.path("annotations").path("run.hull.version").asText()).isEqualTo("0.1.0");
        // Every advertised mount option really is interpreted by MountOptions, not passed as data.
        for (String o : MountOptions.known()) {
            assertThat(MountOptions.parse(List.of(o)).data()).as(o).isEmpty();
        }
    }

    @Test
    void schemaValidatorRejectsBadDocuments() throws Exception {
        // Controls: without these the "isEmpty()" assertions above could pass vacuously.
        JsonNode badFeatures = M.readTree(SchemaFiles.example("features", "bad", "missing-ociVersionMax.json").toFile());
        assertThat(SchemaFiles.validate("features-schema.json", badFeatures)).isNotEmpty();
        ObjectNode f = Features.create();
        f.withArray("/linux/namespaces").add("bogus");
        assertThat(SchemaFiles.validate("features-schema.json", f)).isNotEmpty();
        ObjectNode spec = DefaultSpec.create(false);
        spec.withObject("/linux").put("rootfsPropagation", "bogus");
        assertThat(SchemaFiles.validate("config-schema.json", spec)).isNotEmpty();
        assertThat(SchemaFiles.validate("state-schema.json",
                new State("1.3.0", "c1", "paused", 1, "/b", Map.of()).toJson())).isNotEmpty();
        JsonNode goodState = M.readTree(SchemaFiles.example("state", "good", "spec-example.json").toFile());
        assertThat(SchemaFiles.validate("state-schema.json", goodState)).isEmpty();
    }

    @Test
    void stateToJson() {
        ObjectNode created = new State("1.3.0", "c1", "created", 4242, "/bundles/c1", Map.of()).toJson();
        assertThat(SchemaFiles.validate("state-schema.json", created)).isEmpty();
        assertThat(created.toString()).isEqualTo(
                "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"created\",\"pid\":4242,\"bundle\":\"/bundles/c1\"}");

        ObjectNode running = new State("1.3.0", "c1", "running", 4242, "/bundles/c1",
                Map.of("b", "2", "a", "1")).toJson();
        assertThat(SchemaFiles.validate("state-schema.json", running)).isEmpty();
        assertThat(running.path("pid").asInt()).isEqualTo(4242);
        assertThat(running.path("annotations").toString()).isEqualTo("{\"a\":\"1\",\"b\":\"2\"}");

        ObjectNode stopped = new State("1.3.0", "c1", "stopped", 4242, "/bundles/c1", null).toJson();
        assertThat(SchemaFiles.validate("state-schema.json", stopped)).isEmpty();
        assertThat(stopped.has("pid")).isFalse();
        assertThat(stopped.has("annotations")).isFalse();

        ObjectNode creating = new State("1.3.0", "c1", "creating", 0, "/bundles/c1", Map.of()).toJson();
        assertThat(SchemaFiles.validate("state-schema.json", creating)).isEmpty();
        assertThat(creating.has("pid")).isFalse();
    }

    private static List<String> strings(JsonNode a) {
        assertThat(a.isArray()).isTrue();
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.asText()));
        return out;
    }
}
