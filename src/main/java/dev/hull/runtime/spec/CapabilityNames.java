package dev.hull.runtime.spec;

import java.util.List;

/**
 * Linux capability names and numbers, as in the kernel's {@code linux/capability.h} (CAP_CHOWN = 0
 * ... CAP_CHECKPOINT_RESTORE = 40): the index in {@link #NAMES} is the capability's number.
 * CapabilityNamesTest checks the table against the header installed on the build machine.
 */
public final class CapabilityNames {
    /** Every capability name Hull knows, in kernel number order. */
    public static final List<String> NAMES = List.of(
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER",
            "CAP_FSETID",
            "CAP_KILL",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_SETPCAP",
            "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST",
            "CAP_NET_ADMIN",
            "CAP_NET_RAW",
            "CAP_IPC_LOCK",
            "CAP_IPC_OWNER",
            "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO",
            "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE",
            "CAP_SYS_PACCT",
            "CAP_SYS_ADMIN",
            "CAP_SYS_BOOT",
            "CAP_SYS_NICE",
            "CAP_SYS_RESOURCE",
            "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG",
            "CAP_MKNOD",
            "CAP_LEASE",
            "CAP_AUDIT_WRITE",
            "CAP_AUDIT_CONTROL",
            "CAP_SETFCAP",
            "CAP_MAC_OVERRIDE",
            "CAP_MAC_ADMIN",
            "CAP_SYSLOG",
            "CAP_WAKE_ALARM",
            "CAP_BLOCK_SUSPEND",
            "CAP_AUDIT_READ",
            "CAP_PERFMON",
            "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE");

    private CapabilityNames() {}

    /** The capability's number, or -1 if the name is unknown. */
    public static int number(String name) {
        return NAMES.indexOf(name);
    }

    /** The name of capability {@code n}, or "CAP_&lt;n&gt;" for a number Hull has no name for. */
    public static String name(int n) {
        return n >= 0 && n < NAMES.size() ? NAMES.get(n) : "CAP_" + n;
    }
}
