package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** MonitorStatus's in-place /proc/PID/stat parse (listings ask it of every running container). */
class MonitorStatusAliveTest {
    private static boolean alive(String stat, long start) {
        byte[] b = stat.getBytes(StandardCharsets.ISO_8859_1);
        return MonitorStatus.aliveIn(b, b.length, start);
    }

    /** A stat line: state, then fields 4..21 as 0, field 22 the start time, a few more after it. */
    private static String stat(String comm, char state, long start) {
        StringBuilder s = new StringBuilder("1234 (" + comm + ") " + state);
        for (int f = 4; f <= 21; f++) {
            s.append(" 0");
        }
        return s.append(' ').append(start).append(" 99 88 77\n").toString();
    }

    @Test
    void startTimeAndState() {
        assertThat(alive(stat("sleep", 'S', 4242), 4242)).isTrue();
        assertThat(alive(stat("sleep", 'R', 4242), 4243)).as("another process with the pid").isFalse();
        assertThat(alive(stat("sleep", 'Z', 4242), 4242)).as("a zombie").isFalse();
        assertThat(alive(stat("sleep", 'X', 4242), 4242)).isFalse();
        assertThat(alive(stat("a) b (c) 1 2", 'S', 77), 77)).as("a command with ') ' in it").isTrue();
        assertThat(alive("1234 (x) S 1 2", 1)).as("truncated").isFalse();
        assertThat(alive("", 1)).isFalse();
        assertThat(alive("1234 (x", 1)).isFalse();
    }

    @Test
    void thisProcess() throws Exception {
        String s = Files.readString(Path.of("/proc/self/stat"));
        long start = Long.parseLong(s.substring(s.lastIndexOf(')') + 2).trim().split(" ")[19]);
        int pid = (int) ProcessHandle.current().pid();
        assertThat(MonitorStatus.alive(pid, start)).isTrue();
        assertThat(MonitorStatus.alive(pid, start + 1)).isFalse();
        assertThat(MonitorStatus.alive(Integer.MAX_VALUE, start)).as("no such pid").isFalse();
    }

    /** This process's pidfds (their links read anon_inode:[pidfd]). */
    private static long pidfds() throws Exception {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(f -> {
                try {
                    return Files.readSymbolicLink(f).toString().contains("pidfd");
                } catch (Exception gone) {
                    return false;
                }
            }).count();
        }
    }

    /** Once found alive, a process is watched by a pidfd: its end is seen, and the pidfd closed. */
    @Test
    void aProcessThatEndsAfterBeingSeenAlive() throws Exception {
        long before = pidfds();
        Process p = new ProcessBuilder("sleep", "1000").start();
        try {
            int pid = (int) p.pid();
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            long start = Long.parseLong(s.substring(s.lastIndexOf(')') + 2).trim().split(" ")[19]);
            assertThat(MonitorStatus.alive(pid, start)).isTrue();
            assertThat(pidfds()).as("a pidfd kept for it").isEqualTo(before + 1);
            assertThat(MonitorStatus.alive(pid, start)).as("asked again: its pidfd").isTrue();
            assertThat(MonitorStatus.alive(pid, start + 1)).as("another start time").isFalse();
            p.destroyForcibly();
            p.waitFor();
            assertThat(MonitorStatus.alive(pid, start)).as("ended").isFalse();
            assertThat(pidfds()).as("its pidfd closed").isEqualTo(before);
        } finally {
            p.destroyForcibly();
        }
    }
}
