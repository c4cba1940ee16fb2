package dev.hull.engine.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** docker's -p and --expose forms, and the errors for the rest (pure parsing). */
class PortSpecTest {

    @Test
    void everyPublishForm() {
        assertThat(PortSpec.parse("80")).containsExactly(new PortSpec("tcp", null, 0, 80));
        assertThat(PortSpec.parse("8080:80")).containsExactly(new PortSpec("tcp", null, 8080, 80));
        assertThat(PortSpec.parse("53:53/UDP")).containsExactly(new PortSpec("udp", null, 53, 53));
        assertThat(PortSpec.parse("127.0.0.1:8080:80")).containsExactly(new PortSpec("tcp", "127.0.0.1", 8080, 80));
        assertThat(PortSpec.parse("127.0.0.1::80")).containsExactly(new PortSpec("tcp", "127.0.0.1", 0, 80));
        assertThat(PortSpec.parse("0.0.0.0:8080:80")).containsExactly(new PortSpec("tcp", null, 8080, 80));
        assertThat(PortSpec.parse("8000-8002:80-82/udp")).containsExactly(new PortSpec("udp", null, 8000, 80),
                new PortSpec("udp", null, 8001, 81), new PortSpec("udp", null, 8002, 82));
        assertThat(PortSpec.parse("80-81")).containsExactly(new PortSpec("tcp", null, 0, 80),
                new PortSpec("tcp", null, 0, 81));
    }

    @Test
    void badPublishFormsSayWhat() {
        assertThatThrownBy(() -> PortSpec.parse("99999:80")).hasMessage(
                "-p 99999:80: host port 99999: a number from 1 to 65535");
        assertThatThrownBy(() -> PortSpec.parse("80/sctp")).hasMessageContaining("protocol sctp: use tcp or udp");
        assertThatThrownBy(() -> PortSpec.parse("8000-8002:80-81")).hasMessageContaining("differ in size");
        assertThatThrownBy(() -> PortSpec.parse("90-80")).hasMessageContaining("ends before it starts");
        assertThatThrownBy(() -> PortSpec.parse("a.b.c.d:80:80")).hasMessageContaining("not an IPv4 address");
        assertThatThrownBy(() -> PortSpec.parse("1:2:3:4")).hasMessageContaining("use [HOST_IP:][HOST_PORT:]");
        assertThatThrownBy(() -> PortSpec.parse("")).hasMessageContaining("container port");
    }

    @Test
    void exposedPortsAndRanges() {
        assertThat(PortSpec.exposed("80/tcp")).containsExactly(new PortSpec("tcp", null, 0, 80));
        assertThat(PortSpec.exposed("53/udp")).containsExactly(new PortSpec("udp", null, 0, 53));
        assertThat(PortSpec.exposed("7000-7002")).extracting(PortSpec::containerPort).isEqualTo(List.of(7000, 7001, 7002));
        assertThatThrownBy(() -> PortSpec.exposed("7003-7002")).hasMessageStartingWith("--expose 7003-7002");
        assertThatThrownBy(() -> PortSpec.exposed("x")).hasMessageStartingWith("--expose x");
    }
}
