package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The pseudo networks' ids, computed once a name, are the sha256 of "hull network NAME" as before. */
class NetworkPseudoIdTest {
    @Test
    void idsAreTheDigestOfTheName() throws Exception {
        String want = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest("hull network none".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(NetworkInspector.pseudoId("none")).isEqualTo(want).isEqualTo(NetworkInspector.pseudoId("none"));
        assertThat(NetworkInspector.pseudo("none").path("Id").asText()).isEqualTo(want);
        assertThat(NetworkInspector.pseudoId("host")).isNotEqualTo(want).hasSize(64);
    }
}
