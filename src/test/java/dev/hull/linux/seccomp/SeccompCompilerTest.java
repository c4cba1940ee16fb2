package dev.hull.linux.seccomp;

import static dev.hull.linux.seccomp.SeccompCompiler.RET_ALLOW;
import static dev.hull.linux.seccomp.SeccompCompiler.RET_ERRNO;
import static dev.hull.linux.seccomp.SeccompCompiler.RET_KILL_PROCESS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The compiler's programs, checked by running them in {@link BpfInterpreter} over many
 * (arch, nr, args) inputs — never by comparing bytes.
 */
class SeccompCompilerTest {
    static final ObjectMapper M = new ObjectMapper();
    static final int AUDIT_X86_64 = 0xC000003E, AUDIT_I386 = 0x40000003, AUDIT_AARCH64 = 0xC00000B7;
    static final int X32 = 0x40000000;

    static JsonNode json(String s) {
        try {
            return M.readTree(s.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    static SeccompCompiler.Filter compile(String s) throws SeccompException {
        return SeccompCompiler.compile(json(s), "linux.seccomp");
    }

    static int run(SeccompCompiler.Filter f, int arch, int nr, long... args) {
        return BpfInterpreter.run(f.program(), new BpfInterpreter.Data(nr, arch, 0x401000L, args));
    }

    static int nr(Arch a, String name) {
        return SyscallTable.number(a, name).orElseThrow();
    }

    @Test
    void tablesComeFromTheKernelHeaders() {
        assertThat(SyscallTable.table(Arch.X86_64)).hasSizeGreaterThan(300).containsEntry("read", 0)
                .containsEntry("mkdir", 83).containsEntry("personality", 135).containsEntry("kill", 62)
                .doesNotContainKey("socketcall");
        assertThat(SyscallTable.table(Arch.X86)).hasSizeGreaterThan(300).containsEntry("mkdir", 39)
                .containsEntry("socketcall", 102).containsEntry("read", 3);
        assertThat(SyscallTable.table(Arch.X32)).hasSizeGreaterThan(300).containsEntry("mkdir", X32 + 83)
                .containsEntry("rt_sigaction", X32 + 512);
    }

    @Test
    void blockedSyscallGetsEpermOthersTheDefault() throws Exception {
        var f = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO'}]}");
        assertThat(run(f, AUDIT_X86_64, 83)).isEqualTo(RET_ERRNO | 1);
        assertThat(run(f, AUDIT_X86_64, nr(Arch.X86_64, "mkdirat"))).isEqualTo(RET_ERRNO | 1);
        for (int other : new int[] {0, 1, 82, 84, 257, 450, 1000, -1}) {
            assertThat(run(f, AUDIT_X86_64, other)).as("nr %d", other).isEqualTo(RET_ALLOW);
        }
        // Architectures that are not filtered: killed (i386, x32, and foreign ones).
        assertThat(run(f, AUDIT_I386, 39)).isEqualTo(RET_KILL_PROCESS);
        assertThat(run(f, AUDIT_I386, 3)).isEqualTo(RET_KILL_PROCESS);
        assertThat(run(f, AUDIT_X86_64, X32 + 83)).isEqualTo(RET_KILL_PROCESS);
        assertThat(run(f, AUDIT_X86_64, X32)).isEqualTo(RET_KILL_PROCESS);
        assertThat(run(f, AUDIT_AARCH64, 83)).isEqualTo(RET_KILL_PROCESS);
        assertThat(f.arches()).containsExactly(Arch.X86_64);
    }

    @Test
    void subArchitecturesUseTheirOwnNumbers() throws Exception {
        var f = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'],"
                + " 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13},"
                + "              {'names': ['socketcall', 'arch_prctl'], 'action': 'SCMP_ACT_KILL_PROCESS'}]}");
        assertThat(run(f, AUDIT_X86_64, 83)).isEqualTo(RET_ERRNO | 13);
        assertThat(run(f, AUDIT_I386, 39)).isEqualTo(RET_ERRNO | 13);
        assertThat(run(f, AUDIT_I386, 83)).as("83 is symlink on i386").isEqualTo(RET_ALLOW);
        assertThat(run(f, AUDIT_X86_64, X32 + 83)).isEqualTo(RET_ERRNO | 13);
        assertThat(run(f, AUDIT_X86_64, X32 + 39)).as("x32 getpid").isEqualTo(RET_ALLOW);
        assertThat(run(f, AUDIT_X86_64, 39)).as("x86_64 getpid").isEqualTo(RET_ALLOW);
        assertThat(run(f, AUDIT_I386, 102)).as("i386 socketcall").isEqualTo(RET_KILL_PROCESS);
        assertThat(run(f, AUDIT_X86_64, 102)).as("102 is getuid on x86_64").isEqualTo(RET_ALLOW);
        assertThat(run(f, AUDIT_X86_64, 158)).as("x86_64 arch_prctl").isEqualTo(RET_KILL_PROCESS);
        assertThat(run(f, AUDIT_I386, nr(Arch.X86, "arch_prctl"))).isEqualTo(RET_KILL_PROCESS);
        assertThat(run(f, AUDIT_AARCH64, 83)).as("foreign arch never filtered").isEqualTo(RET_KILL_PROCESS);
        assertThat(f.arches()).containsExactlyInAnyOrder(Arch.X86_64, Arch.X86, Arch.X32);
    }

    @Test
    void everyAction() throws Exception {
        var f = compile("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38, 'syscalls': ["
                + "{'names': ['read'], 'action': 'SCMP_ACT_ALLOW'},"
                + "{'names': ['write'], 'action': 'SCMP_ACT_KILL'},"
                + "{'names': ['open'], 'action': 'SCMP_ACT_KILL_THREAD'},"
                + "{'names': ['close'], 'action': 'SCMP_ACT_KILL_PROCESS'},"
                + "{'names': ['stat'], 'action': 'SCMP_ACT_TRAP'},"
                + "{'names': ['fstat'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 7},"
                + "{'names': ['lstat'], 'action': 'SCMP_ACT_TRACE'},"
                + "{'names': ['poll'], 'action': 'SCMP_ACT_LOG'},"
                + "{'names': ['lseek'], 'action': 'SCMP_ACT_ERRNO'},"
                + "{'names': ['mmap'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 4095}]}");
        assertThat(run(f, AUDIT_X86_64, 0)).isEqualTo(0x7fff0000);
        assertThat(run(f, AUDIT_X86_64, 1)).isEqualTo(0);
        assertThat(run(f, AUDIT_X86_64, 2)).isEqualTo(0);
        assertThat(run(f, AUDIT_X86_64, 3)).isEqualTo(0x80000000);
        assertThat(run(f, AUDIT_X86_64, 4)).isEqualTo(0x00030000);
        assertThat(run(f, AUDIT_X86_64, 5)).isEqualTo(0x7ff00007);
        assertThat(run(f, AUDIT_X86_64, 6)).isEqualTo(0x7ff00001);
        assertThat(run(f, AUDIT_X86_64, 7)).isEqualTo(0x7ffc0000);
        assertThat(run(f, AUDIT_X86_64, 8)).as("errnoRet defaults to EPERM, not defaultErrnoRet").isEqualTo(0x00050001);
        assertThat(run(f, AUDIT_X86_64, 9)).isEqualTo(0x00050000 | 4095);
        assertThat(run(f, AUDIT_X86_64, 10)).as("default with defaultErrnoRet").isEqualTo(0x00050000 | 38);
    }

    /** Interesting 64-bit values around a constant: hi/lo word boundaries, sign bits, carries. */
    static List<Long> probes(long c) {
        List<Long> p = new ArrayList<>(List.of(0L, 1L, -1L, 0xffffffffL, 0x100000000L, 0x7fffffffL, 0x80000000L,
                Long.MIN_VALUE, Long.MAX_VALUE, 0xffffffff00000000L));
        for (long d : new long[] {c, c - 1, c + 1, c ^ (1L << 32), c ^ 1L << 63, c ^ 0x80000000L, c + (1L << 32),
                c - (1L << 32), c & 0xffffffffL, c & 0xffffffff00000000L, ~c}) {
            p.add(d);
        }
        return p;
    }

    static final long[] CONSTANTS = {0L, 1L, 10L, 0xffffffffL, 0x100000000L, 0x1_0000_0005L, 0x7fff_ffff_ffff_ffffL,
            0x8000_0000_0000_0000L, -1L, 0xdead_beef_0000_0000L, 0x0000_0001_8000_0000L};

    static boolean expected(SeccompCompiler.Op op, long arg, long value, long valueTwo) {
        int cmp = Long.compareUnsigned(arg, value);
        return switch (op) {
            case NE -> arg != value;
            case EQ -> arg == value;
            case LT -> cmp < 0;
            case LE -> cmp <= 0;
            case GT -> cmp > 0;
            case GE -> cmp >= 0;
            case MASKED_EQ -> (arg & value) == valueTwo;
        };
    }

    @ParameterizedTest
    @EnumSource(SeccompCompiler.Op.class)
    void argumentComparisonsAreExactOn64Bits(SeccompCompiler.Op op) throws Exception {
        int checked = 0;
        for (long c : CONSTANTS) {
            for (long two : op == SeccompCompiler.Op.MASKED_EQ ? new long[] {0L, c & 0x0000_0001_0000_0005L, c} : new long[] {0L}) {
                for (int index : new int[] {0, 3, 5}) {
                    ObjectNode s = (ObjectNode) json("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],"
                            + " 'syscalls': [{'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 22}]}");
                    ObjectNode arg = ((ObjectNode) s.get("syscalls").get(0)).putArray("args").addObject();
                    arg.put("index", index);
                    arg.put("value", new java.math.BigInteger(Long.toUnsignedString(c)));
                    if (op == SeccompCompiler.Op.MASKED_EQ) {
                        arg.put("valueTwo", new java.math.BigInteger(Long.toUnsignedString(two)));
                    }
                    arg.put("op", "SCMP_CMP_" + op.name());
                    var f = SeccompCompiler.compile(s, "linux.seccomp");
                    for (long a : probes(c)) {
                        long[] args = new long[6];
                        args[index] = a;
                        args[(index + 1) % 6] = c; // a different argument holding the constant must not matter
                        int want = expected(op, a, c, two) ? RET_ERRNO | 22 : RET_ALLOW;
                        assertThat(run(f, AUDIT_X86_64, 135, args)).as("%s arg%d=0x%x vs 0x%x (two 0x%x)", op, index, a, c, two)
                                .isEqualTo(want);
                        assertThat(run(f, AUDIT_X86_64, X32 + 135, args)).as("x32").isEqualTo(want);
                        // i386 passes 32-bit arguments: the kernel zero-extends them.
                        long[] a32 = args.clone();
                        a32[index] = a & 0xffffffffL;
                        assertThat(run(f, AUDIT_I386, 136, a32)).as("i386 %s 0x%x vs 0x%x", op, a32[index], c)
                                .isEqualTo(expected(op, a32[index], c, two) ? RET_ERRNO | 22 : RET_ALLOW);
                        assertThat(run(f, AUDIT_X86_64, 134, args)).as("another syscall").isEqualTo(RET_ALLOW);
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(300);
    }

    @Test
    void conditionsOfARuleAllHoldButARepeatedIndexMeansAny() throws Exception {
        // kill(pid, sig): deny signal 10 to pid 1 only.
        var and = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO',"
                + " 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'}, {'index': 1, 'value': 10, 'op': 'SCMP_CMP_EQ'}]}]}");
        assertThat(run(and, AUDIT_X86_64, 62, 1, 10)).isEqualTo(RET_ERRNO | 1);
        assertThat(run(and, AUDIT_X86_64, 62, 1, 12)).isEqualTo(RET_ALLOW);
        assertThat(run(and, AUDIT_X86_64, 62, 2, 10)).isEqualTo(RET_ALLOW);
        // runc: when an index repeats, each condition is a rule of its own.
        var or = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO',"
                + " 'args': [{'index': 1, 'value': 10, 'op': 'SCMP_CMP_EQ'}, {'index': 1, 'value': 12, 'op': 'SCMP_CMP_EQ'}]}]}");
        assertThat(run(or, AUDIT_X86_64, 62, 5, 10)).isEqualTo(RET_ERRNO | 1);
        assertThat(run(or, AUDIT_X86_64, 62, 5, 12)).isEqualTo(RET_ERRNO | 1);
        assertThat(run(or, AUDIT_X86_64, 62, 5, 11)).isEqualTo(RET_ALLOW);
    }

    @Test
    void conditionalRulesComeBeforeTheUnconditionalOne() throws Exception {
        var f = compile("{'defaultAction': 'SCMP_ACT_KILL_PROCESS', 'syscalls': ["
                + "{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 5},"
                + "{'names': ['kill'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 1, 'value': 0, 'op': 'SCMP_CMP_EQ'}]},"
                + "{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 6},"
                + "{'names': ['kill'], 'action': 'SCMP_ACT_LOG', 'args': [{'index': 1, 'value': 9, 'op': 'SCMP_CMP_LE'}]},"
                + "{'names': ['kill'], 'action': 'SCMP_ACT_KILL_PROCESS', 'args': [{'index': 1, 'value': 3, 'op': 'SCMP_CMP_EQ'}]}]}");
        assertThat(run(f, AUDIT_X86_64, 62, 1, 0)).isEqualTo(RET_ALLOW);
        assertThat(run(f, AUDIT_X86_64, 62, 1, 4)).isEqualTo(SeccompCompiler.RET_LOG);
        assertThat(run(f, AUDIT_X86_64, 62, 1, 3)).as("first matching conditional rule").isEqualTo(SeccompCompiler.RET_LOG);
        assertThat(run(f, AUDIT_X86_64, 62, 1, 15)).as("the first unconditional rule").isEqualTo(RET_ERRNO | 5);
        assertThat(run(f, AUDIT_X86_64, 39)).isEqualTo(RET_KILL_PROCESS);
    }

    @Test
    void rulesWithTheDefaultActionAreDroppedAsRuncDoes() throws Exception {
        var f = compile("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
                + "{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 1, 'value': 9, 'op': 'SCMP_CMP_EQ'}]},"
                + "{'names': ['kill'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 1, 'value': 0, 'op': 'SCMP_CMP_GE'}]}]}");
        assertThat(run(f, AUDIT_X86_64, 62, 1, 9)).isEqualTo(RET_ALLOW);
    }

    @Test
    void flagsAreSeccompFlags() throws Exception {
        var f = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']}");
        assertThat(f.flags()).isEqualTo(7);
        assertThat(run(f, AUDIT_X86_64, 0)).isEqualTo(RET_ALLOW);
        assertThat(compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_LOG']}").flags()).isEqualTo(2);
    }

    @Test
    void notifyReturnsUserNotifAndAsksForAListener() throws Exception {
        var f = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock', 'listenerMetadata': 'm=1',"
                + " 'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_LOG'],"
                + " 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_NOTIFY'},"
                + " {'names': ['openat'], 'action': 'SCMP_ACT_NOTIFY', 'args': [{'index': 2, 'value': 64, 'valueTwo': 64, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
                + " {'names': ['chmod'], 'action': 'SCMP_ACT_ERRNO'}]}");
        assertThat(run(f, AUDIT_X86_64, 83)).isEqualTo(SeccompCompiler.RET_USER_NOTIF);
        assertThat(run(f, AUDIT_X86_64, nr(Arch.X86_64, "mkdirat"))).isEqualTo(SeccompCompiler.RET_USER_NOTIF);
        assertThat(run(f, AUDIT_X86_64, nr(Arch.X86_64, "openat"), 0, 0, 0x41)).isEqualTo(SeccompCompiler.RET_USER_NOTIF);
        assertThat(run(f, AUDIT_X86_64, nr(Arch.X86_64, "openat"), 0, 0, 0x1)).isEqualTo(RET_ALLOW);
        assertThat(run(f, AUDIT_X86_64, nr(Arch.X86_64, "chmod"))).isEqualTo(RET_ERRNO | 1);
        for (String other : List.of("read", "write", "sendmsg", "close", "execve")) {
            assertThat(run(f, AUDIT_X86_64, nr(Arch.X86_64, other))).as(other).isEqualTo(RET_ALLOW);
        }
        assertThat(f.notifies()).isTrue();
        assertThat(f.listenerPath()).isEqualTo("/run/agent.sock");
        assertThat(f.listenerMetadata()).isEqualTo("m=1");
        // NEW_LISTENER (8) is added: seccomp(2) then returns the listener fd.
        assertThat(f.flags()).isEqualTo(SeccompCompiler.FLAG_NEW_LISTENER | SeccompCompiler.FLAG_WAIT_KILLABLE_RECV
                | SeccompCompiler.FLAG_LOG);

        var plain = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock',"
                + " 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'}]}");
        assertThat(plain.notifies()).isFalse(); // a listenerPath without SCMP_ACT_NOTIFY is ignored
        assertThat(plain.flags() & SeccompCompiler.FLAG_NEW_LISTENER).isZero();
    }

    @Test
    void notifyMisuseNamesTheField() {
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x',"
                + " 'syscalls': [{'names': ['mkdir', 'sendmsg'], 'action': 'SCMP_ACT_NOTIFY'}]}"))
                .hasMessageStartingWith("linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot apply to sendmsg");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}"))
                .hasMessageStartingWith("linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies to user notification");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY', 'errnoRet': 1}]}"))
                .hasMessageStartingWith("linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
    }

    @Test
    void badInputNamesTheField() {
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO'},"
                + " {'names': ['fooo'], 'action': 'SCMP_ACT_ERRNO'}]}"))
                .isInstanceOf(SeccompException.class)
                .hasMessage("linux.seccomp.syscalls[1].names[0]: unknown syscall \"fooo\" for x86_64");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86'],"
                + " 'syscalls': [{'names': ['fooo', 'barr'], 'action': 'SCMP_ACT_ERRNO'}]}"))
                .hasMessage("linux.seccomp.syscalls[0].names[0]: unknown syscall \"fooo\" for x86_64, i386");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_NOTIFY', 'listenerPath': '/run/x.sock'}"))
                .hasMessageStartingWith("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO'},"
                + " {'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}"))
                .hasMessage("linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY"
                        + " (linux.seccomp.syscalls[1].action): the unix socket the runtime sends the seccomp listener fd to");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_NOPE']}"))
                .hasMessageStartingWith("linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_Z80']}"))
                .hasMessage("linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_KILL', 'errnoRet': 3}]}"))
                .hasMessageStartingWith("linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 70000}]}"))
                .hasMessageStartingWith("linux.seccomp.syscalls[0].errnoRet: must be an errno number from 0 to 4095");
        assertThatThrownBy(() -> compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO',"
                + " 'args': [{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}"))
                .hasMessageStartingWith("linux.seccomp.syscalls[0].args[0].index: must be an argument index from 0 to 5");
    }

    @Test
    void unknownNamesNextToKnownOnesAreSkippedLikeRuncDoes() throws Exception {
        var f = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir', 'some_future_call'], 'action': 'SCMP_ACT_ERRNO'}]}");
        assertThat(run(f, AUDIT_X86_64, 83)).isEqualTo(RET_ERRNO | 1);
        assertThat(f.warnings()).containsExactly(
                "linux.seccomp.syscalls[0]: syscall \"some_future_call\" is unknown for x86_64; skipped");
        // A name known only on i386 is fine when i386 is filtered, and does nothing on x86_64.
        var g = compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86'], 'syscalls': [{'names': ['socketcall'], 'action': 'SCMP_ACT_ERRNO'}]}");
        assertThat(run(g, AUDIT_I386, 102)).isEqualTo(RET_ERRNO | 1);
        assertThat(run(g, AUDIT_X86_64, 102)).isEqualTo(RET_ALLOW);
        assertThat(g.warnings()).isEmpty();
    }

    @Test
    void longProgramsKeepEveryJumpInRange() throws Exception {
        // Every x86_64 syscall gets three argument rules: thousands of instructions, long skips.
        ObjectNode s = (ObjectNode) json("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': []}");
        ArrayNode sc = (ArrayNode) s.get("syscalls");
        List<String> names = new ArrayList<>(SyscallTable.table(Arch.X86_64).keySet()).subList(0, 150);
        for (String n : names) {
            for (int v = 1; v <= 3; v++) {
                ObjectNode e = sc.addObject();
                e.putArray("names").add(n);
                e.put("action", "SCMP_ACT_ALLOW");
                e.putArray("args").addObject().put("index", v).put("value", v).put("op", "SCMP_CMP_EQ");
            }
        }
        var f = SeccompCompiler.compile(s, "linux.seccomp");
        assertThat(f.instructions()).isGreaterThan(1000).isLessThanOrEqualTo(Bpf.MAX_INSNS);
        for (String n : names) {
            int nr = nr(Arch.X86_64, n);
            assertThat(run(f, AUDIT_X86_64, nr, 0, 1)).isEqualTo(RET_ALLOW);
            assertThat(run(f, AUDIT_X86_64, nr, 0, 0, 0, 3)).isEqualTo(RET_ALLOW);
            assertThat(run(f, AUDIT_X86_64, nr, 0, 2)).isEqualTo(RET_ERRNO | 1);
        }
    }

    @Test
    void defaultProfileWithoutSysAdmin() throws Exception {
        var f = SeccompCompiler.compile(DefaultSeccomp.profile(List.of("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")),
                "linux.seccomp");
        assertThat(f.instructions()).isLessThanOrEqualTo(Bpf.MAX_INSNS);
        assertThat(f.arches()).isEqualTo(Set.of(Arch.X86_64, Arch.X86, Arch.X32));
        for (Arch a : Arch.values()) {
            int audit = a.auditArch();
            for (String ok : List.of("read", "write", "execve", "mmap", "brk", "exit_group", "mkdir", "uname", "kill", "wait4")) {
                SyscallTable.number(a, ok).ifPresent(n -> assertThat(run(f, audit, n)).as("%s %s", a, ok).isEqualTo(RET_ALLOW));
            }
            for (String no : List.of("mount", "unshare", "setns", "reboot", "init_module", "kcmp", "bpf", "umount2")) {
                assertThat(run(f, audit, nr(a, no))).as("%s %s", a, no).isEqualTo(RET_ERRNO | 1);
            }
            assertThat(run(f, audit, nr(a, "clone3"))).isEqualTo(RET_ERRNO | 38);
            int clone = nr(a, "clone");
            assertThat(run(f, audit, clone, 0x01200011L)).as("fork-like clone").isEqualTo(RET_ALLOW);
            assertThat(run(f, audit, clone, 0x003d0f00L)).as("thread-like clone").isEqualTo(RET_ALLOW);
            assertThat(run(f, audit, clone, 0x10000011L)).as("clone(CLONE_NEWUSER)").isEqualTo(RET_ERRNO | 1);
            assertThat(run(f, audit, clone, 0x20000011L)).as("clone(CLONE_NEWPID)").isEqualTo(RET_ERRNO | 1);
            int personality = nr(a, "personality");
            assertThat(run(f, audit, personality, 8)).isEqualTo(RET_ALLOW);
            assertThat(run(f, audit, personality, 0xffffffffL)).isEqualTo(RET_ALLOW);
            assertThat(run(f, audit, personality, 0x0040000L)).as("ADDR_NO_RANDOMIZE").isEqualTo(RET_ERRNO | 1);
            if (a != Arch.X86) {
                int socket = nr(a, "socket");
                assertThat(run(f, audit, socket, 2, 1)).as("AF_INET").isEqualTo(RET_ALLOW);
                assertThat(run(f, audit, socket, 40, 1)).as("AF_VSOCK").isEqualTo(RET_ERRNO | 1);
            }
        }
        assertThat(run(f, AUDIT_X86_64, nr(Arch.X86_64, "arch_prctl"))).isEqualTo(RET_ALLOW);
        assertThat(run(f, AUDIT_X86_64, 99999)).as("unknown number").isEqualTo(RET_ERRNO | 1);
        assertThat(run(f, AUDIT_AARCH64, 0)).isEqualTo(RET_KILL_PROCESS);
    }

    @Test
    void defaultProfileFollowsTheCapabilities() throws Exception {
        var f = SeccompCompiler.compile(DefaultSeccomp.profile(List.of("CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_CHROOT")),
                "linux.seccomp");
        int a = AUDIT_X86_64;
        assertThat(run(f, a, nr(Arch.X86_64, "mount"))).isEqualTo(RET_ALLOW);
        assertThat(run(f, a, nr(Arch.X86_64, "unshare"))).isEqualTo(RET_ALLOW);
        assertThat(run(f, a, nr(Arch.X86_64, "clone"), 0x10000011L)).isEqualTo(RET_ALLOW);
        assertThat(run(f, a, nr(Arch.X86_64, "clone3"))).isEqualTo(RET_ALLOW);
        assertThat(run(f, a, nr(Arch.X86_64, "kcmp"))).isEqualTo(RET_ALLOW);
        assertThat(run(f, a, nr(Arch.X86_64, "chroot"))).isEqualTo(RET_ALLOW);
        assertThat(run(f, a, nr(Arch.X86_64, "reboot"))).isEqualTo(RET_ERRNO | 1);
        assertThat(run(f, a, nr(Arch.X86_64, "init_module"))).isEqualTo(RET_ERRNO | 1);
    }
}
