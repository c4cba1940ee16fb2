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
 * A disk's own key, wrapped (AES-256-GCM) by a key-encryption key: from a key file or a keyring
 * key, HMAC-SHA256 of a fixed label keyed with its bytes; from a passphrase, PBKDF2-HMAC-SHA256
 * (600,000 rounds, OWASP's figure) salted with the label and the wrap's nonce ({@link KeySources}).
 * Only the wrapped form is stored; a wrong key fails the GCM tag and is refused by name.
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
            Cipher c = cipher(Cipher.ENCRYPT_MODE, keyFile, nonce, true);
            c.updateAAD(aad);
            return new Wrapped(nonce, c.doFinal(diskKey));
        } catch (GeneralSecurityException e) {
            throw new IOException("wrapping the disk key: " + e.getMessage(), e);
        }
    }

    static byte[] unwrap(Wrapped w, Path keyFile, byte[] aad, String disk) throws IOException, RuntimeError {
        try {
            Cipher c = cipher(Cipher.DECRYPT_MODE, keyFile, w.nonce(), false);
            c.updateAAD(aad);
            return c.doFinal(w.sealed());
        } catch (AEADBadTagException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "wrong key for " + disk + ": " + (
                    keyFile.toString().equals(KeySources.PASSPHRASE) ? "not the passphrase"
                    : keyFile.toString().startsWith(KeySources.KEYRING) ? "the keyring's " + keyFile + " is not the key"
                    : keyFile + " is not the key file") + " it was encrypted with");
        } catch (GeneralSecurityException e) {
            throw new IOException("unwrapping the disk key: " + e.getMessage(), e);
        }
    }

    private static Cipher cipher(int mode, Path keyFile, byte[] nonce, boolean making) throws IOException,
            RuntimeError, GeneralSecurityException {
        byte[] kek;
        String v = keyFile.toString();
        if (v.equals(KeySources.PASSPHRASE)) {
            kek = fromPassphrase(nonce, making);
        } else {
            byte[] secret = v.startsWith(KeySources.KEYRING) ? fromKeyring(v.substring(KeySources.KEYRING.length()))
                    : fromFile(keyFile);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            kek = mac.doFinal(LABEL);
            Arrays.fill(secret, (byte) 0);
        }
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
        Arrays.fill(kek, (byte) 0);
        return c;
    }

    /** PBKDF2 rounds for a passphrase (OWASP's figure for PBKDF2-HMAC-SHA256). */
    static final int PASSPHRASE_ROUNDS = 600_000;

    /**
     * The passphrase typed in this process (a command asking for one runs in a process of its own:
     * one that makes a volume wraps the key and unwraps it again after the move into place).
     */
    private static char[] typed;

    private static synchronized byte[] fromPassphrase(byte[] nonce, boolean making) throws RuntimeError,
            GeneralSecurityException {
        java.io.Console console = System.console();
        if (KeySources.service()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--key-file passphrase: Hull's service has no terminal"
                    + " of yours to ask on (the hull CLI asks on yours; in scripts use a key file or keyring:NAME)");
        }
        if (typed != null) {
            return stretch(typed, nonce);
        }
        if (console == null) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--key-file passphrase: no terminal to type it on"
                    + " (use a key file or keyring:NAME in scripts)");
        }
        char[] p = console.readPassword("Passphrase for the disk's key: ");
        if (p == null || p.length == 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--key-file passphrase: an empty passphrase");
        }
        try {
            if (making) {
                if (p.length < 8) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--key-file passphrase: use 8 or more"
                            + " characters");
                }
                char[] again = console.readPassword("The same passphrase again: ");
                boolean same = again != null && Arrays.equals(p, again);
                if (again != null) {
                    Arrays.fill(again, '\0');
                }
                if (!same) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--key-file passphrase: the two differ");
                }
            }
            byte[] kek = stretch(p, nonce);
            typed = p.clone();
            return kek;
        } finally {
            Arrays.fill(p, '\0');
        }
    }

    /** PBKDF2-HMAC-SHA256 of the passphrase, salted with the label and the wrap's nonce. */
    private static byte[] stretch(char[] p, byte[] nonce) throws GeneralSecurityException {
        byte[] salt = Arrays.copyOf(LABEL, LABEL.length + nonce.length);
        System.arraycopy(nonce, 0, salt, LABEL.length, nonce.length);
        javax.crypto.spec.PBEKeySpec spec = new javax.crypto.spec.PBEKeySpec(p, salt, PASSPHRASE_ROUNDS, 256);
        try {
            return javax.crypto.SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } finally {
            spec.clearPassword();
        }
    }

    private static byte[] fromKeyring(String name) throws RuntimeError {
        byte[] secret;
        try {
            secret = dev.hull.linux.Keyring.readUserKey(name);
        } catch (dev.hull.linux.LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--key-file keyring:" + name + ": " + switch (
                    e.errno()) {
                case dev.hull.linux.Errno.ENOKEY -> "root's user keyring has no user key " + name + " (add it: keyctl"
                        + " add user " + name + " \"$(head -c 32 /dev/urandom | base64)\" @u)";
                case dev.hull.linux.Errno.EACCES -> "the key " + name + " may not be read by root's processes (keyctl"
                        + " setperm ID 0x3f3f0000 grants the user read)";
                case dev.hull.linux.Errno.EKEYEXPIRED, dev.hull.linux.Errno.EKEYREVOKED -> "the key " + name
                        + " has expired or was revoked";
                default -> e.getMessage();
            });
        }
        if (secret.length < MIN_KEY_FILE) {
            Arrays.fill(secret, (byte) 0);
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--key-file keyring:" + name + ": the key has "
                    + secret.length + " bytes: use 32 or more random bytes");
        }
        return secret;
    }

    private static byte[] fromFile(Path keyFile) throws IOException, RuntimeError {
        // opened with the caller's rights (a warm caller other than root reads only what it may); a
        // fifo or a device is refused before it is read (the open does not block)
        try (dev.hull.runtime.CallerFiles.Opened o = dev.hull.runtime.CallerFiles.openRead(keyFile, "key file")) {
            return fromFile(keyFile, o.path());
        } catch (dev.hull.linux.LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "key file " + keyFile + ": " + e.getMessage());
        } catch (IOException e) {
            if (e instanceof java.nio.file.NoSuchFileException) {
                throw e;
            }
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
    }

    private static byte[] fromFile(Path keyFile, Path at) throws IOException, RuntimeError {
        if (!Files.isRegularFile(at)) { // a fifo or a device (/dev/zero) would block or never end
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "key file " + keyFile + " is not a regular file");
        }
        if (Files.size(at) > MAX_KEY_FILE) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "key file " + keyFile + " is larger than "
                    + MAX_KEY_FILE + " bytes: a key file holds 32 or more random bytes");
        }
        byte[] secret = Files.readAllBytes(at);
        if (secret.length < MIN_KEY_FILE) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "key file " + keyFile + " has " + secret.length
                    + " bytes: use 32 or more random bytes (e.g. head -c 32 /dev/urandom > " + keyFile + ")");
        }
        return secret;
    }
}
