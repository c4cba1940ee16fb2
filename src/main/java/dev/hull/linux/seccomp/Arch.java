package dev.hull.linux.seccomp;

import java.util.Optional;

/**
 * The seccomp architectures Hull can filter on an x86_64 kernel. The kernel reports a syscall's
 * ABI in {@code seccomp_data.arch} (AUDIT_ARCH_*); x32 shares AUDIT_ARCH_X86_64 and is told apart
 * by {@link #X32_SYSCALL_BIT} in the syscall number.
 */
public enum Arch {
    X86_64("SCMP_ARCH_X86_64", "x86_64", 0xC000003E),
    X86("SCMP_ARCH_X86", "i386", 0x40000003),
    X32("SCMP_ARCH_X32", "x32", 0xC000003E);

    /** __X32_SYSCALL_BIT: set in every x32 syscall number. */
    public static final int X32_SYSCALL_BIT = 0x40000000;

    private final String specName;
    private final String tableName;
    private final int auditArch;

    Arch(String specName, String tableName, int auditArch) {
        this.specName = specName;
        this.tableName = tableName;
        this.auditArch = auditArch;
    }

    /** The name in a config's {@code linux.seccomp.architectures} (SCMP_ARCH_X86_64 ...). */
    public String specName() {
        return specName;
    }

    /** The name of the generated syscall table (x86_64, i386, x32), also used in messages. */
    public String tableName() {
        return tableName;
    }

    /** AUDIT_ARCH_* as found in seccomp_data.arch. */
    public int auditArch() {
        return auditArch;
    }

    public static Optional<Arch> bySpecName(String name) {
        for (Arch a : values()) {
            if (a.specName.equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
