package dev.hull.runtime.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses an OCI runtime-spec 1.x {@code config.json} into {@link Spec}, validating it on the way.
 *
 * <p>Mapping is done by hand over Jackson's tree model (no reflection-based databinding) to keep
 * cold-start class loading small. Every error is a {@link ConfigException} whose message is
 * {@code "<source>: <field.path>: <problem>"}. Unknown fields are ignored (forward compatibility);
 * they stay available through the {@code raw} components. Whether a {@code process} is present
 * (required by {@code create}) is for the caller to check.
 */
public final class SpecParser {
    /** The runtime-spec version Hull implements (the version of the schemas it is tested against). */
    public static final String SPEC_VERSION = "1.3.0";
    /** Oldest runtime-spec version Hull accepts. */
    public static final String MIN_SPEC_VERSION = "1.0.0";

    /** Namespace types in the order the error message lists them. */
    public static final List<String> NAMESPACE_TYPES =
            List.of("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time");
    static final List<String> HOOK_PHASES =
            List.of("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop");
    private static final Set<String> PROPAGATIONS = Set.of(
            "private", "shared", "slave", "unbindable", "rprivate", "rshared", "rslave", "runbindable");
    private static final Pattern OCI_VERSION =
            Pattern.compile("1\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?");
    private static final Pattern RLIMIT_TYPE = Pattern.compile("RLIMIT_[A-Z]+");
    private static final Pattern DEVICE_TYPE = Pattern.compile("[cbup]");
    private static final Pattern PAGE_SIZE = Pattern.compile("[1-9][0-9]*[KMG]B");
    private static final Set<String> SECCOMP_ACTIONS = Set.of("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
            "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY");
    private static final Set<String> SECCOMP_OPS = Set.of("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
            "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ");

    private static final BigInteger INT32_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
    private static final BigInteger INT32_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger INT64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger INT64_MAX = BigInteger.valueOf(Long.MAX_VALUE);
    private static final BigInteger UINT16_MAX = BigInteger.valueOf(0xFFFF);
    private static final BigInteger UINT32_MAX = BigInteger.valueOf(0xFFFF_FFFFL);
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final String source;

    private SpecParser(String source) {
        this.source = source;
    }

    /** Reads and parses {@code configJson}; error messages name the path as given. */
    public static Spec parse(Path configJson) throws ConfigException, IOException {
        return parse(Files.readAllBytes(configJson), configJson.toString());
    }

    /** Parses a config document; {@code sourceName} prefixes every error message. */
    public static Spec parse(byte[] json, String sourceName) throws ConfigException {
        SpecParser p = new SpecParser(sourceName);
        return p.spec(readTree(json, sourceName));
    }

    /** Parses a standalone process document ({@code exec --process FILE}); errors are prefixed with sourceName. */
    public static Process parseProcess(byte[] json, String sourceName) throws ConfigException {
        return new SpecParser(sourceName).process(readTree(json, sourceName), "process");
    }

