package dev.hull.image.unpack;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * Unpacks OCI/docker image layers (tar, gzip- or zstd-compressed or not) into overlayfs diff
 * directories, refusing hostile layers: see {@link #unpack} and {@link LayerExtraction}.
 */
public final class LayerUnpacker {
    private final boolean root;

    /**
     * @param root whether the process has root's powers (euid 0): then ownership, device nodes,
     *     whiteouts, opaque markers and trusted.* xattrs are applied; otherwise ownership is left to
     *     the process, device nodes are skipped (counted, and reported on stderr), xattrs other than
     *     user.* are skipped, and a layer with whiteouts is refused.
     */
    public LayerUnpacker(boolean root) {
        this.root = root;
    }

    /**
     * Unpacks one layer into the empty directory target, in overlayfs diff format: a whiteout
     * ".wh.NAME" becomes a 0:0 character device NAME, ".wh..wh..opq" sets trusted.overlay.opaque="y"
     * on its directory.
     *
     * @param layer the layer blob; compression is told from its magic bytes; not closed
     * @param what the layer's name for messages, e.g. "image docker.io/library/x:1 layer sha256:abcd…"
     * @return the diff_id (sha256 of the whole uncompressed tar stream, end blocks and padding included),
     *     the uncompressed size and the number of tar entries
     * @throws LayerException when the layer is corrupt, hostile or over limits; nothing outside target
     *     has been touched, and target may hold partial content (the caller deletes it)
     */
    public Result unpack(InputStream layer, Path target, UnpackLimits limits, String what) throws IOException {
        return new LayerExtraction(root, target, limits, what).run(layer);
    }

    /** What {@link #unpack} did: diffId is "sha256:" and 64 hex digits. */
    public record Result(String diffId, long uncompressedBytes, long entries) {}
}
