package dev.hull.image;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content digest, {@code algorithm:hex}, as the OCI image spec defines it.
 * Only sha256 and sha512 are accepted; the hex part is checked for length
 * and case, so a digest can be used as a file name without further checks.
 */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]+");

    public Digest {
        int len = switch (algorithm) {
            case "sha256" -> 64;
            case "sha512" -> 128;
            default -> throw new IllegalArgumentException("unsupported digest algorithm \"" + algorithm
                    + "\" (sha256 and sha512 are supported)");
        };
        if (hex.length() != len || !HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("malformed " + algorithm + " digest \"" + hex + "\": want " + len
                    + " lowercase hex digits");
        }
    }

    /** Parses "sha256:abc…"; throws IllegalArgumentException with a message naming the text. */
    public static Digest parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("missing digest");
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("malformed digest \"" + text + "\": want algorithm:hex");
        }
        return new Digest(text.substring(0, colon), text.substring(colon + 1));
    }

    public static Digest sha256(byte[] data) {
        return new Digest("sha256", HexFormat.of().formatHex(sha256().digest(data)));
    }

    public static Digest of(String algorithm, MessageDigest md) {
        return new Digest(algorithm, HexFormat.of().formatHex(md.digest()));
    }

    /** A fresh SHA-256 hasher. */
    public static MessageDigest sha256() {
        return hasher("sha256");
    }

    /** A fresh hasher for this digest's algorithm. */
    public MessageDigest newHasher() {
        return hasher(algorithm);
    }

    private static MessageDigest hasher(String algorithm) {
        if (algorithm.equals("sha256")) {
            return dev.hull.linux.Sha256.newDigest();
        }
        try {
            return MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first 12 hex digits, as docker shows image ids. */
    public String shortHex() {
        return hex.substring(0, 12);
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }

    @Override
    public int compareTo(Digest o) {
        return toString().compareTo(o.toString());
    }
}
