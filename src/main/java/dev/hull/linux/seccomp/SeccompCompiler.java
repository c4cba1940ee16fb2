package dev.hull.linux.seccomp;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * Compiles an OCI {@code linux.seccomp} object into a classic BPF program for
 * {@code seccomp(SECCOMP_SET_MODE_FILTER)}, entirely in Java.
 *
 * <h2>Semantics (libseccomp/runc compatible where they define it)</h2>
 * <ul>
 * <li>Architectures: x86_64 is always filtered (libseccomp's native arch); SCMP_ARCH_X86 (i386) and
 * SCMP_ARCH_X32 are filtered when listed. Other architectures of the spec (AARCH64, ...) are
 * accepted and ignored: an x86_64 kernel never reports them. A syscall from an ABI that is not
 * filtered (i386 or x32 not listed) kills the process (libseccomp's "bad arch" action, here
 * KILL_PROCESS so that no thread is left behind).</li>
 * <li>Syscall names are looked up in tables generated from the kernel headers, per architecture.
 * A name unknown on one listed architecture is skipped there (i386-only names, for example). An
 * entry none of whose names is known on any filtered architecture is an error naming the field
 * ({@code syscalls[3].names[0]: unknown syscall "fooo" for x86_64, i386, x32}): it could never match
 * and is almost certainly a typo. Unknown names in an entry that has known ones are skipped, as runc
 * and crun do, and reported in {@link Filter#warnings()}: profiles such as Docker's list syscalls
 * newer than the build's kernel headers or of other architectures, and must keep working.</li>
 * <li>Rules whose action equals the default action are dropped (as runc does). For one syscall, the
 * rules with argument conditions are checked first, in config order, the first match deciding; then
 * the first rule without conditions, if any; then the default action.</li>
 * <li>The conditions of a rule must all hold, except when an argument index repeats within one rule:
 * then each condition is a rule of its own (runc's behaviour).</li>
 * <li>Arguments are compared as unsigned 64-bit values (high and low 32-bit words of
 * seccomp_data.args[i]); for SCMP_CMP_MASKED_EQ {@code value} is the mask and {@code valueTwo} the
 * value the masked argument must equal.</li>
 * <li>SCMP_ACT_ERRNO and SCMP_ACT_TRACE take errnoRet (default defaultErrnoRet, then EPERM); other
 * actions reject errnoRet. SCMP_ACT_KILL is KILL_THREAD.</li>
 * <li>SCMP_ACT_NOTIFY is SECCOMP_RET_USER_NOTIF; a filter that uses it gets
 * SECCOMP_FILTER_FLAG_NEW_LISTENER (and may have SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) and needs
 * {@code listenerPath}, where the runtime sends the listener fd ({@link Filter#notifies()}). It cannot be
 * the default action, nor apply to {@code sendmsg}: the runtime's own hand-over of the listener fd
 * runs under the filter (runc likewise refuses it as default action and for {@code write}). A
 * {@code listenerPath} without any SCMP_ACT_NOTIFY rule is ignored (no listener to send).</li>
 * </ul>
 */
public final class SeccompCompiler {
    // seccomp return values (linux/seccomp.h)
    public static final int RET_KILL_PROCESS = 0x80000000, RET_KILL_THREAD = 0, RET_TRAP = 0x00030000,
            RET_ERRNO = 0x00050000, RET_USER_NOTIF = 0x7fc00000, RET_TRACE = 0x7ff00000, RET_LOG = 0x7ffc0000,
            RET_ALLOW = 0x7fff0000;
    // seccomp(2) flags
    public static final long FLAG_TSYNC = 1, FLAG_LOG = 2, FLAG_SPEC_ALLOW = 4, FLAG_NEW_LISTENER = 8,
            FLAG_WAIT_KILLABLE_RECV = 32;
    /** The syscall the runtime hands the listener fd over with: never notified (it would wait for itself). */
    static final String HANDOVER_SYSCALL = "sendmsg";
    static final int EPERM = 1, MAX_ERRNO = 4095;
    /** offsetof(struct seccomp_data, ...) */
    public static final int OFF_NR = 0, OFF_ARCH = 4, OFF_IP = 8, OFF_ARGS = 16;

    public static final List<String> ACTIONS = List.of("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
            "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY");
    public static final List<String> OPERATORS = List.of("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
            "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ");
    public static final List<String> KNOWN_FLAGS = List.of("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
    public static final List<String> SUPPORTED_FLAGS = List.of("SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
    /** Every SeccompArch of the runtime spec (defs-linux.json): accepted; only {@link Arch} ones are filtered. */
    static final Set<String> SPEC_ARCHS = Set.of("SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
            "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_MIPS",
            "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
            "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
            "SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
            "SCMP_ARCH_RISCV64");

    /**
     * The compiled filter: the program (8 bytes per instruction), the seccomp(2) flags, what was skipped,
     * and for SCMP_ACT_NOTIFY the listener ({@code listenerPath}, {@code listenerMetadata}; null without
     * notification): the filter is then loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER, in {@code flags}.
     */
    public record Filter(byte[] program, long flags, Set<Arch> arches, List<String> warnings, String listenerPath,
            String listenerMetadata) {
        public Filter(byte[] program, long flags, Set<Arch> arches, List<String> warnings) {
            this(program, flags, arches, warnings, null, null);
        }

        public int instructions() {
            return program.length / 8;
        }

        /** Whether some rule is SCMP_ACT_NOTIFY: the runtime must send the listener fd to listenerPath. */
        public boolean notifies() {
            return listenerPath != null;
        }
    }

    enum Op { NE, LT, LE, EQ, GE, GT, MASKED_EQ }

    record Cond(int index, Op op, long value, long valueTwo) {}

    record Rule(List<Cond> conds, int action) {}

    /** The rules of one syscall on one architecture. */
    static final class PerSyscall {
        final List<Rule> conditional = new ArrayList<>();
        Integer unconditional;
    }

    private SeccompCompiler() {}

    /** Compiles {@code s}; {@code at} is its field path for messages ("linux.seccomp"). */
    public static Filter compile(JsonNode s, String at) throws SeccompException {
        if (s == null || !s.isObject()) {
            throw new SeccompException(at + ": must be an object");
        }
        String listener = s.path("listenerPath").asText("");
        int defaultErrno = EPERM;
        if (s.has("defaultErrnoRet")) {
            defaultErrno = errno(s.get("defaultErrnoRet"), at + ".defaultErrnoRet");
        }
        int defaultAction = action(text(s, "defaultAction", at), s.has("defaultErrnoRet") ? defaultErrno : null,
                EPERM, at + ".defaultAction", at + ".defaultErrnoRet");
        if (defaultAction == RET_USER_NOTIF) {
            throw new SeccompException(at + ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action (the"
                    + " runtime's hand-over of the listener fd would wait for itself); use it in syscalls[].action");
        }
        String waitKillable = null;

        long flags = 0;
        JsonNode fl = s.get("flags");
        if (fl != null && !fl.isNull()) {
            for (int i = 0; i < fl.size(); i++) {
                String f = fl.get(i).asText();
                flags |= switch (f) {
                    case "SECCOMP_FILTER_FLAG_TSYNC" -> FLAG_TSYNC;
                    case "SECCOMP_FILTER_FLAG_LOG" -> FLAG_LOG;
                    case "SECCOMP_FILTER_FLAG_SPEC_ALLOW" -> FLAG_SPEC_ALLOW;
                    case "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" -> {
                        waitKillable = at + ".flags[" + i + "]";
                        yield FLAG_WAIT_KILLABLE_RECV;
                    }
                    default -> throw new SeccompException(at + ".flags[" + i + "]: unknown flag \"" + f
                            + "\"; known: " + String.join(", ", SUPPORTED_FLAGS));
                };
            }
        }

        Set<Arch> arches = EnumSet.of(Arch.X86_64);
        JsonNode ar = s.get("architectures");
        if (ar != null && !ar.isNull()) {
            for (int i = 0; i < ar.size(); i++) {
                String a = ar.get(i).asText();
                if (!SPEC_ARCHS.contains(a)) {
                    throw new SeccompException(at + ".architectures[" + i + "]: unknown architecture \"" + a + "\"");
                }
                Arch.bySpecName(a).ifPresent(arches::add);
            }
        }

        Map<Arch, TreeMap<Integer, PerSyscall>> rules = new EnumMap<>(Arch.class);
        for (Arch a : arches) {
            rules.put(a, new TreeMap<>());
        }
        List<String> warnings = new ArrayList<>();
        String notifyAt = null; // the first SCMP_ACT_NOTIFY rule
        JsonNode sc = s.get("syscalls");
        if (sc != null && !sc.isNull()) {
            for (int i = 0; i < sc.size(); i++) {
                String q = at + ".syscalls[" + i + "]";
                JsonNode e = sc.get(i);
                JsonNode er = e.get("errnoRet");
                Integer errnoRet = er == null || er.isNull() ? null : errno(er, q + ".errnoRet");
                int action = action(text(e, "action", q), errnoRet, EPERM, q + ".action", q + ".errnoRet");
                if (action == RET_USER_NOTIF && notifyAt == null) {
                    notifyAt = q + ".action";
                }
                List<List<Cond>> ruleConds = conditions(e.get("args"), q + ".args");
                JsonNode names = e.get("names");
                if (names == null || !names.isArray() || names.isEmpty()) {
                    throw new SeccompException(q + ".names: must be a non-empty array of syscall names");
                }
                boolean anyKnown = false;
                List<String> unknown = new ArrayList<>();
                for (int j = 0; j < names.size(); j++) {
                    String name = names.get(j).asText();
                    if (action == RET_USER_NOTIF && name.equals(HANDOVER_SYSCALL)) {
                        throw new SeccompException(q + ".names[" + j + "]: SCMP_ACT_NOTIFY cannot apply to "
                                + HANDOVER_SYSCALL + ": the runtime hands the listener fd over with it, under the filter");
                    }
                    boolean known = false;
                    for (Arch a : arches) {
                        OptionalInt nr = SyscallTable.number(a, name);
                        if (nr.isEmpty()) {
                            continue;
                        }
                        known = true;
                        if (action == defaultAction) {
                            continue; // redundant, as runc drops it
                        }
                        PerSyscall p = rules.get(a).computeIfAbsent(nr.getAsInt(), k -> new PerSyscall());
                        if (ruleConds.isEmpty()) {
                            if (p.unconditional == null) {
                                p.unconditional = action;
                            }
                        } else {
                            for (List<Cond> c : ruleConds) {
                                p.conditional.add(new Rule(c, action));
                            }
                        }
                    }
                    anyKnown |= known;
                    if (!known) {
                        unknown.add(name);
                    }
                }
                if (!anyKnown) {
                    throw new SeccompException(q + ".names[0]: unknown syscall \"" + names.get(0).asText() + "\" for "
                            + archList(arches));
                }
                for (String u : unknown) {
                    warnings.add(q + ": syscall \"" + u + "\" is unknown for " + archList(arches) + "; skipped");
                }
            }
        }
        String metadata = null;
        if (notifyAt != null) {
            if (listener.isEmpty()) {
                throw new SeccompException(at + ".listenerPath: required when an action is SCMP_ACT_NOTIFY (" + notifyAt
                        + "): the unix socket the runtime sends the seccomp listener fd to");
            }
            flags |= FLAG_NEW_LISTENER;
            metadata = s.path("listenerMetadata").asText("");
        } else if (waitKillable != null) {
            throw new SeccompException(waitKillable + ": SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies to user"
                    + " notification: no syscalls[].action is SCMP_ACT_NOTIFY");
        }
        return new Filter(generate(arches, rules, defaultAction), flags, Set.copyOf(arches), List.copyOf(warnings),
                notifyAt == null ? null : listener, metadata);
    }

    private static String archList(Set<Arch> arches) {
        List<String> n = new ArrayList<>();
        for (Arch a : arches) {
            n.add(a.tableName());
        }
        return String.join(", ", n);
    }

    private static String text(JsonNode n, String field, String at) throws SeccompException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new SeccompException(at + "." + field + ": required string");
        }
        return v.asText();
    }

    private static int errno(JsonNode n, String at) throws SeccompException {
        if (!n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < 0 || n.asLong() > MAX_ERRNO) {
            throw new SeccompException(at + ": must be an errno number from 0 to " + MAX_ERRNO + ", got " + n);
        }
        return n.asInt();
    }

    /** The SECCOMP_RET_* value of an action. */
    static int action(String name, Integer errnoRet, int fallbackErrno, String at, String errnoAt)
            throws SeccompException {
        int errno = errnoRet != null ? errnoRet : fallbackErrno;
        int ret = switch (name) {
            case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD" -> RET_KILL_THREAD;
            case "SCMP_ACT_KILL_PROCESS" -> RET_KILL_PROCESS;
            case "SCMP_ACT_TRAP" -> RET_TRAP;
            case "SCMP_ACT_ERRNO" -> RET_ERRNO | errno;
            case "SCMP_ACT_TRACE" -> RET_TRACE | errno;
            case "SCMP_ACT_LOG" -> RET_LOG;
            case "SCMP_ACT_ALLOW" -> RET_ALLOW;
            case "SCMP_ACT_NOTIFY" -> RET_USER_NOTIF;
            default -> throw new SeccompException(at + ": unknown action \"" + name + "\"; known: "
                    + String.join(", ", ACTIONS));
        };
        if (errnoRet != null && !name.equals("SCMP_ACT_ERRNO") && !name.equals("SCMP_ACT_TRACE")
                && !errnoAt.endsWith("defaultErrnoRet")) {
            throw new SeccompException(errnoAt + ": only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take errnoRet, not " + name);
        }
        return ret;
    }

    /** The rules an entry's args make: one rule of all conditions, or one per condition if an index repeats. */
    static List<List<Cond>> conditions(JsonNode args, String at) throws SeccompException {
        List<Cond> conds = new ArrayList<>();
        if (args == null || args.isNull() || args.isEmpty()) {
            return List.of();
        }
        boolean[] seen = new boolean[6];
        boolean repeated = false;
        for (int j = 0; j < args.size(); j++) {
            String aq = at + "[" + j + "]";
            JsonNode a = args.get(j);
            JsonNode idx = a.get("index");
            if (idx == null || !idx.isIntegralNumber() || idx.asLong() < 0 || idx.asLong() > 5) {
                throw new SeccompException(aq + ".index: must be an argument index from 0 to 5");
            }
            int index = idx.asInt();
            repeated |= seen[index];
            seen[index] = true;
            Op op = switch (text(a, "op", aq)) {
                case "SCMP_CMP_NE" -> Op.NE;
                case "SCMP_CMP_LT" -> Op.LT;
                case "SCMP_CMP_LE" -> Op.LE;
                case "SCMP_CMP_EQ" -> Op.EQ;
                case "SCMP_CMP_GE" -> Op.GE;
                case "SCMP_CMP_GT" -> Op.GT;
                case "SCMP_CMP_MASKED_EQ" -> Op.MASKED_EQ;
                default -> throw new SeccompException(aq + ".op: unknown operator \"" + a.get("op").asText()
                        + "\"; known: " + String.join(", ", OPERATORS));
            };
            long value = u64(a.get("value"), aq + ".value", true);
            long valueTwo = u64(a.get("valueTwo"), aq + ".valueTwo", false);
            conds.add(new Cond(index, op, value, valueTwo));
        }
        if (!repeated) {
            return List.of(List.copyOf(conds));
        }
        List<List<Cond>> split = new ArrayList<>();
        for (Cond c : conds) {
            split.add(List.of(c));
        }
        return split;
    }

    private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private static long u64(JsonNode n, String at, boolean required) throws SeccompException {
        if (n == null || n.isNull()) {
            if (required) {
                throw new SeccompException(at + ": required");
            }
            return 0;
        }
        if (!n.isIntegralNumber() || n.bigIntegerValue().signum() < 0 || n.bigIntegerValue().compareTo(U64_MAX) > 0) {
            throw new SeccompException(at + ": must be an unsigned 64-bit integer, got " + n);
        }
        return n.bigIntegerValue().longValue();
    }

    // ---------------------------------------------------------------- code generation

    /*
     * Layout:
     *   A = arch; x86_64 → X86_64; i386 (if filtered) → I386; anything else → KILL_PROCESS
     *   X86_64: A = nr; nr ≥ X32 bit (and not -1) → X32 (or KILL_PROCESS if x32 is not filtered)
     *   each section: per syscall (A holds nr): "jeq nr ? block : next" ; the block returns.
     *   end of section: return the default action.
     * Conditional jumps only skip within one syscall's block (or one rule), so they stay short;
     * sections are reached with JA.
     */
    static byte[] generate(Set<Arch> arches, Map<Arch, TreeMap<Integer, PerSyscall>> rules, int defaultAction) {
        Bpf b = new Bpf();
        Bpf.Label x64 = b.label(), i386 = b.label(), x32 = b.label();
        b.load(OFF_ARCH);
        b.jump(Bpf.JEQ, Arch.X86_64.auditArch(), null, skip(b, 1));
        b.ja(x64);
        if (arches.contains(Arch.X86)) {
            Bpf.Label notI386 = b.label();
            b.jump(Bpf.JEQ, Arch.X86.auditArch(), null, notI386);
            b.ja(i386);
            b.bind(notI386);
        }
        b.ret(RET_KILL_PROCESS);

        b.bind(x64);
        b.load(OFF_NR);
        Bpf.Label body64 = b.label(), notX32 = b.label();
        b.jump(Bpf.JGE, Arch.X32_SYSCALL_BIT, null, body64);
        b.jump(Bpf.JEQ, -1, body64, notX32); // nr -1 (a tracer skipping the call) is not x32
        b.bind(notX32);
        if (arches.contains(Arch.X32)) {
            b.ja(x32);
        } else {
            b.ret(RET_KILL_PROCESS);
        }
        b.bind(body64);
        section(b, rules.get(Arch.X86_64), defaultAction);
        if (arches.contains(Arch.X32)) {
            b.bind(x32);
            section(b, rules.get(Arch.X32), defaultAction); // A still holds nr
        }
        if (arches.contains(Arch.X86)) {
            b.bind(i386);
            b.load(OFF_NR);
            section(b, rules.get(Arch.X86), defaultAction);
        }
        return b.assemble();
    }

    /** A label bound {@code n} instructions after the next one: only for fixed-size skips. */
    private static Bpf.Label skip(Bpf b, int n) {
        Bpf.Label l = b.label();
        l.at = b.size() + 1 + n;
        return l;
    }

    private static void section(Bpf b, TreeMap<Integer, PerSyscall> rules, int defaultAction) {
        for (var e : rules.entrySet()) {
            int nr = e.getKey();
            PerSyscall p = e.getValue();
            Bpf.Label next = b.label();
            if (p.conditional.isEmpty()) {
                b.jump(Bpf.JEQ, nr, null, next);
                b.ret(p.unconditional);
                b.bind(next);
                continue;
            }
            Bpf.Label block = b.label();
            b.jump(Bpf.JEQ, nr, block, null);
            b.ja(next);
            b.bind(block);
            for (Rule r : p.conditional) {
                Bpf.Label fail = b.label();
                for (Cond c : r.conds()) {
                    condition(b, c, fail);
                }
                b.ret(r.action());
                b.bind(fail);
            }
            b.ret(p.unconditional != null ? p.unconditional : defaultAction);
            b.bind(next);
        }
        b.ret(defaultAction);
    }

    /** Falls through when the condition holds, jumps to {@code fail} otherwise. Clobbers A. */
    private static void condition(Bpf b, Cond c, Bpf.Label fail) {
        int hiOff = OFF_ARGS + 8 * c.index() + 4, loOff = OFF_ARGS + 8 * c.index();
        int hi = (int) (c.value() >>> 32), lo = (int) c.value();
        Bpf.Label pass = b.label();
        switch (c.op()) {
            case EQ -> {
                b.load(hiOff).jump(Bpf.JEQ, hi, null, fail);
                b.load(loOff).jump(Bpf.JEQ, lo, null, fail);
            }
            case NE -> {
                b.load(hiOff).jump(Bpf.JEQ, hi, null, pass);
                b.load(loOff).jump(Bpf.JEQ, lo, fail, null);
            }
            case GT, GE -> {
                b.load(hiOff).jump(Bpf.JGT, hi, pass, null).jump(Bpf.JEQ, hi, null, fail);
                b.load(loOff).jump(c.op() == Op.GT ? Bpf.JGT : Bpf.JGE, lo, null, fail);
            }
            case LT, LE -> { // not GE, not GT
                b.load(hiOff).jump(Bpf.JGT, hi, fail, null).jump(Bpf.JEQ, hi, null, pass);
                b.load(loOff).jump(c.op() == Op.LE ? Bpf.JGT : Bpf.JGE, lo, fail, null);
            }
            case MASKED_EQ -> {
                int dhi = (int) (c.valueTwo() >>> 32), dlo = (int) c.valueTwo();
                b.load(hiOff).and(hi).jump(Bpf.JEQ, dhi, null, fail);
                b.load(loOff).and(lo).jump(Bpf.JEQ, dlo, null, fail);
            }
        }
        b.bind(pass);
    }
}
