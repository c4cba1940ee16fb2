package dev.hull.disk;

import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A disk's own key, wrapped (AES-256-GCM) by a key-encryption key derived from a key file
 * (HMAC-SHA256 of a fixed label, keyed with the file's bytes). Only the wrapped form is stored; a
 * wrong key file fails the GCM tag and is refused by name.
 */
final class KeyWrap {
    /** fscrypt's v2 master keys for AES-256-XTS are 64 bytes. */
    static final int DISK_KEY_SIZE = 64;
    private static final int MIN_KEY_FILE = 32, NONCE = 12, MAX_KEY_FILE = 1 << 20;
    private static final byte[] LABEL = "hull disk key-encryption key v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private KeyWrap() {}

    /** A wrapped key: the GCM nonce and the ciphertext with its tag. */
    record Wrapped(byte[] nonce, byte[] sealed) {}

    static byte[] newDiskKey() {
        byte[] k = new byte[DISK_KEY_SIZE];
        new SecureRandom().nextBytes(k);
        return k;
    }

    static Wrapped wrap(byte[] diskKey, Path keyFile, byte[] aad) throws IOException, RuntimeError {
        byte[] nonce = new byte[NONCE];
        new SecureRandom().nextBytes(nonce);
        try {
            Cipher c = cipher(Cipher.ENCRYPT_MODE, keyFile, nonce);
            c.updateAAD(aad);
            return new Wrapped(nonce, c.doFinal(diskKey));
        } catch (GeneralSecurityException e) {
            throw new IOException("wrapping the disk key: " + e.getMessage(), e);
        }
    }

    static byte[] unwrap(Wrapped w, Path keyFile, byte[] aad, String disk) throws IOException, RuntimeError {
        try {
            Cipher c = cipher(Cipher.DECRYPT_MODE, keyFile, w.nonce());
            c.updateAAD(aad);
            return c.doFinal(w.sealed());
        } catch (AEADBadTagException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "wrong key for " + disk + ": " + keyFile
                    + " is not the key file it was encrypted with");
        } catch (GeneralSecurityException e) {
            throw new IOException("unwrapping the disk key: " + e.getMessage(), e);
        }
    }

    private static Cipher cipher(int mode, Path keyFile, byte[] nonce) throws IOException, RuntimeError,
            GeneralSecurityException {
        if (!Files.isRegularFile(keyFile)) { // a fifo or a device (/dev/zero) would block or never end
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "key file " + keyFile + " is not a regular file");
        }
        if (Files.size(keyFile) > MAX_KEY_FILE) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "key file " + keyFile + " is larger than "
                    + MAX_KEY_FILE + " bytes: a key file holds 32 or more random bytes");
        }
        byte[] secret = Files.readAllBytes(keyFile);
        if (secret.length < MIN_KEY_FILE) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "key file " + keyFile + " has " + secret.length
                    + " bytes: use 32 or more random bytes (e.g. head -c 32 /dev/urandom > " + keyFile + ")");
        }
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        byte[] kek = mac.doFinal(LABEL);
        Arrays.fill(secret, (byte) 0);
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
        Arrays.fill(kek, (byte) 0);
        return c;
    }
}
