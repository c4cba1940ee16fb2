package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.runtime.executor.ExecutorSession;
import dev.hull.runtime.executor.Plan;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The executor writes an LSM label (the lsm-exec op) through a procfs of its own, which has no mask
 * and no read-only path (/proc/sys/kernel/core_pattern is writable through it). A process exec'd into
 * a container has no mount to make before that write, so it must hold that procfs for the write alone:
 * not from its first op on (it held it through its setuid, capabilities and seccomp until the write),
 * and not after. This host may have no AppArmor or SELinux, so the op writes a harmless procfs file of
 * the process's own instead (/proc/self/comm, its name), and the host looks at the process's
 * descriptors while it waits at its ready point, placed before or after the write.
 */
class LabelProcfsWindowTest {
    static final String NAME = "hull-lsm-probe";

    /** The descriptors of pid that are the root of a procfs (a core_pattern under them), as "N -> target". */
    static List<String> procfsRoots(int pid) throws Exception {
        List<String> found = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.exists(fd.resolve("sys/kernel/core_pattern"))) {
                        found.add(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
                    }
                } catch (NoSuchFileException closed) {
                    // closed while listed
                }
            }
        }
        return found;
    }

    /** Runs the plan's process up to its ready point; what it holds there, and its name there. */
    static Object[] atReady(Plan plan) throws Exception {
        try (ExecutorSession s = ExecutorSession.start(plan)) {
            int pid = s.awaitPid();
            s.go();
            s.awaitReady();
            List<String> held = procfsRoots(pid);
            String comm = Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
            s.commit();
            int exit = s.awaitExit();
            return new Object[] {held, comm, exit};
        }
    }

    @Test
    void theProcfsOfALabelWriteIsHeldNeitherBeforeNorAfterTheWrite() throws Exception {
        // the write after the ready point: before it, nothing of that procfs may be open
        Object[] before = atReady(new Plan().mode(false).clone(0).ready().lsmExec("/proc/self/comm", "", NAME)
                .exec(List.of("/bin/true")));
        assertThat(before[2]).as("the process wrote its label and exec'd").isEqualTo(0);
        assertThat(before[1]).as("not written yet at the ready point").isNotEqualTo(NAME);
        assertThat((List<?>) before[0]).as("procfs roots held before the label write").isEmpty();

        // the write before the ready point: written there, and its procfs closed already
        Object[] after = atReady(new Plan().mode(false).clone(0).lsmExec("/proc/self/comm", "", NAME).ready()
                .exec(List.of("/bin/true")));
        assertThat(after[2]).isEqualTo(0);
        assertThat(after[1]).as("the label write went through").isEqualTo(NAME);
        assertThat((List<?>) after[0]).as("procfs roots held after the label write").isEmpty();
    }
}
