package dev.hull.runtime.spec;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.linux.cgroup.Resources;
import dev.hull.linux.cgroup.Resources.DeviceRule;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads an OCI {@code linux.resources} object (config.json, or {@code update --resources}) into {@link Resources}.
 * Every error is a {@link ConfigException} naming the field, e.g.
 * {@code "linux.resources.memory.limit: must be an integer"}.
 */
public final class ResourcesSpec {
    private static final BigInteger INT64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger INT64_MAX = BigInteger.valueOf(Long.MAX_VALUE);
    private static final Pattern PAGE_SIZE = Pattern.compile("[1-9][0-9]*[KMG]B");
    private static final Pattern CPU_LIST = Pattern.compile("[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*");
    private static final Pattern UNIFIED_KEY = Pattern.compile("[a-z0-9_]+\\.[a-zA-Z0-9_.]+");

    /**
     * The device rules every container gets after its own (runc's AllowedDevices): mknod of anything, and
     * rwm on /dev/null, zero, full, random, urandom, tty, /dev/pts/*, /dev/ptmx and /dev/net/tun.
     */
    public static final List<DeviceRule> DEFAULT_ALLOWED = List.of(
            new DeviceRule(true, 'c', null, null, "m"),
            new DeviceRule(true, 'b', null, null, "m"),
            new DeviceRule(true, 'c', 1L, 3L, "rwm"),
            new DeviceRule(true, 'c', 1L, 8L, "rwm"),
            new DeviceRule(true, 'c', 1L, 7L, "rwm"),
            new DeviceRule(true, 'c', 5L, 0L, "rwm"),
            new DeviceRule(true, 'c', 1L, 5L, "rwm"),
            new DeviceRule(true, 'c', 1L, 9L, "rwm"),
            new DeviceRule(true, 'c', 136L, null, "rwm"),
            new DeviceRule(true, 'c', 5L, 2L, "rwm"),
            new DeviceRule(true, 'c', 10L, 200L, "rwm"));

    private final String at;

    private ResourcesSpec(String at) {
        this.at = at;
    }

    /**
     * The resources a container gets from its spec: {@code linux.resources} (may be absent), with the device
     * rules completed as runc does: deny everything first, then the spec's rules in order, then
     * {@link #DEFAULT_ALLOWED}. A {@code linux.devices} entry gets no rule of its own (runc's
     * CreateCgroupConfig gives none): its access is what the spec's rules allow, so that docker's
     * {@code --device HOST:CTR:r} is read-only.
     */
    public static Resources forContainer(Spec spec) throws ConfigException {
        Linux linux = spec.linux();
        Resources r = linux == null || linux.resources() == null ? Resources.NONE
                : parse(linux.resources(), "linux.resources");
        List<DeviceRule> rules = new ArrayList<>();
        rules.add(new DeviceRule(false, 'a', null, null, "rwm"));
        if (r.devices() != null) {
            rules.addAll(r.devices());
        }
        rules.addAll(DEFAULT_ALLOWED);
        return r.withDevices(List.copyOf(rules));
    }

    /** Parses a LinuxResources object; {@code at} is its path for messages ("linux.resources"). */
    public static Resources parse(JsonNode n, String at) throws ConfigException {
        return new ResourcesSpec(at).resources(n);
    }

