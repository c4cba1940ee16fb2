package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull diff and hull commit on the copy snapshotter (HULL_SNAPSHOTTER=copy, issue 16): the container's
 * copy compared with its image's layers gives the same changes the overlay's upper directory gives
 * (an added, a changed and a deleted file, their directories modified), and the committed image shows
 * all three; with a user namespace (the copy shifted into its range) the owners are the container's.
 */
class CommitCopyTest {
    /** An added file (given an owner of its own), a changed one, a deleted one. */
    static final String SCRIPT = "echo new > /added; chown 123:456 /added; echo changed >> /etc/passwd; rm /etc/group";
    static final String CHANGES = "A /added\nC /etc\nD /etc/group\nC /etc/passwd\n";
    static final String CHECK = "cat /added; stat -c %u:%g /added /etc/passwd; tail -n 1 /etc/passwd;"
            + " test -e /etc/group || echo no group";
    static HullCommand copy;
    static HullCommand overlay;

    @BeforeAll
    static void setUp() throws Exception {
        copy = HullCommand.inTraversableDir("hull-commit-copy-", Map.of("HULL_SNAPSHOTTER", "copy"));
        overlay = HullCommand.inTraversableDir("hull-commit-overlay-", Map.of("HULL_SNAPSHOTTER", "overlay"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        HullCommand.removeAll(copy);
        HullCommand.removeAll(overlay);
    }

    @Test
    void diffListsWhatTheOverlayListsAndCommitKeepsIt() throws Exception {
        copy.ok("run", "--name", "ccopy", "--network", "none", "busybox", "sh", "-c", SCRIPT);
        overlay.ok("run", "--name", "ccopy-ov", "--network", "none", "busybox", "sh", "-c", SCRIPT);
        assertThat(overlay.ok("diff", "ccopy-ov").out()).as("the overlay's, for reference").isEqualTo(CHANGES);
        assertThat(copy.ok("diff", "ccopy").out()).as("the copy's: the same, no runtime mount points")
                .isEqualTo(CHANGES);
        copy.ok("commit", "ccopy", "ccopy:1");
        assertThat(copy.ok("run", "--rm", "--network", "none", "ccopy:1", "sh", "-c", CHECK).out())
                .isEqualTo("new\n123:456\n0:0\nchanged\nno group\n");
        assertThat(copy.ok("image", "inspect", "-f", "{{len .RootFS.Layers}}", "ccopy:1").out().strip())
                .as("one layer on busybox's").isEqualTo("2");
        copy.ok("run", "--name", "ccopy-2", "--network", "none", "ccopy:1", "true");
        assertThat(copy.ok("diff", "ccopy-2").out()).as("a container of the committed image: nothing changed yet")
                .isEmpty();
    }

    @Test
    void aUserNamespacesShiftedCopyIsCommittedWithTheContainersOwners() throws Exception {
        copy.ok("run", "--name", "ccopy-userns", "--network", "none", "--userns=auto", "busybox", "sh", "-c", SCRIPT);
        assertThat(copy.ok("diff", "ccopy-userns").out()).as("the shift of the copy is no change").isEqualTo(CHANGES);
        copy.ok("commit", "ccopy-userns", "ccopy-userns:1");
        assertThat(copy.ok("run", "--rm", "--network", "none", "ccopy-userns:1", "sh", "-c", CHECK).out())
                .as("owners as the container saw them, not its range's host ids")
                .isEqualTo("new\n123:456\n0:0\nchanged\nno group\n");
    }
}
