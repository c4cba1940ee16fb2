package dev.hull.runtime.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanTest {
    @Test
    void encodesHeaderOpsStringsAndIntegersLittleEndian() {
        Plan p = new Plan().mode(true).clone(0x20000L).sethostname("box").exec(List.of("/bin/true"));
        ByteBuffer b = ByteBuffer.wrap(p.encode()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt()).isEqualTo(Plan.MAGIC);
        assertThat(b.getInt()).isEqualTo(Plan.VERSION);
        assertThat(b.getInt()).isEqualTo(b.remaining());
        // mode(1)
        assertThat(b.getInt()).isEqualTo(Plan.OP_MODE);
        assertThat(b.getInt()).isEqualTo(1);
        assertThat(b.getInt()).isEqualTo(8);
        assertThat(b.getLong()).isEqualTo(1L);
        // clone(flags)
        assertThat(b.getInt()).isEqualTo(Plan.OP_CLONE);
        assertThat(b.getInt()).isEqualTo(1);
        assertThat(b.getInt()).isEqualTo(8);
        assertThat(b.getLong()).isEqualTo(0x20000L);
        // sethostname("box") with its NUL
        assertThat(b.getInt()).isEqualTo(Plan.OP_SETHOSTNAME);
        assertThat(b.getInt()).isEqualTo(1);
        assertThat(b.getInt()).isEqualTo(4);
        byte[] s = new byte[4];
        b.get(s);
        assertThat(s).containsExactly('b', 'o', 'x', 0);
        assertThat(b.getInt()).isEqualTo(Plan.OP_EXEC);
    }

    @Test
    void childOpsBeforeCloneAndParentOpsAfterAreRejected() {
        assertThatThrownBy(() -> new Plan().sethostname("x")).hasMessageContaining("after clone");
        assertThatThrownBy(() -> new Plan().clone(0).setns("/proc/1/ns/net", 0))
                .hasMessageContaining("before clone");
        assertThatThrownBy(() -> new Plan().clone(0).clone(0)).hasMessageContaining("clone twice");
    }

    @Test
    void stringsWithNulCannotBeSmuggledIn() {
        Plan p = new Plan().clone(0).sethostname("a\0b");
        assertThatThrownBy(p::encode).hasMessageContaining("NUL");
    }
}
