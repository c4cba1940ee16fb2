package dev.hull.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The libcrypto-backed SHA-256 gives the JDK's digests, whatever way the data arrives. */
class Sha256Test {
    @Test
    void libcryptoIsUsedOnThisHost() {
        // Debian's libssl3 is on every machine Hull's tests run on; without it Hull falls back to the JDK
        assertThat(Sha256.isNative()).as("libcrypto.so.3 found").isTrue();
        assertThat(Sha256.newDigest().getClass().getName()).contains("OpenSsl");
    }

    @Test
    void matchesTheJdkForEverySizeOffsetAndWayOfFeeding() throws Exception {
        Random r = new Random(7);
        for (int size : new int[] {0, 1, 55, 56, 63, 64, 65, 4096, 65_537, 3 << 20}) {
            byte[] data = new byte[size + 10];
            r.nextBytes(data);
            MessageDigest jdk = MessageDigest.getInstance("SHA-256");
            jdk.update(data, 5, size);
            byte[] want = jdk.digest();
            MessageDigest ours = Sha256.newDigest();
            ours.update(data, 5, size);
            assertThat(ours.digest()).as("size %d", size).isEqualTo(want);
            // after digest() it is reset: byte by byte, then in odd chunks, then via a direct ByteBuffer
            for (int i = 5; i < 5 + Math.min(size, 300); i++) {
                ours.update(data[i]);
            }
            if (size > 300) {
                for (int off = 305; off < 5 + size; off += 7919) {
                    ours.update(data, off, Math.min(7919, 5 + size - off));
                }
            }
            assertThat(ours.digest()).isEqualTo(want);
            ByteBuffer direct = ByteBuffer.allocateDirect(size);
            direct.put(data, 5, size).flip();
            ours.update(direct);
            assertThat(ours.digest()).isEqualTo(want);
        }
        MessageDigest reset = Sha256.newDigest();
        reset.update(new byte[] {1, 2, 3});
        reset.reset();
        assertThat(reset.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest());
    }
}
