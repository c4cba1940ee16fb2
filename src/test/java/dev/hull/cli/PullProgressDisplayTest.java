package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.MediaTypes;
import dev.hull.image.registry.PullProgress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PullProgressDisplayTest {
    private static final Descriptor A = new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(new byte[] {1}), 45_600_000);
    private static final Descriptor B = new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(new byte[] {2}), 10);

    @Test
    void plainOutputHasOnlyStartAndDoneLines() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressDisplay d = new ProgressDisplay(new PrintStream(bytes, true, StandardCharsets.UTF_8), false,
                "Downloading", "Pulling fs layer");
        d.started(A, A.parsedDigest().shortHex());
        d.progress(A, 100, A.size());
        d.done(A, PullProgress.PULL_COMPLETE);
        String out = bytes.toString(StandardCharsets.UTF_8);
        String id = A.parsedDigest().shortHex();
        assertThat(out).isEqualTo(id + ": Pulling fs layer\n" + id + ": Pull complete\n");
    }

    @Test
    void terminalOutputRedrawsOneLinePerLayer() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressDisplay d = new ProgressDisplay(new PrintStream(bytes, true, StandardCharsets.UTF_8), true,
                "Downloading", "Pulling fs layer");
        d.started(A, A.parsedDigest().shortHex());
        d.started(B, B.parsedDigest().shortHex());
        d.done(B, PullProgress.ALREADY_EXISTS);
        d.progress(A, 12_300_000, A.size());
        assertThat(d.lines()).hasSize(2);
        assertThat(d.lines().get(1)).endsWith(": Already exists");
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("\u001b[2A");
        assertThat(ProgressDisplay.bar(12_300_000, 45_600_000)).startsWith("[=============>").endsWith("12.3MB/45.6MB");
    }
}