    /** Reads JSON into a tree, turning syntax errors into "invalid JSON at line L column C: ..." errors. */
    static JsonNode readTree(byte[] json, String sourceName) throws ConfigException {
        JsonNode root;
        try {
            root = Json.read(json);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + " column " + loc.getColumnNr();
            throw new ConfigException(sourceName + ": invalid JSON" + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException(sourceName + ": invalid JSON: " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new ConfigException(sourceName + ": invalid JSON: empty document");
        }
        if (!root.isObject()) {
            throw new ConfigException(sourceName + ": invalid JSON: top level must be an object, not "
                    + kind(root));
        }
        return root;
    }

    // ---------------------------------------------------------------- top level

    private Spec spec(JsonNode root) throws ConfigException {
        JsonNode v = root.get("ociVersion");
        if (v == null || v.isNull()) {
            throw err("ociVersion", "required");
        }
        String ociVersion = string(v, "ociVersion");
        if (!OCI_VERSION.matcher(ociVersion).matches()) {
            throw err("ociVersion", "unsupported version " + quote(ociVersion) + " (expected 1.x.y, e.g. \""
                    + SPEC_VERSION + "\")");
        }

        Root rootfs = null;
        JsonNode r = field(root, "root");
        if (r != null) {
            object(r, "root");
            String path = requiredString(r, "root", "path");
            if (path.isEmpty()) {
                throw err("root.path", "must not be empty");
            }
            rootfs = new Root(path, optBool(r, "root", "readonly", false));
        }

        String hostname = optString(root, "", "hostname");
        String domainname = optString(root, "", "domainname");

        List<Mount> mounts = new ArrayList<>();
        JsonNode ms = field(root, "mounts");
        if (ms != null) {
            array(ms, "mounts");
            for (int i = 0; i < ms.size(); i++) {
                mounts.add(mount(ms.get(i), "mounts[" + i + "]"));
            }
        }

        Process process = null;
        JsonNode pr = field(root, "process");
        if (pr != null) {
            process = process(pr, "process");
        }

        Linux linux = null;
        JsonNode ln = field(root, "linux");
        if (ln != null) {
            linux = linux(ln, "linux");
        }

        Hooks hooks = null;
        JsonNode hk = field(root, "hooks");
        if (hk != null) {
            hooks = hooks(hk, "hooks");
        }

        Map<String, String> annotations = stringMap(field(root, "annotations"), "annotations");

        // Cross-field checks (as runc's config validator does).
        boolean uts = linux != null && linux.namespace("uts").isPresent();
        if (hostname != null && !hostname.isEmpty() && !uts) {
            throw err("hostname", "unable to set hostname without a private UTS namespace"
                    + " (add {\"type\": \"uts\"} to linux.namespaces)");
        }
        if (domainname != null && !domainname.isEmpty() && !uts) {
            throw err("domainname", "unable to set domainname without a private UTS namespace"
                    + " (add {\"type\": \"uts\"} to linux.namespaces)");
        }
        return new Spec(ociVersion, process, rootfs, hostname, domainname, mounts, linux, hooks, annotations, root);
    }

    // ---------------------------------------------------------------- process

    private Process process(JsonNode n, String at) throws ConfigException {
        object(n, at);
        boolean terminal = optBool(n, at, "terminal", false);

        ConsoleSize consoleSize = null;
        JsonNode cs = field(n, "consoleSize");
        if (cs != null) {
            String p = at + ".consoleSize";
            object(cs, p);
            consoleSize = new ConsoleSize(
                    (int) range(required(cs, p, "height"), p + ".height", BigInteger.ZERO, INT32_MAX, "a non-negative integer"),
                    (int) range(required(cs, p, "width"), p + ".width", BigInteger.ZERO, INT32_MAX, "a non-negative integer"));
        }

        User user = new User(0, 0, null, List.of(), null);
        JsonNode u = field(n, "user");
        if (u != null) {
            user = user(u, at + ".user");
        }

        String commandLine = optString(n, at, "commandLine");
        List<String> args = List.of();
        JsonNode a = field(n, "args");
        if (a != null || commandLine == null) {
            String p = at + ".args";
            if (a == null || !a.isArray() || a.isEmpty()) {
                throw err(p, "must be a non-empty array of strings");
            }
            args = stringList(a, p);
        }

        List<String> env = env(field(n, "env"), at + ".env");

        JsonNode c = field(n, "cwd");
        if (c == null) {
            throw err(at + ".cwd", "required");
        }
        String cwd = string(c, at + ".cwd");
        if (!cwd.startsWith("/")) {
            throw err(at + ".cwd", "must be an absolute path, got " + quote(cwd));
        }

        boolean noNewPrivileges = optBool(n, at, "noNewPrivileges", false);

        Capabilities caps = null;
        JsonNode cp = field(n, "capabilities");
        if (cp != null) {
            String p = at + ".capabilities";
            object(cp, p);
            caps = new Capabilities(
                    optStringList(cp, p, "bounding"),
                    optStringList(cp, p, "effective"),
                    optStringList(cp, p, "inheritable"),
                    optStringList(cp, p, "permitted"),
                    optStringList(cp, p, "ambient"));
        }

        List<Rlimit> rlimits = new ArrayList<>();
        JsonNode rl = field(n, "rlimits");
        if (rl != null) {
            String p = at + ".rlimits";
            array(rl, p);
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < rl.size(); i++) {
                String q = p + "[" + i + "]";
                JsonNode e = rl.get(i);
                object(e, q);
                String type = requiredString(e, q, "type");
                if (!RLIMIT_TYPE.matcher(type).matches()) {
                    throw err(q + ".type", "invalid rlimit type " + quote(type) + " (expected RLIMIT_*)");
                }
                if (!seen.add(type)) {
                    throw err(q + ".type", "duplicate rlimit type " + quote(type));
                }
                long hard = uint64(required(e, q, "hard"), q + ".hard");
                long soft = uint64(required(e, q, "soft"), q + ".soft");
                rlimits.add(new Rlimit(type, hard, soft));
            }
        }

        String apparmor = optString(n, at, "apparmorProfile");
        Integer oom = null;
        JsonNode o = field(n, "oomScoreAdj");
        if (o != null) {
            oom = (int) range(o, at + ".oomScoreAdj", INT32_MIN, INT32_MAX, "a 32-bit integer");
        }
        String selinux = optString(n, at, "selinuxLabel");

        JsonNode io = field(n, "ioPriority");
        if (io != null) {
            String p = at + ".ioPriority";
            object(io, p);
            oneOf(requiredString(io, p, "class"), p + ".class", List.of("IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"));
            optInt32(io, p, "priority");
        }
        JsonNode sch = field(n, "scheduler");
        if (sch != null) {
            String p = at + ".scheduler";
            object(sch, p);
            oneOf(requiredString(sch, p, "policy"), p + ".policy", List.of("SCHED_OTHER", "SCHED_FIFO",
                    "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"));
            optInt32(sch, p, "nice");
            optInt32(sch, p, "priority");
            optStringList(sch, p, "flags");
            for (String f : List.of("runtime", "deadline", "period")) {
                JsonNode x = field(sch, f);
                if (x != null) {
                    uint64(x, p + "." + f);
                }
            }
        }
        JsonNode aff = field(n, "execCPUAffinity");
        if (aff != null) {
            String p = at + ".execCPUAffinity";
            object(aff, p);
            for (String f : List.of("initial", "final")) {
                String s = optString(aff, p, f);
                if (s != null && !s.matches("[0-9, -]*")) {
                    throw err(p + "." + f, "invalid CPU list " + quote(s));
                }
            }
        }
        return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, noNewPrivileges, caps,
                rlimits, apparmor, oom, selinux, n);
    }

