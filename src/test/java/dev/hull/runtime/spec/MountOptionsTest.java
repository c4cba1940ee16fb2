package dev.hull.runtime.spec;

import static dev.hull.runtime.spec.MountOptions.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MountOptionsTest {
    @Test
    void kernelConstants() {
        assertThat(List.of(MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_SYNCHRONOUS, MS_REMOUNT, MS_MANDLOCK,
                MS_DIRSYNC, MS_NOSYMFOLLOW, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_MOVE, MS_REC, MS_SILENT))
                .containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L, 1024L, 2048L, 4096L, 8192L, 16384L, 32768L);
        assertThat(List.of(MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_RELATIME, MS_I_VERSION, MS_STRICTATIME, MS_LAZYTIME))
                .containsExactly(131072L, 262144L, 524288L, 1048576L, 2097152L, 8388608L, 16777216L, 33554432L);
    }

    /** options (space-separated) | flags | clearFlags | propagation | bind | rbind | data */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', emptyValue = "", textBlock = """
            ro                                   | 1        | 0     | 0        | false | false | ''
            rw                                   | 0        | 1     | 0        | false | false | ''
            ro rw                                | 0        | 1     | 0        | false | false | ''
            rw ro                                | 1        | 0     | 0        | false | false | ''
            nosuid nodev noexec                  | 14       | 0     | 0        | false | false | ''
            suid dev exec                        | 0        | 14    | 0        | false | false | ''
            sync                                 | 16       | 0     | 0        | false | false | ''
            async                                | 0        | 16    | 0        | false | false | ''
            remount ro                           | 33       | 0     | 0        | false | false | ''
            mand                                 | 64       | 0     | 0        | false | false | ''
            nomand                               | 0        | 64    | 0        | false | false | ''
            dirsync                              | 128      | 0     | 0        | false | false | ''
            nosymfollow                          | 256      | 0     | 0        | false | false | ''
            symfollow                            | 0        | 256   | 0        | false | false | ''
            noatime nodiratime                   | 3072     | 0     | 0        | false | false | ''
            atime diratime                       | 0        | 3072  | 0        | false | false | ''
            relatime                             | 2097152  | 0     | 0        | false | false | ''
            norelatime                           | 0        | 2097152 | 0      | false | false | ''
            strictatime                          | 16777216 | 0     | 0        | false | false | ''
            nostrictatime                        | 0        | 16777216 | 0     | false | false | ''
            lazytime                             | 33554432 | 0     | 0        | false | false | ''
            nolazytime                           | 0        | 33554432 | 0     | false | false | ''
            silent                               | 32768    | 0     | 0        | false | false | ''
            loud                                 | 0        | 32768 | 0        | false | false | ''
            iversion                             | 8388608  | 0     | 0        | false | false | ''
            noiversion                           | 0        | 8388608 | 0      | false | false | ''
            bind                                 | 4096     | 0     | 0        | true  | false | ''
            rbind                                | 20480    | 0     | 0        | true  | true  | ''
            rbind bind                           | 4096     | 0     | 0        | true  | false | ''
            private                              | 0        | 0     | 262144   | false | false | ''
            rprivate                             | 0        | 0     | 278528   | false | false | ''
            shared                               | 0        | 0     | 1048576  | false | false | ''
            rshared                              | 0        | 0     | 1064960  | false | false | ''
            slave                                | 0        | 0     | 524288   | false | false | ''
            rslave                               | 0        | 0     | 540672   | false | false | ''
            unbindable                           | 0        | 0     | 131072   | false | false | ''
            runbindable                          | 0        | 0     | 147456   | false | false | ''
            shared rprivate                      | 0        | 0     | 278528   | false | false | ''
            defaults                             | 0        | 0     | 0        | false | false | ''
            nosuid strictatime mode=755 size=65536k | 16777218 | 0  | 0        | false | false | mode=755,size=65536k
            nosuid noexec newinstance ptmxmode=0666 mode=0620 gid=5 | 10 | 0 | 0 | false | false | newinstance,ptmxmode=0666,mode=0620,gid=5
            rbind nosuid noexec nodev ro         | 20495    | 0     | 0        | true  | true  | ''
            bind ro rslave                       | 4097     | 0     | 540672   | true  | false | ''
            rro lowerdir=/a                      | 0        | 0     | 0        | false | false | 'rro,lowerdir=/a'
            """)
    void optionsToFlags(String options, long flags, long clear, long propagation, boolean bind, boolean rbind, String data) {
        Parsed p = MountOptions.parse(Arrays.asList(options.trim().split("\\s+")));
        assertThat(p.flags()).as("flags").isEqualTo(flags);
        assertThat(p.clearFlags()).as("clearFlags").isEqualTo(clear);
        assertThat(p.propagationFlags()).as("propagation").isEqualTo(propagation);
        assertThat(p.bind()).as("bind").isEqualTo(bind);
        assertThat(p.recursiveBind()).as("rbind").isEqualTo(rbind);
        assertThat(p.data()).as("data").isEqualTo(data);
    }

    @Test
    void extensionsAreAcceptedAndFlagged() {
        Parsed p = MountOptions.parse(List.of("tmpcopyup", "ridmap"));
        assertThat(p.tmpcopyup()).isTrue();
        assertThat(p.idmap()).isTrue();
        assertThat(p.recursiveIdmap()).isTrue();
        assertThat(p.data()).isEmpty();
        assertThat(p.flags()).isZero();
        Parsed none = MountOptions.parse(null);
        assertThat(none).isEqualTo(new Parsed(0, 0, 0, false, false, "", false, false, false));
        assertThat(MountOptions.parse(List.of("idmap")).recursiveIdmap()).isFalse();
    }

    @Test
    void knownIsSortedAndComplete() {
        assertThat(MountOptions.known()).isSorted().doesNotHaveDuplicates().containsAll(List.of(
                "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "sync", "async", "dirsync",
                "remount", "mand", "nomand", "atime", "noatime", "diratime", "nodiratime", "relatime",
                "norelatime", "strictatime", "nostrictatime", "lazytime", "nolazytime", "bind", "rbind",
                "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
                "silent", "loud", "iversion", "noiversion", "defaults", "tmpcopyup", "idmap", "ridmap"));
        assertThat(MountOptions.known()).doesNotContain("rro", "mode=755");
    }
}
