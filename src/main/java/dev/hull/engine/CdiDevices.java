package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Devices by the Container Device Interface (CDI, the CNCF spec docker 25+ and podman use): a vendor's
 * spec file in /etc/cdi or /var/run/cdi (JSON or YAML) names devices of a kind ({@code vendor.com/class})
 * and the edits each needs in the container's OCI config — device nodes, mounts, environment, hooks,
 * extra groups. {@code --device vendor.com/class=name} asks for one; {@code --gpus} asks for
 * {@code nvidia.com/gpu} devices (what {@code nvidia-ctk cdi generate} writes), as docker's CDI mode does.
 * Specs are read at create; the edits land in config.json, so a later change of a spec file changes new
 * containers only.
 */
public final class CdiDevices {
    /** The spec directories, lowest priority first (a device in a later one replaces an earlier one's). */
    static final List<Path> DEFAULT_DIRS = List.of(Path.of("/etc/cdi"), Path.of("/var/run/cdi"));
    static final String GPU_KIND = "nvidia.com/gpu";

    private static final Pattern KIND = Pattern.compile(
            "[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?/[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9]([a-zA-Z0-9_.:-]*[a-zA-Z0-9])?");
    private static final Pattern VERSION = Pattern.compile("\\d+\\.\\d+\\.\\d+");
    private static final Set<String> SPEC_KEYS = Set.of("cdiVersion", "kind", "annotations", "devices",
            "containerEdits");
    private static final Set<String> DEVICE_KEYS = Set.of("name", "annotations", "containerEdits");
    private static final Set<String> EDIT_KEYS = Set.of("env", "deviceNodes", "mounts", "hooks", "additionalGids",
            "intelRdt", "netDevices");
    private static final Set<String> NODE_KEYS = Set.of("path", "hostPath", "type", "major", "minor", "fileMode",
            "permissions", "uid", "gid");
    private static final Set<String> MOUNT_KEYS = Set.of("hostPath", "containerPath", "type", "options");
    private static final Set<String> HOOK_KEYS = Set.of("hookName", "path", "args", "env", "timeout");
    private static final Set<String> HOOK_NAMES = Set.of("prestart", "createRuntime", "createContainer",
            "startContainer", "poststart", "poststop");

    private CdiDevices() {}

    /** A device of a spec: its kind, name, own edits, and the spec's edits for any of its devices. */
    record Device(String kind, String name, JsonNode edits, JsonNode specEdits, Path file) {
        String qualified() {
            return kind + "=" + name;
        }
    }

    /** Every device the spec directories hold, and what could not be read (file: why). */
    record Registry(Map<String, Device> devices, Set<String> conflicts, List<String> broken) {}

    /** vendor.com/class=name: a CDI device, not a host path. */
    public static boolean isQualifiedName(String s) {
        int eq = s.indexOf('=');
        return eq > 0 && !s.startsWith("/") && KIND.matcher(s.substring(0, eq)).matches()
                && NAME.matcher(s.substring(eq + 1)).matches();
    }

