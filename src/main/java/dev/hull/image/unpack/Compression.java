package dev.hull.image.unpack;

import io.airlift.compress.v3.zstd.ZstdInputStream;
import io.airlift.compress.v3.zstd.ZstdOutputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** How a layer blob is compressed, told apart by its magic bytes (media types lie often enough). */
public enum Compression {
    NONE, GZIP, ZSTD;

    private static final int BUFFER = 64 * 1024;

    /**
     * Sniffs magic bytes (gzip 1f 8b, zstd 28 b5 2f fd), else NONE. Leaves the stream where it was
     * (mark/reset, which BufferedInputStream supports).
     */
    public static Compression detect(BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        return detect(magic);
    }

    /** What the first bytes of a blob (up to 4) say it is compressed with. */
    public static Compression detect(byte[] magic) {
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return GZIP;
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return ZSTD;
        }
        return NONE;
    }

    /** The content of raw, decompressed if its magic bytes say gzip or zstd; closing it closes raw. */
    public static InputStream decompressAny(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, BUFFER);
        return detect(in).decompress(in);
    }

    /** The uncompressed content of in; closing it closes in. */
    public InputStream decompress(InputStream in) throws IOException {
        return switch (this) {
            case NONE -> in;
            case GZIP -> new GZIPInputStream(in, BUFFER);
            case ZSTD -> new ZstdInputStream(in);
        };
    }

    /** A stream that compresses into out; closing it finishes the compressed data and closes out. */
    public OutputStream compress(OutputStream out) throws IOException {
        return switch (this) {
            case NONE -> out;
            case GZIP -> new GZIPOutputStream(out, BUFFER);
            case ZSTD -> new ZstdOutputStream(out);
        };
    }
}
