package dev.hull.runtime.executor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.linux.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The executor must answer a malformed plan with a clear error on its socket
 * and a non-zero exit, never a crash or a hang.
 */
class ExecutorRobustnessTest {

    /** Spawns the executor, sends raw bytes, closes our write side, returns (exit code, reply). */
    private static Object[] feed(byte[] raw) throws Exception {
        int[] pair = Syscalls.socketpair();
        int pid = Syscalls.spawn(ExecutorSession.binary().toString(), List.of("hull-executor"), List.of(),
                new int[] {pair[1]}, new int[] {3});
        Syscalls.close(pair[1]);
        try {
            Syscalls.writeFully(pair[0], raw);
        } catch (java.io.IOException ignored) {
            // the executor may have rejected the header already
        }
        // Half-close is not available through our API: the executor sees EOF when we close after reading.
        StringBuilder reply = new StringBuilder();
        byte[] buf = new byte[4096];
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                return;
            }
            Syscalls.close(pair[0]);
        });
        int n;
        try {
            while ((n = Syscalls.read(pair[0], buf, 0, buf.length)) > 0) {
                reply.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
        } catch (java.io.IOException closedUnderUs) {
            // the closer ran: the executor waited for more input, which is fine
        }
        closer.interrupt();
        int status = Syscalls.waitpid(pid, 0);
        Syscalls.close(pair[0]);
        return new Object[] {Syscalls.exitCode(status), reply.toString()};
    }

    private static byte[] header(int magic, int version, int len) {
        return ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(magic).putInt(version).putInt(len)
                .array();
    }

    @Test
    void badMagicIsRejected() throws Exception {
        Object[] r = feed(header(0x12345678, 1, 0));
        assertThat(r[0]).isEqualTo(125);
        assertThat((String) r[1]).startsWith("ERROR bad plan magic");
    }

    @Test
    void unknownVersionIsRejected() throws Exception {
        Object[] r = feed(header(Plan.MAGIC, 99, 0));
        assertThat((String) r[1]).startsWith("ERROR plan version 99 not supported");
    }

    @Test
    void hugeLengthIsRejectedBeforeAllocating() throws Exception {
        Object[] r = feed(header(Plan.MAGIC, 1, Integer.MAX_VALUE));
        assertThat((String) r[1]).startsWith("ERROR plan too large");
    }

    @Test
    void truncatedOpIsRejected() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(12 + 12).order(ByteOrder.LITTLE_ENDIAN);
        b.put(header(Plan.MAGIC, 1, 12));
        b.putInt(Plan.OP_SETNS).putInt(2).putInt(1000); // claims a 1000-byte argument that is not there
        Object[] r = feed(b.array());
        assertThat((String) r[1]).startsWith("ERROR plan truncated in op 2");
    }

    @Test
    void argumentOfTheWrongKindIsRejected() throws Exception {
        // setns expects (string, u64); give a string without its NUL terminator.
        ByteBuffer body = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        body.putInt(Plan.OP_SETNS).putInt(2).putInt(3).put("abc".getBytes(StandardCharsets.US_ASCII)).putInt(8)
                .putLong(0);
        int len = body.position();
        ByteBuffer b = ByteBuffer.allocate(12 + len).order(ByteOrder.LITTLE_ENDIAN);
        b.put(header(Plan.MAGIC, 1, len)).put(body.array(), 0, len);
        Object[] r = feed(b.array());
        assertThat((String) r[1]).startsWith("ERROR op 2: argument 0 is not a string");
    }

    @Test
    void planWithoutCloneIsRejected() throws Exception {
        Object[] r = feed(new Plan().mode(true).encode());
        assertThat((String) r[1]).startsWith("ERROR plan has no clone op");
    }

    @Test
    void failingParentOpNamesTheCallAndPath() throws Exception {
        Object[] r = feed(new Plan().setns("/nonexistent/ns", 0).clone(0).encode());
        assertThat((String) r[1]).startsWith("ERROR open namespace /nonexistent/ns: No such file or directory");
    }

    @Test
    void runWithoutAPlanSocketExplainsItself() throws Exception {
        Process p = new ProcessBuilder(ExecutorSession.binary().toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(2);
        assertThat(out).contains("passes its plan on fd 3");
    }
}