    /**
     * Applies the CDI devices o asks for (--device vendor.com/class=name, --gpus) to spec, from the specs
     * in dirs. Nothing asked: nothing read.
     */
    static void apply(ObjectNode spec, CreateOptions o, List<Path> dirs) throws RuntimeError {
        List<String> asked = new ArrayList<>();
        o.devices.stream().filter(CdiDevices::isQualifiedName).forEach(asked::add);
        if (asked.isEmpty() && (o.gpus == null || o.gpus.isEmpty())) {
            return;
        }
        Registry registry = load(dirs);
        if (o.gpus != null && !o.gpus.isEmpty()) {
            asked.addAll(gpus(o.gpus, registry, dirs));
        }
        List<Device> found = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String q : new LinkedHashSet<>(asked)) {
            if (registry.conflicts().contains(q)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "CDI device " + q + " is defined by more than"
                        + " one spec file in the same directory (" + dirNames(dirs) + ")");
            }
            Device d = registry.devices().get(q);
            if (d == null) {
                missing.add(q);
            } else {
                found.add(d);
            }
        }
        if (!missing.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "unresolvable CDI devices " + String.join(", ", missing)
                    + ": no spec in " + dirNames(dirs) + " defines " + (missing.size() == 1 ? "it" : "them")
                    + (registry.broken().isEmpty() ? "" : " (unreadable specs: " + String.join("; ",
                            registry.broken()) + ")"));
        }
        Set<Path> specsDone = new LinkedHashSet<>();
        for (Device d : found) {
            if (specsDone.add(d.file()) && d.specEdits() != null) {
                edit(spec, d.specEdits(), d.file() + " (" + d.kind() + ")");
            }
            if (d.edits() != null) {
                edit(spec, d.edits(), d.file() + " (" + d.qualified() + ")");
            }
        }
    }

    /**
     * docker's --gpus (all, N, count=N, device=ID[,ID], driver=nvidia, capabilities=…) as nvidia.com/gpu
     * devices: all → the spec's "all" device; N → the first N by name (indices in numeric order);
     * device= → those names (an index or a UUID, as nvidia-ctk names them).
     */
    static List<String> gpus(String value, Registry registry, List<Path> dirs) throws RuntimeError {
        Integer count = null;
        List<String> ids = new ArrayList<>();
        for (String field : csv(value)) {
            String f = field.trim();
            int eq = f.indexOf('=');
            String key = eq < 0 ? "" : f.substring(0, eq);
            String v = eq < 0 ? f : f.substring(eq + 1);
            switch (key) {
                case "", "count" -> count = v.equals("all") ? -1 : gpuCount(v, value);
                case "device" -> {
                    for (String id : v.split(",")) {
                        if (!id.isBlank()) {
                            ids.add(id.trim());
                        }
                    }
                }
                case "driver" -> {
                    if (!v.equals("nvidia") && !v.equals("cdi")) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--gpus " + value + ": driver " + v
                                + ": Hull gives GPUs through CDI specs of kind " + GPU_KIND);
                    }
                }
                case "capabilities", "options" -> { } // the CDI spec decides what a device brings
                default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--gpus " + value + ": unexpected key '"
                        + key + "' (use all, N, count=N, device=ID[,ID], driver=nvidia, capabilities=...)");
            }
        }
        if (count != null && !ids.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--gpus " + value
                    + ": cannot set both count and device on a GPU request");
        }
        List<String> known = registry.devices().values().stream().filter(d -> d.kind().equals(GPU_KIND))
                .map(Device::name).filter(n -> !n.equals("all")).sorted(BY_INDEX).toList();
        if (registry.devices().values().stream().noneMatch(d -> d.kind().equals(GPU_KIND))) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--gpus " + value + ": no CDI spec of kind " + GPU_KIND
                    + " in " + dirNames(dirs) + " (NVIDIA's container toolkit writes one: nvidia-ctk cdi generate"
                    + " --output=/etc/cdi/nvidia.yaml)");
        }
        List<String> out = new ArrayList<>();
        if (!ids.isEmpty()) {
            ids.forEach(id -> out.add(GPU_KIND + "=" + id));
        } else if (count == null || count < 0) {
            out.add(GPU_KIND + "=all");
        } else {
            if (count > known.size()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--gpus " + value + ": " + count + " GPUs asked, "
                        + known.size() + " in the CDI specs");
            }
            known.subList(0, count).forEach(n -> out.add(GPU_KIND + "=" + n));
        }
        return out;
    }

    private static int gpuCount(String v, String value) throws RuntimeError {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--gpus " + value + ": " + v
                + " is not a GPU count (use all or a number above 0)");
    }

    /** Numbers in numeric order, before other names (UUIDs, MIG devices) in text order. */
    private static final Comparator<String> BY_INDEX = Comparator
            .comparing((String n) -> !n.matches("\\d{1,9}"))
            .thenComparing(n -> n.matches("\\d{1,9}") ? Integer.parseInt(n) : 0)
            .thenComparing(Comparator.naturalOrder());

    /** docker's --gpus value is a CSV record: fields by commas, a "quoted field" may hold commas. */
    private static List<String> csv(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    /** Reads every *.json, *.yaml and *.yml in dirs; a file that fails is listed in broken, the rest used. */
    static Registry load(List<Path> dirs) {
        Map<String, Device> devices = new LinkedHashMap<>();
        Set<String> conflicts = new LinkedHashSet<>();
        List<String> broken = new ArrayList<>();
        for (Path dir : dirs) {
            Map<String, Device> here = new LinkedHashMap<>();
            Set<String> conflictsHere = new LinkedHashSet<>();
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(f -> f.toString().matches(".*\\.(json|yaml|yml)$") && Files.isRegularFile(f))
                        .sorted().toList();
            } catch (NoSuchFileException e) {
                continue;
            } catch (IOException e) {
                broken.add(dir + ": " + e.getMessage());
                continue;
            }
            for (Path f : files) {
                try {
                    for (Device d : read(f)) {
                        if (here.putIfAbsent(d.qualified(), d) != null) {
                            conflictsHere.add(d.qualified());
                        }
                    }
                } catch (IOException | RuntimeError e) {
                    broken.add(f + ": " + e.getMessage());
                }
            }
            // a later directory's device replaces an earlier one's, and an earlier directory's conflict over it
            for (Device d : here.values()) {
                devices.put(d.qualified(), d);
                conflicts.remove(d.qualified());
            }
            conflicts.addAll(conflictsHere);
        }
        return new Registry(devices, conflicts, broken);
    }

    /** The YAML reader, made on the first YAML spec read. */
    private static final class Yaml {
        static final com.fasterxml.jackson.dataformat.yaml.YAMLMapper MAPPER =
                new com.fasterxml.jackson.dataformat.yaml.YAMLMapper();
    }

    /** One spec file's devices, checked against the CDI spec (unknown fields are errors, as in CDI's own loader). */
    static List<Device> read(Path f) throws IOException, RuntimeError {
        JsonNode root;
        try {
            root = f.toString().endsWith(".json") ? dev.hull.runtime.spec.Json.read(Files.readAllBytes(f))
                    : Yaml.MAPPER.readTree(f.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("not a CDI spec: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad("not a CDI spec (an object with cdiVersion, kind and devices)");
        }
        keys(root, SPEC_KEYS, "the spec");
        String version = root.path("cdiVersion").asText("");
        if (!VERSION.matcher(version).matches()) {
            throw bad("cdiVersion " + (version.isEmpty() ? "missing" : version + " is not a version like 0.6.0"));
        }
        String kind = root.path("kind").asText("");
        if (!KIND.matcher(kind).matches()) {
            throw bad("kind " + (kind.isEmpty() ? "missing" : "'" + kind + "' is not vendor.com/class"));
        }
        JsonNode specEdits = root.get("containerEdits");
        checkEdits(specEdits, "containerEdits");
        JsonNode list = root.path("devices");
        if (!list.isArray() || list.isEmpty()) {
            throw bad("devices: a spec names at least one device");
        }
        List<Device> out = new ArrayList<>();
        for (JsonNode d : list) {
            keys(d, DEVICE_KEYS, "a device");
            String name = d.path("name").asText("");
            if (!NAME.matcher(name).matches()) {
                throw bad("device name '" + name + "': letters, digits, '-', '_', '.' and ':', starting and ending"
                        + " with a letter or digit");
            }
            checkEdits(d.get("containerEdits"), "device " + name + ": containerEdits");
            out.add(new Device(kind, name, d.get("containerEdits"), specEdits, f));
        }
        return out;
    }

    private static void checkEdits(JsonNode edits, String where) throws RuntimeError {
        if (edits == null || edits.isNull()) {
            return;
        }
        keys(edits, EDIT_KEYS, where);
        for (JsonNode n : edits.path("deviceNodes")) {
            keys(n, NODE_KEYS, where + ".deviceNodes");
            if (!n.path("path").asText("").startsWith("/")) {
                throw bad(where + ".deviceNodes: path must be absolute");
            }
        }
        for (JsonNode m : edits.path("mounts")) {
            keys(m, MOUNT_KEYS, where + ".mounts");
            if (!m.path("hostPath").asText("").startsWith("/") || !m.path("containerPath").asText("").startsWith("/")) {
                throw bad(where + ".mounts: hostPath and containerPath must be absolute");
            }
        }
        for (JsonNode h : edits.path("hooks")) {
            keys(h, HOOK_KEYS, where + ".hooks");
            if (!HOOK_NAMES.contains(h.path("hookName").asText())) {
                throw bad(where + ".hooks: hookName '" + h.path("hookName").asText() + "' (use one of "
                        + String.join(", ", HOOK_NAMES.stream().sorted().toList()) + ")");
            }
            if (!h.path("path").asText("").startsWith("/")) {
                throw bad(where + ".hooks: path must be absolute");
            }
        }
    }

    private static void keys(JsonNode n, Set<String> allowed, String where) throws RuntimeError {
        if (!n.isObject()) {
            throw bad(where + ": an object");
        }
        for (var it = n.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw bad(where + ": unknown field '" + k + "'");
            }
        }
    }

    /** Applies one containerEdits object to the OCI config. */
    private static void edit(ObjectNode spec, JsonNode edits, String from) throws RuntimeError {
        for (String field : List.of("intelRdt", "netDevices")) {
            if (edits.hasNonNull(field) && !edits.get(field).isEmpty()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, from + ": CDI " + field + " edits are not"
                        + " applied by Hull yet");
            }
        }
        ObjectNode process = (ObjectNode) spec.get("process");
        ArrayNode env = (ArrayNode) process.get("env");
        for (JsonNode e : edits.path("env")) {
            String kv = e.asText();
            String name = kv.contains("=") ? kv.substring(0, kv.indexOf('=') + 1) : kv + "=";
            for (int i = env.size() - 1; i >= 0; i--) {
                if (env.get(i).asText().startsWith(name)) {
                    env.remove(i);
                }
            }
            env.add(kv);
        }
        ObjectNode linux = (ObjectNode) spec.get("linux");
        ObjectNode res = linux.has("resources") ? (ObjectNode) linux.get("resources") : linux.putObject("resources");
        ArrayNode rules = res.has("devices") ? (ArrayNode) res.get("devices") : res.putArray("devices");
        ArrayNode devices = linux.has("devices") ? (ArrayNode) linux.get("devices") : linux.putArray("devices");
        for (JsonNode n : edits.path("deviceNodes")) {
            node(n, devices, rules, from);
        }
        ArrayNode mounts = (ArrayNode) spec.get("mounts");
        for (JsonNode m : edits.path("mounts")) {
            ObjectNode out = mounts.addObject();
            out.put("destination", m.path("containerPath").asText());
            out.put("source", m.path("hostPath").asText());
            List<String> options = new ArrayList<>();
            m.path("options").forEach(x -> options.add(x.asText()));
            String type = m.path("type").asText("");
            if (type.isEmpty() || type.equals("none") || type.equals("bind")) {
                type = "bind";
                if (!options.contains("bind") && !options.contains("rbind")) {
                    options.add("rbind");
                }
            }
            out.put("type", type);
            ArrayNode o = out.putArray("options");
            options.forEach(o::add);
        }
        if (edits.path("hooks").size() > 0) {
            ObjectNode hooks = spec.has("hooks") ? (ObjectNode) spec.get("hooks") : spec.putObject("hooks");
            for (JsonNode h : edits.path("hooks")) {
                String phase = h.path("hookName").asText();
                ArrayNode list = hooks.has(phase) ? (ArrayNode) hooks.get(phase) : hooks.putArray(phase);
                ObjectNode hook = list.addObject();
                hook.put("path", h.path("path").asText());
                for (String k : List.of("args", "env")) {
                    if (h.has(k)) {
                        hook.set(k, h.get(k).deepCopy());
                    }
                }
                if (h.has("timeout")) {
                    hook.put("timeout", h.get("timeout").asInt());
                }
            }
        }
        if (edits.path("additionalGids").size() > 0) {
            ObjectNode user = (ObjectNode) process.get("user");
            ArrayNode gids = user.has("additionalGids") ? (ArrayNode) user.get("additionalGids")
                    : user.putArray("additionalGids");
            for (JsonNode g : edits.path("additionalGids")) {
                long gid = g.asLong();
                boolean present = false;
                for (JsonNode x : gids) {
                    present |= x.asLong() == gid;
                }
                if (gid != 0 && !present) {
                    gids.add(gid);
                }
            }
        }
    }

    /** A deviceNodes entry: the host node's numbers and mode unless the entry gives them; rwm unless it says. */
    private static void node(JsonNode n, ArrayNode devices, ArrayNode rules, String from) throws RuntimeError {
        String path = n.path("path").asText();
        Path host = Path.of(n.path("hostPath").asText(path));
        HostDevice d;
        try {
            d = HostDevice.stat(host);
            if (d == null) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, from + ": " + host + " is not a device node");
            }
        } catch (NoSuchFileException e) {
            if (!n.has("type") || !n.has("major") || !n.has("minor")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, from + ": device node " + host
                        + " does not exist on this host");
            }
            d = new HostDevice(n.path("type").asText(), 0, 0, 0666, 0, 0);
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, from + ": cannot read device node " + host + ": "
                    + e.getMessage());
        }
        String type = n.path("type").asText(d.type());
        if (!type.equals("c") && !type.equals("b") && !type.equals("u")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, from + ": device type '" + type + "' (use c, b or u)");
        }
        String perms = n.path("permissions").asText("");
        if (perms.isEmpty()) {
            perms = "rwm";
        } else if (!perms.equals("none") && (!perms.matches("[rwm]+") || perms.chars().distinct().count()
                != perms.length())) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, from + ": device permissions '" + perms
                    + "' (r, w and m, or none)");
        }
        HostDevice given = new HostDevice(type.equals("u") ? "c" : type, n.path("major").asLong(d.major()),
                n.path("minor").asLong(d.minor()), n.has("fileMode") ? n.get("fileMode").asInt() & 0777 : d.mode(),
                n.path("uid").asInt(d.uid()), n.path("gid").asInt(d.gid()));
        given.addTo(path, perms.equals("none") ? "" : perms, devices, rules); // none: a node, and no access to it
    }

    private static RuntimeError bad(String why) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, why);
    }

    private static String dirNames(List<Path> dirs) {
        return String.join(", ", dirs.stream().map(Path::toString).toList());
    }
}
