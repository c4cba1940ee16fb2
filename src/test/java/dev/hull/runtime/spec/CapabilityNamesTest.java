package dev.hull.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written capability table matches the kernel header installed here. */
class CapabilityNamesTest {
    static final Path HEADER = Path.of("/usr/include/linux/capability.h");

    @Test
    void matchesLinuxCapabilityHeader() throws Exception {
        assumeThat(HEADER).as("the kernel headers (linux-libc-dev) are installed").exists();
        Pattern def = Pattern.compile("^#define\\s+(CAP_[A-Z_]+)\\s+(\\d+)\\s*$");
        List<String> fromHeader = new ArrayList<>();
        for (String line : Files.readAllLines(HEADER)) {
            Matcher m = def.matcher(line);
            if (m.matches()) {
                assertThat(Integer.parseInt(m.group(2))).as(m.group(1)).isEqualTo(fromHeader.size());
                fromHeader.add(m.group(1));
            }
        }
        assertThat(fromHeader).hasSizeGreaterThanOrEqualTo(41);
        assertThat(CapabilityNames.NAMES).isEqualTo(fromHeader.subList(0, CapabilityNames.NAMES.size()));
        assertThat(CapabilityNames.NAMES).hasSize(41).endsWith("CAP_CHECKPOINT_RESTORE");
    }

    @Test
    void numbersAndNames() {
        assertThat(CapabilityNames.number("CAP_CHOWN")).isZero();
        assertThat(CapabilityNames.number("CAP_SYS_ADMIN")).isEqualTo(21);
        assertThat(CapabilityNames.number("CAP_CHECKPOINT_RESTORE")).isEqualTo(40);
        assertThat(CapabilityNames.number("CAP_FLY")).isEqualTo(-1);
        assertThat(CapabilityNames.name(24)).isEqualTo("CAP_SYS_RESOURCE");
        assertThat(CapabilityNames.name(50)).isEqualTo("CAP_50");
    }
}
