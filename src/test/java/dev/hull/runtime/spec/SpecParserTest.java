package dev.hull.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SpecParserTest {
    private static final ObjectMapper M = new ObjectMapper();

    /** A valid base config; each bad case below breaks exactly one thing in it. */
    private static final String BASE = """
            {"ociVersion": "1.2.0",
             "root": {"path": "rootfs"},
             "hostname": "h",
             "process": {"args": ["sh"], "cwd": "/", "env": ["A=b"], "user": {"uid": 0, "gid": 0},
                         "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
             "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                        {"destination": "/tmp", "type": "tmpfs", "options": ["nosuid"]}],
             "linux": {"namespaces": [{"type": "pid"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}],
                       "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                       "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]},
             "hooks": {"prestart": [{"path": "/bin/true"}]}}
            """;

    private static Spec parse(String json) throws ConfigException {
        return SpecParser.parse(json.getBytes(StandardCharsets.UTF_8), "test.json");
    }

    /** BASE with the JSON value at a slash-separated pointer replaced (or removed when value is null). */
    private static String with(String pointer, String value) throws Exception {
        ObjectNode doc = (ObjectNode) M.readTree(BASE);
        int slash = pointer.lastIndexOf('/');
        JsonNode parent = slash <= 0 ? doc : doc.at(pointer.substring(0, slash));
        String last = pointer.substring(slash + 1);
        if (parent.isArray()) {
            ((ArrayNode) parent).set(Integer.parseInt(last), M.readTree(value));
        } else if (value == null) {
            ((ObjectNode) parent).remove(last);
        } else {
            ((ObjectNode) parent).set(last, M.readTree(value));
        }
        return M.writeValueAsString(doc);
    }

    @Test
    void baseConfigIsValid() throws Exception {
        Spec s = parse(BASE);
        assertThat(s.hostname()).isEqualTo("h");
        assertThat(s.linux().namespace("uts")).isPresent();
    }

    @ParameterizedTest(name = "[{index}] {0} = {1} -> {2}")
    @CsvSource(delimiter = '|', nullValues = "<absent>", textBlock = """
            /ociVersion                       | <absent>                           | ociVersion: required
            /ociVersion                       | 1                                  | ociVersion: must be a string, not an integer
            /ociVersion                       | "2.0.0"                            | ociVersion: unsupported version "2.0.0"
            /ociVersion                       | "1.0"                              | ociVersion: unsupported version "1.0"
            /root/path                        | <absent>                           | root.path: required
            /root                             | "rootfs"                           | root: must be an object, not a string
            /root/readonly                    | "yes"                              | root.readonly: must be a boolean, not a string
            /process                          | []                                 | process: must be an object, not an array
            /process/args                     | []                                 | process.args: must be a non-empty array of strings
            /process/args                     | <absent>                           | process.args: must be a non-empty array of strings
            /process/args                     | "sh"                               | process.args: must be a non-empty array of strings
            /process/args                     | ["sh", 2]                          | process.args[1]: must be a string, not an integer
            /process/cwd                      | "tmp"                              | process.cwd: must be an absolute path, got "tmp"
            /process/cwd                      | <absent>                           | process.cwd: required
            /process/env                      | ["A=b", "NOVALUE"]                 | process.env[1]: must be a "KEY=VALUE" string, got "NOVALUE"
            /process/env                      | ["=x"]                             | process.env[0]: must be a "KEY=VALUE" string
            /process/env                      | [null]                             | process.env[0]: must be a string, not null
            /process/env                      | {"A": "b"}                         | process.env: must be an array of strings, not an object
            /process/user/uid                 | -1                                 | process.user.uid: must be a non-negative integer within uint32 (0..4294967295), got -1
            /process/user/uid                 | 4294967296                         | process.user.uid: must be a non-negative integer within uint32
            /process/user/uid                 | 1.5                                | process.user.uid: must be a non-negative integer within uint32 (0..4294967295), not a number
            /process/user/gid                 | "0"                                | process.user.gid: must be a non-negative integer within uint32 (0..4294967295), not a string
            /process/user/additionalGids      | [1, -2]                            | process.user.additionalGids[1]: must be a non-negative integer within uint32
            /process/terminal                 | "yes"                              | process.terminal: must be a boolean, not a string
            /process/consoleSize              | {"height": 10}                     | process.consoleSize.width: required
            /process/rlimits/0                | {"type": "NOFILE", "hard": 1, "soft": 1} | process.rlimits[0].type: invalid rlimit type "NOFILE"
            /process/rlimits/0                | {"type": "RLIMIT_CORE", "hard": 1.0, "soft": 1} | process.rlimits[0].hard: must be a non-negative integer within uint64, not a number
            /process/rlimits/0                | {"type": "RLIMIT_CORE", "hard": 1} | process.rlimits[0].soft: required
            /process/oomScoreAdj              | "high"                             | process.oomScoreAdj: must be a 32-bit integer, not a string
            /process/capabilities             | {"bounding": "CAP_KILL"}           | process.capabilities.bounding: must be an array of strings, not a string
            /mounts                           | {}                                 | mounts: must be an array, not an object
            /mounts/1                         | {"type": "tmpfs"}                  | mounts[1].destination: required
            /mounts/1                         | {"destination": 5}                 | mounts[1].destination: must be a string, not an integer
            /mounts/1                         | {"destination": "/x", "options": "ro"} | mounts[1].options: must be an array of strings, not a string
            /mounts/1                         | {"destination": "/x", "uidMappings": [{"containerID": 0, "hostID": 0}]} | mounts[1].uidMappings[0].size: required
            /linux/namespaces/2               | {"type": "foo"}                    | linux.namespaces[2].type: unknown namespace type "foo" (expected one of pid, network, mount, ipc, uts, user, cgroup, time)
            /linux/namespaces/2               | {"type": "pid"}                    | linux.namespaces[2].type: duplicate namespace type "pid"
            /linux/namespaces/2               | {"path": "/proc/1/ns/mnt"}         | linux.namespaces[2].type: required
            /linux/namespaces/2               | {"type": "mount", "path": "proc/1/ns/mnt"} | linux.namespaces[2].path: must be an absolute path
            /linux/namespaces/3               | {"type": "user", "path": "/proc/1/ns/user"} | linux.uidMappings: mappings can only be used with a new user namespace
            /linux/namespaces/3               | {"type": "cgroup"}                 | linux.uidMappings: user namespace mappings specified, but no user namespace
            /linux/uidMappings/0              | {"containerID": 0, "hostID": 0, "size": 4294967296} | linux.uidMappings[0].size: must be a non-negative integer within uint32
            /linux/uidMappings/0              | {"containerID": 0, "hostID": 0, "size": 0} | linux.uidMappings[0].size: must be at least 1
            /linux/gidMappings/0              | {"containerID": 0, "hostID": "1000", "size": 1} | linux.gidMappings[0].hostID: must be a non-negative integer within uint32
            /linux/gidMappings/0              | {"containerID": -1, "hostID": 0, "size": 1} | linux.gidMappings[0].containerID: must be a non-negative integer within uint32
            /linux/timeOffsets                | {"realtime": {"secs": 1}}          | linux.timeOffsets.realtime: unknown clock "realtime" (expected monotonic or boottime)
            /linux/timeOffsets                | {"monotonic": {"secs": 1}}         | linux.timeOffsets: time offsets can only be set for a new time namespace
            /linux/rootfsPropagation          | "bogus"                            | linux.rootfsPropagation: invalid value "bogus"
            /linux/rootfsPropagation          | 1                                  | linux.rootfsPropagation: must be a string, not an integer
            /linux/devices                    | [{"type": "x", "path": "/dev/x", "major": 1, "minor": 1}] | linux.devices[0].type: invalid device type "x"
            /linux/devices                    | [{"type": "c", "path": "/dev/x", "minor": 1}] | linux.devices[0].major: required for device type "c"
            /linux/devices                    | [{"type": "c", "path": "/dev/x", "major": 1, "minor": 1, "fileMode": 512}] | linux.devices[0].fileMode: must be a file mode between 0 and 511
            /linux/sysctl                     | {"net.ipv4.ip_forward": 1}         | linux.sysctl.net.ipv4.ip_forward: must be a string, not an integer
            /linux/resources                  | {"memory": {"limit": "1g"}}        | linux.resources.memory.limit: must be a 64-bit integer, not a string
            /linux/resources                  | {"pids": {}}                       | linux.resources.pids.limit: required
            /linux/resources                  | {"devices": [{"access": "rwm"}]}   | linux.resources.devices[0].allow: required
            /linux/resources                  | {"blockIO": {"weight": 70000}}     | linux.resources.blockIO.weight: must be an integer within uint16
            /linux/seccomp                    | {"syscalls": []}                   | linux.seccomp.defaultAction: required
            /linux/seccomp                    | {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]} | linux.seccomp.syscalls[0].names: must be a non-empty array of strings
            /linux/personality                | {"domain": "LINUX64"}              | linux.personality.domain: invalid value "LINUX64" (expected one of LINUX, LINUX32)
            /hooks/prestart/0                 | {"args": ["x"]}                    | hooks.prestart[0].path: required
            /hooks/prestart/0                 | {"path": "true"}                   | hooks.prestart[0].path: must be an absolute path
            /hooks/prestart/0                 | {"path": "/bin/true", "timeout": 0} | hooks.prestart[0].timeout: must be a positive integer (seconds), got 0
            /hooks/poststop                   | {"path": "/bin/true"}              | hooks.poststop: must be an array, not an object
            /hooks                            | []                                 | hooks: must be an object, not an array
            /annotations                      | {"a": 1}                           | annotations.a: must be a string, not an integer
            /linux/namespaces/1               | {"type": "ipc"}                    | hostname: unable to set hostname without a private UTS namespace
            """)
    void rejects(String pointer, String value, String expected) throws Exception {
        String json = with(pointer, value);
        assertThatThrownBy(() -> parse(json))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.json: " + expected);
    }

    @Test
    void hostnameNeedsUtsNamespaceEvenWithoutLinuxSection() {
        assertThatThrownBy(() -> parse("{\"ociVersion\": \"1.0.0\", \"hostname\": \"x\"}"))
                .hasMessage("test.json: hostname: unable to set hostname without a private UTS namespace"
                        + " (add {\"type\": \"uts\"} to linux.namespaces)");
        assertThatThrownBy(() -> parse("{\"ociVersion\": \"1.0.0\", \"domainname\": \"x\"}"))
                .hasMessageStartingWith("test.json: domainname: unable to set domainname without a private UTS namespace");
    }

    @Test
    void invalidJsonNamesLineAndColumn() {
        assertThatThrownBy(() -> parse("{\n  \"ociVersion\": \"1.0.0\",\n    ]\n}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.json: invalid JSON at line 3 column 5: ");
        assertThatThrownBy(() -> parse("{\"ociVersion\": \"1.0.0\"} trailing"))
                .hasMessageStartingWith("test.json: invalid JSON at line 1 column ");
        assertThatThrownBy(() -> parse("{\"ociVersion\": \"1.0.0\", \"ociVersion\": \"1.1.0\"}"))
                .hasMessageStartingWith("test.json: invalid JSON at line 1 column ")
                .hasMessageContaining("Duplicate field 'ociVersion'");
        assertThatThrownBy(() -> parse("")).hasMessage("test.json: invalid JSON: empty document");
        assertThatThrownBy(() -> parse("[1]")).hasMessage("test.json: invalid JSON: top level must be an object, not an array");
    }

    @Test
    void parseByPathUsesPathAsSource(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, with("/process/args", "[]"));
        assertThatThrownBy(() -> SpecParser.parse(f))
                .hasMessage(f + ": process.args: must be a non-empty array of strings");
    }

    @Test
    void acceptedEdgeCases() throws Exception {
        // Relative mount destinations are accepted (runc warns), as are r-variant propagations and
        // commandLine without args; RLIM_INFINITY maps to -1 (unsigned).
        Spec s = parse(with("/mounts/1", "{\"destination\": \"tmp\"}"));
        assertThat(s.mounts().get(1).destination()).isEqualTo("tmp");
        s = parse(with("/linux/rootfsPropagation", "\"rslave\""));
        assertThat(s.linux().rootfsPropagation()).isEqualTo("rslave");
        ObjectNode doc = (ObjectNode) M.readTree(BASE);
        ((ObjectNode) doc.get("process")).remove("args");
        ((ObjectNode) doc.get("process")).put("commandLine", "sh -c true");
        assertThat(parse(M.writeValueAsString(doc)).process().args()).isEmpty();
        s = parse(with("/process/rlimits/0", "{\"type\": \"RLIMIT_CORE\", \"hard\": 18446744073709551615, \"soft\": 0}"));
        assertThat(s.process().rlimits().get(0).hard()).isEqualTo(-1L);
        s = parse(with("/process/user", "{\"uid\": 4294967295, \"gid\": 7, \"umask\": 18, \"username\": \"u\"}"));
        assertThat(s.process().user()).isEqualTo(new User(4294967295L, 7, 18, List.of(), "u"));
        // JSON null means "not set".
        s = parse(with("/linux/rootfsPropagation", "null"));
        assertThat(s.linux().rootfsPropagation()).isNull();
    }

    /**
     * Every wrong JSON type anywhere in a rich config must give a ConfigException naming the source,
     * never a NullPointerException/ClassCastException.
     */
    @Test
    void wrongTypesAnywhereNeverCrash() throws Exception {
        JsonNode base = M.readTree(Files.readAllBytes(SchemaFiles.example("config", "good", "spec-example.json")));
        ((ObjectNode) base).put("ociVersion", "1.0.0");
        ((ObjectNode) base.get("process")).putObject("consoleSize").put("height", 1).put("width", 2);
        ((ObjectNode) base.get("linux")).putObject("personality").put("domain", "LINUX");
        List<String> pointers = new ArrayList<>();
        collect(base, "", pointers);
        assertThat(pointers).hasSizeGreaterThan(200);
        JsonNodeFactory f = JsonNodeFactory.instance;
        List<JsonNode> wrong = List.of(f.textNode("x"), f.numberNode(-1), f.numberNode(1.5), f.arrayNode(),
                f.objectNode(), f.booleanNode(true), f.nullNode(), f.numberNode(new java.math.BigInteger("99999999999999999999")));
        int rejected = 0;
        for (String ptr : pointers) {
            for (JsonNode w : wrong) {
                JsonNode doc = base.deepCopy();
                int slash = ptr.lastIndexOf('/');
                JsonNode parent = slash == 0 ? doc : doc.at(ptr.substring(0, slash));
                String last = ptr.substring(slash + 1);
                if (parent.isArray()) {
                    ((ArrayNode) parent).set(Integer.parseInt(last), w);
                } else {
                    ((ObjectNode) parent).set(last, w);
                }
                byte[] bytes = M.writeValueAsBytes(doc);
                try {
                    SpecParser.parse(bytes, "fuzz.json");
                } catch (ConfigException e) {
                    rejected++;
                    assertThat(e.getMessage()).as("%s = %s", ptr, w).startsWith("fuzz.json: ");
                } catch (RuntimeException e) {
                    throw new AssertionError("crash for " + ptr + " = " + w, e);
                }
            }
        }
        assertThat(rejected).isGreaterThan(pointers.size());
    }

    private static void collect(JsonNode n, String at, List<String> out) {
        if (n.isObject()) {
            for (var e : n.properties()) {
                String p = at + "/" + e.getKey().replace("~", "~0").replace("/", "~1");
                out.add(p);
                collect(e.getValue(), p, out);
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                String p = at + "/" + i;
                out.add(p);
                collect(n.get(i), p, out);
            }
        }
    }
}