    private User user(JsonNode u, String at) throws ConfigException {
        object(u, at);
        long uid = 0;
        long gid = 0;
        JsonNode x = field(u, "uid");
        if (x != null) {
            uid = uint32(x, at + ".uid");
        }
        x = field(u, "gid");
        if (x != null) {
            gid = uint32(x, at + ".gid");
        }
        Integer umask = null;
        x = field(u, "umask");
        if (x != null) {
            umask = (int) uint32(x, at + ".umask");
        }
        List<Long> gids = new ArrayList<>();
        x = field(u, "additionalGids");
        if (x != null) {
            array(x, at + ".additionalGids");
            for (int i = 0; i < x.size(); i++) {
                gids.add(uint32(x.get(i), at + ".additionalGids[" + i + "]"));
            }
        }
        return new User(uid, gid, umask, gids, optString(u, at, "username"));
    }

    private List<String> env(JsonNode n, String at) throws ConfigException {
        if (n == null) {
            return List.of();
        }
        List<String> env = stringList(n, at);
        for (int i = 0; i < env.size(); i++) {
            String e = env.get(i);
            if (e.indexOf('=') <= 0) {
                throw err(at + "[" + i + "]", "must be a \"KEY=VALUE\" string, got " + quote(e));
            }
        }
        return env;
    }

    // ---------------------------------------------------------------- mounts

    private Mount mount(JsonNode m, String at) throws ConfigException {
        object(m, at);
        String dest = requiredString(m, at, "destination");
        if (dest.isEmpty()) {
            throw err(at + ".destination", "must not be empty");
        }
        return new Mount(dest, optString(m, at, "type"), optString(m, at, "source"),
                optStringList(m, at, "options"),
                idMappings(field(m, "uidMappings"), at + ".uidMappings"),
                idMappings(field(m, "gidMappings"), at + ".gidMappings"));
    }