    private Resources resources(JsonNode n) throws ConfigException {
        object(n, at);
        Resources.Memory memory = null;
        JsonNode m = field(n, "memory");
        if (m != null) {
            String p = at + ".memory";
            object(m, p);
            Long swappiness = optLong(m, p, "swappiness", 0, 100, "an integer from 0 to 100");
            memory = new Resources.Memory(size(m, p, "limit"), size(m, p, "reservation"), size(m, p, "swap"),
                    size(m, p, "kernel"), size(m, p, "kernelTCP"), swappiness, optBool(m, p, "disableOOMKiller"),
                    optBool(m, p, "useHierarchy"), Boolean.TRUE.equals(optBool(m, p, "checkBeforeUpdate")));
        }
        Resources.Cpu cpu = null;
        JsonNode c = field(n, "cpu");
        if (c != null) {
            String p = at + ".cpu";
            object(c, p);
            cpu = new Resources.Cpu(optLong(c, p, "shares", 0, Long.MAX_VALUE, "a non-negative integer"),
                    optLong(c, p, "quota", -1, Long.MAX_VALUE, "an integer >= -1 (microseconds; -1 is unlimited)"),
                    optLong(c, p, "burst", 0, Long.MAX_VALUE, "a non-negative integer (microseconds)"),
                    optLong(c, p, "period", 0, Long.MAX_VALUE, "a non-negative integer (microseconds)"),
                    optLong(c, p, "realtimeRuntime", -1, Long.MAX_VALUE, "an integer >= -1 (microseconds)"),
                    optLong(c, p, "realtimePeriod", 0, Long.MAX_VALUE, "a non-negative integer (microseconds)"),
                    cpuList(c, p, "cpus"), cpuList(c, p, "mems"),
                    optLong(c, p, "idle", 0, 1, "0 or 1"));
        }
        Long pids = null;
        JsonNode pn = field(n, "pids");
        if (pn != null) {
            String p = at + ".pids";
            object(pn, p);
            JsonNode l = field(pn, "limit");
            if (l == null) {
                throw err(p + ".limit", "required");
            }
            pids = integer(l, p + ".limit", Long.MIN_VALUE, Long.MAX_VALUE, "an integer (<= 0 is unlimited)");
        }
        Resources.BlockIO blockIO = null;
        JsonNode b = field(n, "blockIO");
        if (b != null) {
            String p = at + ".blockIO";
            object(b, p);
            List<Resources.WeightDevice> wd = new ArrayList<>();
            JsonNode a = field(b, "weightDevice");
            if (a != null) {
                array(a, p + ".weightDevice");
                for (int i = 0; i < a.size(); i++) {
                    String q = p + ".weightDevice[" + i + "]";
                    JsonNode e = a.get(i);
                    object(e, q);
                    wd.add(new Resources.WeightDevice(devNum(e, q, "major"), devNum(e, q, "minor"),
                            weight(e, q, "weight"), weight(e, q, "leafWeight")));
                }
            }
            blockIO = new Resources.BlockIO(weight(b, p, "weight"), weight(b, p, "leafWeight"), wd,
                    throttles(b, p, "throttleReadBpsDevice"), throttles(b, p, "throttleWriteBpsDevice"),
                    throttles(b, p, "throttleReadIOPSDevice"), throttles(b, p, "throttleWriteIOPSDevice"));
        }
        List<Resources.Hugepage> huge = null;
        JsonNode h = field(n, "hugepageLimits");
        if (h != null) {
            String p = at + ".hugepageLimits";
            array(h, p);
            huge = new ArrayList<>();
            for (int i = 0; i < h.size(); i++) {
                String q = p + "[" + i + "]";
                JsonNode e = h.get(i);
                object(e, q);
                String size = string(field(e, "pageSize"), q + ".pageSize", true);
                if (!PAGE_SIZE.matcher(size).matches()) {
                    throw err(q + ".pageSize", "invalid page size \"" + size
                            + "\" (expected <number>KB, <number>MB or <number>GB, e.g. \"2MB\")");
                }
                JsonNode l = field(e, "limit");
                if (l == null) {
                    throw err(q + ".limit", "required");
                }
                huge.add(new Resources.Hugepage(size, integer(l, q + ".limit", 0, Long.MAX_VALUE,
                        "a non-negative integer (bytes)")));
            }
        }
        List<DeviceRule> devices = null;
        JsonNode d = field(n, "devices");
        if (d != null) {
            String p = at + ".devices";
            array(d, p);
            devices = new ArrayList<>();
            for (int i = 0; i < d.size(); i++) {
                devices.add(device(d.get(i), p + "[" + i + "]"));
            }
        }
        Map<String, String> unified = null;
        JsonNode u = field(n, "unified");
        if (u != null) {
            String p = at + ".unified";
            object(u, p);
            unified = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : u.properties()) {
                String q = p + "." + e.getKey();
                if (!UNIFIED_KEY.matcher(e.getKey()).matches() || e.getKey().contains("..")) {
                    throw err(q, "not a cgroup v2 interface file name (expected <controller>.<file>, e.g."
                            + " \"memory.high\")");
                }
                unified.put(e.getKey(), string(e.getValue(), q, true));
            }
        }
        Map<String, Resources.Rdma> rdma = null;
        JsonNode r = field(n, "rdma");
        if (r != null) {
            String p = at + ".rdma";
            object(r, p);
            rdma = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : r.properties()) {
                String q = p + "." + e.getKey();
                if (e.getKey().isEmpty() || e.getKey().contains(" ") || e.getKey().contains("\n")) {
                    throw err(q, "not an RDMA device name");
                }
                object(e.getValue(), q);
                rdma.put(e.getKey(), new Resources.Rdma(
                        optLong(e.getValue(), q, "hcaHandles", 0, 0xFFFF_FFFFL, "a 32-bit unsigned integer"),
                        optLong(e.getValue(), q, "hcaObjects", 0, 0xFFFF_FFFFL, "a 32-bit unsigned integer")));
            }
        }
        Resources.Network network = null;
        JsonNode nw = field(n, "network");
        if (nw != null) {
            String p = at + ".network";
            object(nw, p);
            Map<String, Long> prios = new LinkedHashMap<>();
            JsonNode pr = field(nw, "priorities");
            if (pr != null) {
                array(pr, p + ".priorities");
                for (int i = 0; i < pr.size(); i++) {
                    String q = p + ".priorities[" + i + "]";
                    object(pr.get(i), q);
                    String name = string(field(pr.get(i), "name"), q + ".name", true);
                    JsonNode v = field(pr.get(i), "priority");
                    if (v == null) {
                        throw err(q + ".priority", "required");
                    }
                    prios.put(name, integer(v, q + ".priority", 0, 0xFFFF_FFFFL, "a 32-bit unsigned integer"));
                }
            }
            network = new Resources.Network(optLong(nw, p, "classID", 0, 0xFFFF_FFFFL, "a 32-bit unsigned integer"),
                    prios);
        }
        return new Resources(memory, cpu, pids, blockIO, huge, devices, unified, rdma, network);
    }

    private DeviceRule device(JsonNode e, String q) throws ConfigException {
        object(e, q);
        Boolean allow = optBool(e, q, "allow");
        if (allow == null) {
            throw err(q + ".allow", "required (true or false)");
        }
        String type = string(field(e, "type"), q + ".type", false);
        char t;
        if (type == null || type.equals("a")) {
            t = 'a';
        } else if (type.equals("c") || type.equals("b")) {
            t = type.charAt(0);
        } else {
            throw err(q + ".type", "must be \"a\", \"c\" or \"b\", not \"" + type + "\"");
        }
        Long major = optDevNum(e, q, "major");
        Long minor = optDevNum(e, q, "minor");
        String access = string(field(e, "access"), q + ".access", false);
        if (access == null) {
            access = "rwm";
        }
        if (access.isEmpty() || !access.chars().allMatch(ch -> ch == 'r' || ch == 'w' || ch == 'm')
                || access.chars().distinct().count() != access.length()) {
            throw err(q + ".access", "must be a combination of r, w and m (e.g. \"rwm\"), not \"" + access + "\"");
        }
        StringBuilder canon = new StringBuilder();
        for (char ch : new char[] {'r', 'w', 'm'}) {
            if (access.indexOf(ch) >= 0) {
                canon.append(ch);
            }
        }
        return new DeviceRule(allow, t, major, minor, canon.toString());
    }

    private List<Resources.ThrottleDevice> throttles(JsonNode b, String p, String name) throws ConfigException {
        JsonNode a = field(b, name);
        List<Resources.ThrottleDevice> out = new ArrayList<>();
        if (a == null) {
            return out;
        }
        String q0 = p + "." + name;
        array(a, q0);
        for (int i = 0; i < a.size(); i++) {
            String q = q0 + "[" + i + "]";
            JsonNode e = a.get(i);
            object(e, q);
            Long rate = optLong(e, q, "rate", 0, Long.MAX_VALUE, "a non-negative integer");
            out.add(new Resources.ThrottleDevice(devNum(e, q, "major"), devNum(e, q, "minor"), rate == null ? 0 : rate));
        }
        return out;
    }

    // ---------------------------------------------------------------- typed accessors

    private static ConfigException err(String path, String problem) {
        return new ConfigException(path + ": " + problem);
    }

    private static JsonNode field(JsonNode obj, String name) {
        JsonNode v = obj.get(name);
        return v == null || v.isNull() ? null : v;
    }

    private static void object(JsonNode n, String p) throws ConfigException {
        if (!n.isObject()) {
            throw err(p, "must be an object");
        }
    }

    private static void array(JsonNode n, String p) throws ConfigException {
        if (!n.isArray()) {
            throw err(p, "must be an array");
        }
    }

    private static String string(JsonNode v, String p, boolean required) throws ConfigException {
        if (v == null) {
            if (required) {
                throw err(p, "required");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw err(p, "must be a string");
        }
        return v.asText();
    }

    private static Boolean optBool(JsonNode obj, String p, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw err(p + "." + name, "must be true or false");
        }
        return v.asBoolean();
    }

    static long integer(JsonNode v, String p, long min, long max, String what) throws ConfigException {
        if (!v.isIntegralNumber()) {
            throw err(p, "must be an integer");
        }
        BigInteger b = v.bigIntegerValue();
        if (b.compareTo(INT64_MIN) < 0 || b.compareTo(INT64_MAX) > 0 || b.longValue() < min || b.longValue() > max) {
            throw err(p, "must be " + what + ", got " + b);
        }
        return b.longValue();
    }

    private static Long optLong(JsonNode obj, String p, String name, long min, long max, String what)
            throws ConfigException {
        JsonNode v = field(obj, name);
        return v == null ? null : integer(v, p + "." + name, min, max, what);
    }

    /** A memory size in bytes; -1 is unlimited. */
    private static Long size(JsonNode obj, String p, String name) throws ConfigException {
        return optLong(obj, p, name, -1, Long.MAX_VALUE, "an integer >= -1 (bytes; -1 is unlimited)");
    }

    private static Integer weight(JsonNode obj, String p, String name) throws ConfigException {
        Long w = optLong(obj, p, name, 0, 1000, "an integer from 10 to 1000 (0: not set)");
        if (w != null && w != 0 && w < 10) {
            throw err(p + "." + name, "must be an integer from 10 to 1000 (0: not set), got " + w);
        }
        return w == null ? null : w.intValue();
    }

    private static long devNum(JsonNode obj, String p, String name) throws ConfigException {
        JsonNode v = field(obj, name);
        if (v == null) {
            throw err(p + "." + name, "required");
        }
        return integer(v, p + "." + name, 0, 0xFFFF_FFFFL, "a device number (0 to 4294967295)");
    }

    /** A device number in a device rule; absent or negative (-1) means any. */
    private static Long optDevNum(JsonNode obj, String p, String name) throws ConfigException {
        Long v = optLong(obj, p, name, Long.MIN_VALUE, 0xFFFF_FFFFL, "a device number (-1 or absent: any)");
        return v == null || v < 0 ? null : v;
    }

    private static String cpuList(JsonNode obj, String p, String name) throws ConfigException {
        String s = string(field(obj, name), p + "." + name, false);
        if (s != null && !s.isEmpty() && !CPU_LIST.matcher(s).matches()) {
            throw err(p + "." + name, "must be a list like \"0-3,6\", not \"" + s + "\"");
        }
        return s == null || s.isEmpty() ? null : s;
    }
}
