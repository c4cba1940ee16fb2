package dev.hull.linux.seccomp;

/**
 * A classic-BPF interpreter for seccomp programs, written from the kernel's semantics (not from
 * the compiler): runs {@code struct sock_filter[]} over a {@code struct seccomp_data} and returns
 * the SECCOMP_RET_* value. Accepts only what the kernel's seccomp checker accepts for these
 * instruction kinds (aligned 32-bit absolute loads inside seccomp_data, forward jumps inside the
 * program, ending in a return), and fails loudly otherwise.
 */
final class BpfInterpreter {
    /** seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] — 64 bytes, little-endian. */
    record Data(int nr, int arch, long ip, long... args) {
        int word(int offset) {
            if (offset < 0 || offset > 60 || offset % 4 != 0) {
                throw new AssertionError("load from bad seccomp_data offset " + offset);
            }
            if (offset == 0) {
                return nr;
            }
            if (offset == 4) {
                return arch;
            }
            long v = offset < 16 ? ip : (offset - 16) / 8 < args.length ? args[(offset - 16) / 8] : 0;
            return (offset % 8 == 0) ? (int) v : (int) (v >>> 32);
        }
    }

    private BpfInterpreter() {}

    static int run(byte[] prog, Data d) {
        if (prog.length == 0 || prog.length % 8 != 0 || prog.length / 8 > 4096) {
            throw new AssertionError("bad program length " + prog.length);
        }
        int n = prog.length / 8;
        int a = 0;
        int steps = 0;
        for (int pc = 0; ; ) {
            if (pc < 0 || pc >= n) {
                throw new AssertionError("fell off the program at " + pc);
            }
            if (++steps > n) {
                throw new AssertionError("more steps than instructions: backward jump?");
            }
            int o = pc * 8;
            int code = (prog[o] & 0xff) | (prog[o + 1] & 0xff) << 8;
            int jt = prog[o + 2] & 0xff, jf = prog[o + 3] & 0xff;
            int k = (prog[o + 4] & 0xff) | (prog[o + 5] & 0xff) << 8 | (prog[o + 6] & 0xff) << 16 | (prog[o + 7] & 0xff) << 24;
            pc++;
            switch (code) {
                case 0x20 -> a = d.word(k); // BPF_LD|BPF_W|BPF_ABS
                case 0x54 -> a &= k; // BPF_ALU|BPF_AND|BPF_K
                case 0x05 -> pc += k; // BPF_JMP|BPF_JA
                case 0x15 -> pc += a == k ? jt : jf; // JEQ
                case 0x25 -> pc += Integer.compareUnsigned(a, k) > 0 ? jt : jf; // JGT
                case 0x35 -> pc += Integer.compareUnsigned(a, k) >= 0 ? jt : jf; // JGE
                case 0x45 -> pc += (a & k) != 0 ? jt : jf; // JSET
                case 0x06 -> { return k; } // BPF_RET|BPF_K
                default -> throw new AssertionError("instruction " + (pc - 1) + ": opcode 0x" + Integer.toHexString(code)
                        + " not expected in a seccomp program");
            }
        }
    }
}