    private List<IdMapping> idMappings(JsonNode n, String at) throws ConfigException {
        if (n == null) {
            return List.of();
        }
        array(n, at);
        List<IdMapping> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String p = at + "[" + i + "]";
            JsonNode e = n.get(i);
            object(e, p);
            long c = uint32(required(e, p, "containerID"), p + ".containerID");
            long h = uint32(required(e, p, "hostID"), p + ".hostID");
            long s = uint32(required(e, p, "size"), p + ".size");
            if (s == 0) {
                throw err(p + ".size", "must be at least 1");
            }
            if (c + s - 1 > 0xFFFF_FFFFL) {
                throw err(p, "containerID + size exceeds the uint32 ID range");
            }
            if (h + s - 1 > 0xFFFF_FFFFL) {
                throw err(p, "hostID + size exceeds the uint32 ID range");
            }
            out.add(new IdMapping(c, h, s));
        }
        return out;
    }

    // ---------------------------------------------------------------- linux

    private Linux linux(JsonNode n, String at) throws ConfigException {
        object(n, at);

        List<Namespace> namespaces = new ArrayList<>();
        JsonNode ns = field(n, "namespaces");
        if (ns != null) {
            String p = at + ".namespaces";
            array(ns, p);
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < ns.size(); i++) {
                String q = p + "[" + i + "]";
                JsonNode e = ns.get(i);
                object(e, q);
                String type = requiredString(e, q, "type");
                if (!NAMESPACE_TYPES.contains(type)) {
                    throw err(q + ".type", "unknown namespace type " + quote(type) + " (expected one of "
                            + String.join(", ", NAMESPACE_TYPES) + ")");
                }
                if (!seen.add(type)) {
                    throw err(q + ".type", "duplicate namespace type " + quote(type));
                }
                String path = optString(e, q, "path");
                if (path != null && !path.startsWith("/")) {
                    throw err(q + ".path", "must be an absolute path, got " + quote(path));
                }
                namespaces.add(new Namespace(type, path));
            }
        }
        Namespace userns = null;
        Namespace timens = null;
        for (Namespace x : namespaces) {
            if (x.type().equals("user")) {
                userns = x;
            } else if (x.type().equals("time")) {
                timens = x;
            }
        }

        List<IdMapping> uidMappings = idMappings(field(n, "uidMappings"), at + ".uidMappings");
        List<IdMapping> gidMappings = idMappings(field(n, "gidMappings"), at + ".gidMappings");
        for (String f : List.of("uidMappings", "gidMappings")) {
            if ((f.equals("uidMappings") ? uidMappings : gidMappings).isEmpty()) {
                continue;
            }
            if (userns == null) {
                throw err(at + "." + f, "user namespace mappings specified, but no user namespace in "
                        + at + ".namespaces");
            }
            if (userns.path() != null) {
                throw err(at + "." + f, "mappings can only be used with a new user namespace, but the user"
                        + " namespace joins " + quote(userns.path()));
            }
        }

        Map<String, TimeOffset> timeOffsets = new LinkedHashMap<>();
        JsonNode to = field(n, "timeOffsets");
        if (to != null) {
            String p = at + ".timeOffsets";
            object(to, p);
            for (Map.Entry<String, JsonNode> e : to.properties()) {
                String key = e.getKey();
                String q = p + "." + key;
                if (!key.equals("monotonic") && !key.equals("boottime")) {
                    throw err(q, "unknown clock " + quote(key) + " (expected monotonic or boottime)");
                }
                JsonNode v = e.getValue();
                object(v, q);
                long secs = 0;
                long nanos = 0;
                JsonNode s = field(v, "secs");
                if (s != null) {
                    secs = range(s, q + ".secs", INT64_MIN, INT64_MAX, "a 64-bit integer");
                }
                JsonNode ns2 = field(v, "nanosecs");
                if (ns2 != null) {
                    nanos = uint32(ns2, q + ".nanosecs");
                }
                timeOffsets.put(key, new TimeOffset(secs, nanos));
            }
            if (!timeOffsets.isEmpty() && (timens == null || timens.path() != null)) {
                throw err(p, "time offsets can only be set for a new time namespace (add {\"type\": \"time\"}"
                        + " to " + at + ".namespaces)");
            }
        }

        List<Device> devices = new ArrayList<>();
        JsonNode dv = field(n, "devices");
        if (dv != null) {
            String p = at + ".devices";
            array(dv, p);
            for (int i = 0; i < dv.size(); i++) {
                devices.add(device(dv.get(i), p + "[" + i + "]"));
            }
        }

        String cgroupsPath = optString(n, at, "cgroupsPath");

        JsonNode resources = field(n, "resources");
        if (resources != null) {
            resources(resources, at + ".resources");
        }

        JsonNode nd = field(n, "netDevices");
        if (nd != null) {
            String p = at + ".netDevices";
            object(nd, p);
            for (Map.Entry<String, JsonNode> e : nd.properties()) {
                String q = p + "." + e.getKey();
                object(e.getValue(), q);
                optString(e.getValue(), q, "name");
            }
        }

        String propagation = optString(n, at, "rootfsPropagation");
        if (propagation != null && !PROPAGATIONS.contains(propagation)) {
            throw err(at + ".rootfsPropagation", "invalid value " + quote(propagation)
                    + " (expected one of private, shared, slave, unbindable, rprivate, rshared, rslave, runbindable)");
        }

        JsonNode seccomp = field(n, "seccomp");
        if (seccomp != null) {
            seccomp(seccomp, at + ".seccomp");
        }

        Map<String, String> sysctl = stringMap(field(n, "sysctl"), at + ".sysctl");
        List<String> masked = optStringList(n, at, "maskedPaths");
        List<String> readonly = optStringList(n, at, "readonlyPaths");
        String mountLabel = optString(n, at, "mountLabel");

        JsonNode rdt = field(n, "intelRdt");
        if (rdt != null) {
            String p = at + ".intelRdt";
            object(rdt, p);
            optString(rdt, p, "closID");
            optStringList(rdt, p, "schemata");
            optString(rdt, p, "l3CacheSchema");
            optString(rdt, p, "memBwSchema");
            optBool(rdt, p, "enableMonitoring", false);
        }
        JsonNode mp = field(n, "memoryPolicy");
        if (mp != null) {
            String p = at + ".memoryPolicy";
            object(mp, p);
            optString(mp, p, "mode");
            optString(mp, p, "nodes");
            optStringList(mp, p, "flags");
        }

        String personalityDomain = null;
        JsonNode pers = field(n, "personality");
        if (pers != null) {
            String p = at + ".personality";
            object(pers, p);
            personalityDomain = optString(pers, p, "domain");
            if (personalityDomain != null) {
                oneOf(personalityDomain, p + ".domain", List.of("LINUX", "LINUX32"));
            }
            optStringList(pers, p, "flags");
        }

        return new Linux(namespaces, uidMappings, gidMappings, timeOffsets, devices, cgroupsPath, resources,
                propagation, sysctl, masked, readonly, mountLabel, seccomp, personalityDomain, n);
    }

    private Device device(JsonNode d, String at) throws ConfigException {
        object(d, at);
        String type = requiredString(d, at, "type");
        if (!DEVICE_TYPE.matcher(type).matches()) {
            throw err(at + ".type", "invalid device type " + quote(type) + " (expected c, b, u or p)");
        }
        String path = requiredString(d, at, "path");
        if (!path.startsWith("/")) {
            throw err(at + ".path", "must be an absolute path, got " + quote(path));
        }
        long major = 0;
        long minor = 0;
        JsonNode x = field(d, "major");
        if (x != null) {
            major = int64(x, at + ".major");
        } else if (!type.equals("p")) {
            throw err(at + ".major", "required for device type " + quote(type));
        }
        x = field(d, "minor");
        if (x != null) {
            minor = int64(x, at + ".minor");
        } else if (!type.equals("p")) {
            throw err(at + ".minor", "required for device type " + quote(type));
        }
        Integer mode = null;
        x = field(d, "fileMode");
        if (x != null) {
            mode = (int) range(x, at + ".fileMode", BigInteger.ZERO, BigInteger.valueOf(511),
                    "a file mode between 0 and 511 (0777; JSON has no octal)");
        }
        Long uid = null;
        x = field(d, "uid");
        if (x != null) {
            uid = uint32(x, at + ".uid");
        }
        Long gid = null;
        x = field(d, "gid");
        if (x != null) {
            gid = uint32(x, at + ".gid");
        }
        return new Device(type, path, major, minor, mode, uid, gid);
    }

    /** Shape validation of linux.resources, per config-linux.json; the values are read later. */
    private void resources(JsonNode r, String at) throws ConfigException {
        object(r, at);
        stringMap(field(r, "unified"), at + ".unified");
        JsonNode x = field(r, "devices");
        if (x != null) {
            String p = at + ".devices";
            array(x, p);
            for (int i = 0; i < x.size(); i++) {
                String q = p + "[" + i + "]";
                JsonNode e = x.get(i);
                object(e, q);
                bool(required(e, q, "allow"), q + ".allow");
                optString(e, q, "type");
                optInt64(e, q, "major");
                optInt64(e, q, "minor");
                optString(e, q, "access");
            }
        }
        x = field(r, "pids");
        if (x != null) {
            String p = at + ".pids";
            object(x, p);
            int64(required(x, p, "limit"), p + ".limit");
        }
        x = field(r, "blockIO");
        if (x != null) {
            String p = at + ".blockIO";
            object(x, p);
            optUint16(x, p, "weight");
            optUint16(x, p, "leafWeight");
            for (String f : List.of("throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                    "throttleWriteIOPSDevice", "weightDevice")) {
                JsonNode a = field(x, f);
                if (a == null) {
                    continue;
                }
                String q = p + "." + f;
                array(a, q);
                for (int i = 0; i < a.size(); i++) {
                    String s = q + "[" + i + "]";
                    JsonNode e = a.get(i);
                    object(e, s);
                    int64(required(e, s, "major"), s + ".major");
                    int64(required(e, s, "minor"), s + ".minor");
                    if (f.equals("weightDevice")) {
                        optUint16(e, s, "weight");
                        optUint16(e, s, "leafWeight");
                    } else {
                        optUint64(e, s, "rate");
                    }
                }
            }
        }
        x = field(r, "cpu");
        if (x != null) {
            String p = at + ".cpu";
            object(x, p);
            optString(x, p, "cpus");
            optString(x, p, "mems");
            for (String f : List.of("period", "burst", "realtimePeriod", "shares")) {
                optUint64(x, p, f);
            }
            for (String f : List.of("quota", "realtimeRuntime", "idle")) {
                optInt64(x, p, f);
            }
        }
        x = field(r, "hugepageLimits");
        if (x != null) {
            String p = at + ".hugepageLimits";
            array(x, p);
            for (int i = 0; i < x.size(); i++) {
                String q = p + "[" + i + "]";
                JsonNode e = x.get(i);
                object(e, q);
                String size = requiredString(e, q, "pageSize");
                if (!PAGE_SIZE.matcher(size).matches()) {
                    throw err(q + ".pageSize", "invalid page size " + quote(size)
                            + " (expected <number>KB, <number>MB or <number>GB, e.g. \"2MB\")");
                }
                uint64(required(e, q, "limit"), q + ".limit");
            }
        }
        x = field(r, "memory");
        if (x != null) {
            String p = at + ".memory";
            object(x, p);
            for (String f : List.of("kernel", "kernelTCP", "limit", "reservation", "swap")) {
                optInt64(x, p, f);
            }
            optUint64(x, p, "swappiness");
            for (String f : List.of("disableOOMKiller", "useHierarchy", "checkBeforeUpdate")) {
                optBool(x, p, f, false);
            }
        }
        x = field(r, "network");
        if (x != null) {
            String p = at + ".network";
            object(x, p);
            JsonNode c = field(x, "classID");
            if (c != null) {
                uint32(c, p + ".classID");
            }
            JsonNode pr = field(x, "priorities");
            if (pr != null) {
                String q = p + ".priorities";
                array(pr, q);
                for (int i = 0; i < pr.size(); i++) {
                    String s = q + "[" + i + "]";
                    JsonNode e = pr.get(i);
                    object(e, s);
                    requiredString(e, s, "name");
                    uint32(required(e, s, "priority"), s + ".priority");
                }
            }
        }
        x = field(r, "rdma");
        if (x != null) {
            String p = at + ".rdma";
            object(x, p);
            for (Map.Entry<String, JsonNode> e : x.properties()) {
                String q = p + "." + e.getKey();
                object(e.getValue(), q);
                for (String f : List.of("hcaHandles", "hcaObjects")) {
                    JsonNode v = field(e.getValue(), f);
                    if (v != null) {
                        uint32(v, q + "." + f);
                    }
                }
            }
        }
    }

    /** Shape validation of linux.seccomp; the filter itself is compiled later. */
    private void seccomp(JsonNode s, String at) throws ConfigException {
        object(s, at);
        oneOf(requiredString(s, at, "defaultAction"), at + ".defaultAction", sorted(SECCOMP_ACTIONS));
        JsonNode x = field(s, "defaultErrnoRet");
        if (x != null) {
            uint32(x, at + ".defaultErrnoRet");
        }
        optStringList(s, at, "flags");
        optString(s, at, "listenerPath");
        optString(s, at, "listenerMetadata");
        optStringList(s, at, "architectures");
        x = field(s, "syscalls");
        if (x != null) {
            String p = at + ".syscalls";
            array(x, p);
            for (int i = 0; i < x.size(); i++) {
                String q = p + "[" + i + "]";
                JsonNode e = x.get(i);
                object(e, q);
                JsonNode names = required(e, q, "names");
                if (!names.isArray() || names.isEmpty()) {
                    throw err(q + ".names", "must be a non-empty array of strings");
                }
                stringList(names, q + ".names");
                oneOf(requiredString(e, q, "action"), q + ".action", sorted(SECCOMP_ACTIONS));
                JsonNode er = field(e, "errnoRet");
                if (er != null) {
                    uint32(er, q + ".errnoRet");
                }
                JsonNode args = field(e, "args");
                if (args != null) {
                    String ap = q + ".args";
                    array(args, ap);
                    for (int j = 0; j < args.size(); j++) {
                        String aq = ap + "[" + j + "]";
                        JsonNode arg = args.get(j);
                        object(arg, aq);
                        uint32(required(arg, aq, "index"), aq + ".index");
                        uint64(required(arg, aq, "value"), aq + ".value");
                        optUint64(arg, aq, "valueTwo");
                        oneOf(requiredString(arg, aq, "op"), aq + ".op", sorted(SECCOMP_OPS));
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- hooks

    private Hooks hooks(JsonNode n, String at) throws ConfigException {
        object(n, at);
        List<List<Hook>> phases = new ArrayList<>();
        for (String phase : HOOK_PHASES) {
            List<Hook> list = new ArrayList<>();
            JsonNode a = field(n, phase);
            if (a != null) {
                String p = at + "." + phase;
                array(a, p);
                for (int i = 0; i < a.size(); i++) {
                    list.add(hook(a.get(i), p + "[" + i + "]"));
                }
            }
            phases.add(list);
        }
        return new Hooks(phases.get(0), phases.get(1), phases.get(2), phases.get(3), phases.get(4), phases.get(5));
    }

    private Hook hook(JsonNode h, String at) throws ConfigException {
        object(h, at);
        String path = requiredString(h, at, "path");
        if (!path.startsWith("/")) {
            throw err(at + ".path", "must be an absolute path, got " + quote(path));
        }
        Integer timeout = null;
        JsonNode t = field(h, "timeout");
        if (t != null) {
            timeout = (int) range(t, at + ".timeout", BigInteger.ONE, INT32_MAX, "a positive integer (seconds)");
        }
        return new Hook(path, optStringList(h, at, "args"), env(field(h, "env"), at + ".env"), timeout);
    }

    // ---------------------------------------------------------------- typed accessors

    private ConfigException err(String path, String problem) {
        return new ConfigException(source + ": " + path + ": " + problem);
    }

    private static String join(String at, String name) {
        return at.isEmpty() ? name : at + "." + name;
    }

    /** A field's value, or null when absent or JSON null (null means "not set", as in Go). */
    private static JsonNode field(JsonNode obj, String name) {
        JsonNode v = obj.get(name);
        return v == null || v.isNull() ? null : v;
    }

    private JsonNode required(JsonNode obj, String at, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        if (v == null) {
            throw err(join(at, name), "required");
        }
        return v;
    }

    private void object(JsonNode n, String at) throws ConfigException {
        if (!n.isObject()) {
            throw err(at, "must be an object, not " + kind(n));
        }
    }

    private void array(JsonNode n, String at) throws ConfigException {
        if (!n.isArray()) {
            throw err(at, "must be an array, not " + kind(n));
        }
    }

    private String string(JsonNode n, String at) throws ConfigException {
        if (!n.isTextual()) {
            throw err(at, "must be a string, not " + kind(n));
        }
        return n.textValue();
    }

    private boolean bool(JsonNode n, String at) throws ConfigException {
        if (!n.isBoolean()) {
            throw err(at, "must be a boolean, not " + kind(n));
        }
        return n.booleanValue();
    }

    private String requiredString(JsonNode obj, String at, String name) throws ConfigException {
        return string(required(obj, at, name), join(at, name));
    }

    private String optString(JsonNode obj, String at, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        return v == null ? null : string(v, join(at, name));
    }

    private boolean optBool(JsonNode obj, String at, String name, boolean dflt) throws ConfigException {
        JsonNode v = field(obj, name);
        return v == null ? dflt : bool(v, join(at, name));
    }

    private List<String> stringList(JsonNode n, String at) throws ConfigException {
        if (!n.isArray()) {
            throw err(at, "must be an array of strings, not " + kind(n));
        }
        List<String> out = new ArrayList<>(n.size());
        for (int i = 0; i < n.size(); i++) {
            JsonNode e = n.get(i);
            if (!e.isTextual()) {
                throw err(at + "[" + i + "]", "must be a string, not " + kind(e));
            }
            out.add(e.textValue());
        }
        return out;
    }

    private List<String> optStringList(JsonNode obj, String at, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        return v == null ? List.of() : stringList(v, join(at, name));
    }

    private Map<String, String> stringMap(JsonNode n, String at) throws ConfigException {
        if (n == null) {
            return Map.of();
        }
        object(n, at);
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            if (e.getKey().isEmpty()) {
                throw err(at, "keys must not be empty");
            }
            out.put(e.getKey(), string(e.getValue(), at + "." + e.getKey()));
        }
        return out;
    }

    private void oneOf(String value, String at, List<String> allowed) throws ConfigException {
        if (!allowed.contains(value)) {
            throw err(at, "invalid value " + quote(value) + " (expected one of " + String.join(", ", allowed) + ")");
        }
    }

    private BigInteger integer(JsonNode n, String at, String what) throws ConfigException {
        if (!n.isIntegralNumber()) {
            throw err(at, "must be " + what + ", not " + kind(n));
        }
        return n.bigIntegerValue();
    }

    private long range(JsonNode n, String at, BigInteger min, BigInteger max, String what) throws ConfigException {
        BigInteger v = integer(n, at, what);
        if (v.compareTo(min) < 0 || v.compareTo(max) > 0) {
            throw err(at, "must be " + what + ", got " + v);
        }
        return v.longValue();
    }

    private long uint32(JsonNode n, String at) throws ConfigException {
        return range(n, at, BigInteger.ZERO, UINT32_MAX, "a non-negative integer within uint32 (0..4294967295)");
    }

    /** uint64 held in a long with unsigned semantics (2^64-1 becomes -1). */
    private long uint64(JsonNode n, String at) throws ConfigException {
        return range(n, at, BigInteger.ZERO, UINT64_MAX, "a non-negative integer within uint64");
    }

    private long int64(JsonNode n, String at) throws ConfigException {
        return range(n, at, INT64_MIN, INT64_MAX, "a 64-bit integer");
    }

    private void optInt64(JsonNode obj, String at, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        if (v != null) {
            int64(v, join(at, name));
        }
    }

    private void optUint64(JsonNode obj, String at, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        if (v != null) {
            uint64(v, join(at, name));
        }
    }

    private void optUint16(JsonNode obj, String at, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        if (v != null) {
            range(v, join(at, name), BigInteger.ZERO, UINT16_MAX, "an integer within uint16 (0..65535)");
        }
    }

    private void optInt32(JsonNode obj, String at, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        if (v != null) {
            range(v, join(at, name), INT32_MIN, INT32_MAX, "a 32-bit integer");
        }
    }

    private static List<String> sorted(Set<String> s) {
        List<String> l = new ArrayList<>(s);
        l.sort(null);
        return l;
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> n.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** s as a JSON string, for error messages (Json's escapes). */
    static String quote(String s) {
        return Json.quote(s);
    }
}
