package dev.hull.runtime.spec;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.seccomp.Arch;
import dev.hull.linux.seccomp.SeccompCompiler;

/**
 * The {@code features} document (features-schema.json), like {@code runc features}. It only
 * advertises what Hull handles: mount options come from {@link MountOptions#known()}, namespace
 * types and hook phases from {@link SpecParser}, capabilities from {@link CapabilityNames}, seccomp from
 * {@link SeccompCompiler}. AppArmor (applied only where the host has it, untested here), SELinux, Intel RDT
 * and net devices are reported as not enabled; idmapped mounts as enabled where they work (root on a
 * kernel with mount_setattr, 5.12 or later).
 */
public final class Features {
    /** Value of the {@code run.hull.version} annotation. */
    public static final String HULL_VERSION = "0.1.0";

    private Features() {}

    public static ObjectNode create() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode n = f.objectNode();
        n.put("ociVersionMin", SpecParser.MIN_SPEC_VERSION);
        n.put("ociVersionMax", SpecParser.SPEC_VERSION);
        addAll(n.putArray("hooks"), SpecParser.HOOK_PHASES);
        addAll(n.putArray("mountOptions"), MountOptions.known());

        ObjectNode linux = n.putObject("linux");
        addAll(linux.putArray("namespaces"), SpecParser.NAMESPACE_TYPES);
        addAll(linux.putArray("capabilities"), CapabilityNames.NAMES);
        ObjectNode cgroup = linux.putObject("cgroup");
        cgroup.put("v1", true);
        cgroup.put("v2", true);
        cgroup.put("systemd", false);
        cgroup.put("systemdUser", false);
        seccomp(linux.putObject("seccomp"));
        linux.putObject("apparmor").put("enabled", false);
        linux.putObject("selinux").put("enabled", false);
        linux.putObject("intelRdt").put("enabled", false);
        linux.putObject("mountExtensions").putObject("idmap").put("enabled", idmapWorks());
        linux.putObject("netDevices").put("enabled", false);

        n.putObject("annotations").put("run.hull.version", HULL_VERSION);
        return n;
    }

    /** Idmapped mounts take CAP_SYS_ADMIN of the host's user namespace and mount_setattr (Linux 5.12). */
    static boolean idmapWorks() {
        if (DefaultSpec.Ids.euid() != 0) {
            return false;
        }
        try {
            String[] v = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/osrelease")).strip()
                    .split("[.-]");
            int major = Integer.parseInt(v[0]), minor = Integer.parseInt(v[1]);
            return major > 5 || (major == 5 && minor >= 12);
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Seccomp: what {@link SeccompCompiler} compiles, SCMP_ACT_NOTIFY included. SECCOMP_FILTER_FLAG_NEW_LISTENER,
     * which a notifying filter is loaded with, is not listed: it is no flag of the config (defs-linux.json
     * SeccompFlag), and knownFlags/supportedFlags must validate against that enum.
     */
    private static void seccomp(ObjectNode s) {
        s.put("enabled", true);
        addAll(s.putArray("actions"), SeccompCompiler.ACTIONS);
        addAll(s.putArray("operators"), SeccompCompiler.OPERATORS);
        ArrayNode archs = s.putArray("archs");
        for (Arch a : Arch.values()) {
            archs.add(a.specName());
        }
        addAll(s.putArray("knownFlags"), SeccompCompiler.KNOWN_FLAGS);
        addAll(s.putArray("supportedFlags"), SeccompCompiler.SUPPORTED_FLAGS);
    }

    private static void addAll(ArrayNode a, Iterable<String> values) {
        for (String v : values) {
            a.add(v);
        }
    }
}
