package dev.hull.linux.cgroup;

import dev.hull.linux.cgroup.Resources.DeviceRule;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles device cgroup rules into an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE for cgroup v2 (which
 * has no devices.allow/deny files). Pure: produces the instruction bytes; loading and attaching is
 * {@link dev.hull.linux.Bpf}'s job.
 *
 * <p>Semantics, as runc's devicefilter: the rules are tried <b>from the last to the first</b>, and the first
 * that matches decides (allow: 1, deny: 0); if none matches the access is denied. A rule matches a request
 * when its type is 'a' or equals the request's, its major and minor are "any" or equal the request's, and the
 * request's access bits are a subset of the rule's (a request for "rw" needs a rule granting at least "rw").
 * A rule that matches everything (type 'a', or any major and minor with access "rwm" and type 'a') ends the
 * program: rules before it are never reached. For the usual shape — deny all, then allow a list — this is
 * exactly what the v1 devices controller does with the same lines written in order.
 *
 * <p>The program reads {@code struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }} from R1
 * (access_type = access << 16 | type) into R2 (type), R3 (access), R4 (major), R5 (minor).
 */
public final class DeviceFilter {
    public static final int DEV_BLOCK = 1, DEV_CHAR = 2;
    public static final int ACC_MKNOD = 1, ACC_READ = 2, ACC_WRITE = 4;
    public static final String LICENSE = "Apache";

    // eBPF opcodes (include/uapi/linux/bpf.h, bpf_common.h)
    static final int LDX_MEM_W = 0x61;     // BPF_LDX | BPF_MEM | BPF_W
    static final int ALU32_AND_K = 0x54;   // BPF_ALU | BPF_AND | BPF_K
    static final int ALU32_RSH_K = 0x74;   // BPF_ALU | BPF_RSH | BPF_K
    static final int ALU32_MOV_K = 0xb4;   // BPF_ALU | BPF_MOV | BPF_K
    static final int ALU32_MOV_X = 0xbc;   // BPF_ALU | BPF_MOV | BPF_X
    static final int JMP_JNE_K = 0x55;     // BPF_JMP | BPF_JNE | BPF_K
    static final int JMP_JNE_X = 0x5d;     // BPF_JMP | BPF_JNE | BPF_X
    static final int JMP_EXIT = 0x95;      // BPF_JMP | BPF_EXIT

    private record Insn(int op, int dst, int src, int off, int imm) {}

    private DeviceFilter() {}

    /** The program's instructions, 8 bytes each, little-endian. */
    public static byte[] compile(List<DeviceRule> rules) {
        List<Insn> p = new ArrayList<>();
        p.add(new Insn(LDX_MEM_W, 2, 1, 0, 0));
        p.add(new Insn(ALU32_AND_K, 2, 0, 0, 0xFFFF));
        p.add(new Insn(LDX_MEM_W, 3, 1, 0, 0));
        p.add(new Insn(ALU32_RSH_K, 3, 0, 0, 16));
        p.add(new Insn(LDX_MEM_W, 4, 1, 4, 0));
        p.add(new Insn(LDX_MEM_W, 5, 1, 8, 0));
        boolean catchAll = false;
        for (int i = rules.size() - 1; i >= 0 && !catchAll; i--) {
            DeviceRule r = rules.get(i);
            int access = access(r.access());
            boolean hasType = r.type() != 'a';
            boolean hasAccess = access != (ACC_MKNOD | ACC_READ | ACC_WRITE);
            boolean hasMajor = hasType && r.major() != null;
            boolean hasMinor = hasType && r.minor() != null;
            List<Insn> checks = new ArrayList<>();
            // Jump offsets are filled in below: every check jumps to the end of this block.
            if (hasType) {
                checks.add(new Insn(JMP_JNE_K, 2, 0, -1, r.type() == 'c' ? DEV_CHAR : DEV_BLOCK));
            }
            if (hasAccess) {
                checks.add(new Insn(ALU32_MOV_X, 1, 3, 0, 0));
                checks.add(new Insn(ALU32_AND_K, 1, 0, 0, access));
                checks.add(new Insn(JMP_JNE_X, 1, 3, -1, 0));
            }
            if (hasMajor) {
                checks.add(new Insn(JMP_JNE_K, 4, 0, -1, imm(r.major(), "major")));
            }
            if (hasMinor) {
                checks.add(new Insn(JMP_JNE_K, 5, 0, -1, imm(r.minor(), "minor")));
            }
            int blockLen = checks.size() + 2;
            for (int j = 0; j < checks.size(); j++) {
                Insn c = checks.get(j);
                p.add(c.off() == -1 ? new Insn(c.op(), c.dst(), c.src(), blockLen - j - 1, c.imm()) : c);
            }
            p.add(new Insn(ALU32_MOV_K, 0, 0, 0, r.allow() ? 1 : 0));
            p.add(new Insn(JMP_EXIT, 0, 0, 0, 0));
            catchAll = !hasType && !hasAccess;
        }
        if (!catchAll) {
            p.add(new Insn(ALU32_MOV_K, 0, 0, 0, 0));
            p.add(new Insn(JMP_EXIT, 0, 0, 0, 0));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(p.size() * 8);
        for (Insn x : p) {
            out.write(x.op());
            out.write((x.src() << 4) | x.dst());
            out.write(x.off() & 0xFF);
            out.write((x.off() >> 8) & 0xFF);
            for (int k = 0; k < 4; k++) {
                out.write((x.imm() >> (8 * k)) & 0xFF);
            }
        }
        return out.toByteArray();
    }

    /** What the compiled program decides, evaluated in Java (same semantics; for tests and documentation). */
    public static boolean allows(List<DeviceRule> rules, char type, long major, long minor, String access) {
        int want = access(access);
        for (int i = rules.size() - 1; i >= 0; i--) {
            DeviceRule r = rules.get(i);
            if (r.type() != 'a' && (r.type() != type || (r.major() != null && r.major() != major)
                    || (r.minor() != null && r.minor() != minor))) {
                continue;
            }
            if ((want & access(r.access())) != want) {
                continue;
            }
            return r.allow();
        }
        return false;
    }

    static int access(String rwm) {
        int a = 0;
        for (char c : rwm.toCharArray()) {
            a |= switch (c) {
                case 'r' -> ACC_READ;
                case 'w' -> ACC_WRITE;
                case 'm' -> ACC_MKNOD;
                default -> throw new IllegalArgumentException("device access '" + rwm + "'");
            };
        }
        return a;
    }

    private static int imm(long v, String what) {
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("device " + what + " " + v + " does not fit the eBPF program");
        }
        return (int) v;
    }
}
