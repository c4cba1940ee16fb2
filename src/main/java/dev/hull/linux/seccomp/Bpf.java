package dev.hull.linux.seccomp;

import java.util.ArrayList;
import java.util.List;

/**
 * A tiny classic-BPF assembler: instructions with symbolic jump targets, resolved into the
 * kernel's {@code struct sock_filter} array (u16 code, u8 jt, u8 jf, u32 k; 8 bytes each,
 * little-endian). Conditional jumps can only reach 255 instructions ahead; the compiler lays
 * code out so that they stay short, and uses {@link #ja} (32-bit offset) for long jumps.
 */
public final class Bpf {
    // instruction classes and fields (linux/bpf_common.h)
    public static final int LD = 0x00, ALU = 0x04, JMP = 0x05, RET = 0x06;
    public static final int W = 0x00, ABS = 0x20, K = 0x00;
    public static final int AND = 0x50;
    public static final int JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
    /** BPF_MAXINSNS: the kernel's limit on a classic program's length. */
    public static final int MAX_INSNS = 4096;

    /** A jump target: bound to an instruction index once placed. */
    public static final class Label {
        int at = -1;
    }

    private record Insn(int code, Label jt, Label jf, Label ja, int k) {}

    private final List<Insn> insns = new ArrayList<>();

    public Label label() {
        return new Label();
    }

    /** Binds the label to the next instruction. */
    public Bpf bind(Label l) {
        if (l.at >= 0) {
            throw new IllegalStateException("label bound twice");
        }
        l.at = insns.size();
        return this;
    }

    /** A = 32-bit word at this offset of seccomp_data. */
    public Bpf load(int offset) {
        insns.add(new Insn(LD | W | ABS, null, null, null, offset));
        return this;
    }

    public Bpf and(int k) {
        insns.add(new Insn(ALU | AND | K, null, null, null, k));
        return this;
    }

    /** Conditional jump (JEQ, JGT, JGE, JSET) comparing A with k; a null label means the next instruction. */
    public Bpf jump(int op, int k, Label ifTrue, Label ifFalse) {
        insns.add(new Insn(JMP | op | K, ifTrue, ifFalse, null, k));
        return this;
    }

    /** Unconditional jump (32-bit offset). */
    public Bpf ja(Label to) {
        insns.add(new Insn(JMP | JA, null, null, to, 0));
        return this;
    }

    public Bpf ret(int action) {
        insns.add(new Insn(RET | K, null, null, null, action));
        return this;
    }

    public int size() {
        return insns.size();
    }

    /** The program as the kernel takes it. */
    public byte[] assemble() {
        if (insns.size() > MAX_INSNS) {
            throw new IllegalStateException("seccomp program too long: " + insns.size() + " instructions (the kernel takes "
                    + MAX_INSNS + ")");
        }
        byte[] out = new byte[insns.size() * 8];
        for (int i = 0; i < insns.size(); i++) {
            Insn in = insns.get(i);
            int jt = offset(i, in.jt(), 255);
            int jf = offset(i, in.jf(), 255);
            int k = in.ja() != null ? offset(i, in.ja(), Integer.MAX_VALUE) : in.k();
            int o = i * 8;
            out[o] = (byte) in.code();
            out[o + 1] = (byte) (in.code() >>> 8);
            out[o + 2] = (byte) jt;
            out[o + 3] = (byte) jf;
            for (int b = 0; b < 4; b++) {
                out[o + 4 + b] = (byte) (k >>> (8 * b));
            }
        }
        return out;
    }

    private int offset(int from, Label to, int max) {
        if (to == null) {
            return 0;
        }
        if (to.at < 0) {
            throw new IllegalStateException("unbound label in instruction " + from);
        }
        int d = to.at - (from + 1);
        if (d < 0 || d > max) {
            throw new IllegalStateException("jump from instruction " + from + " to " + to.at + " out of range");
        }
        return d;
    }
}
