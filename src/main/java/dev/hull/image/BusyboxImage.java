package dev.hull.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * The built-in {@code busybox} image, made locally from Debian's static busybox
 * (no registry needed): one gzip layer holding the binary, a symlink per
 * applet, and the few files a container expects; an OCI config running
 * {@code sh}; an OCI manifest. Deterministic: the same busybox binary always
 * gives the same image id, so every machine agrees on it.
 */
public final class BusyboxImage {
    public static final String NAME = "docker.io/library/busybox:latest";

    private BusyboxImage() {}

    /** True for the names that mean the built-in image. */
    public static boolean isBuiltinName(String text) {
        try {
            return Reference.parse(text).toString().equals(NAME);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Builds the image into store (blobs and metadata) and returns its record. */
    public static ImageRecord build(ImageStore store) throws IOException {
        Path bin = BusyboxRootfs.HOST_BUSYBOX;
        if (!BusyboxRootfs.isStaticBusybox(bin)) {
            throw new IOException(bin + " is missing or not statically linked: install Debian's busybox-static"
                    + " (apt-get install busybox-static)");
        }
        long mtime = Files.getLastModifiedTime(bin).toMillis() / 1000;
        ByteArrayOutputStream tar = new ByteArrayOutputStream(4 << 20);
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(tar)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            java.util.Set<String> dirs = new java.util.LinkedHashSet<>();
            for (String d : BusyboxRootfs.DIRS) {
                for (int slash = d.indexOf('/'); slash > 0; slash = d.indexOf('/', slash + 1)) {
                    dirs.add(d.substring(0, slash) + "/");
                }
                dirs.add(d + "/");
            }
            for (String d : dirs) {
                dir(out, d, 0755, mtime);
            }
            dir(out, "tmp/", 01777, mtime);
            file(out, "bin/busybox", Files.readAllBytes(bin), 0755, mtime);
            for (String applet : BusyboxRootfs.applets()) {
                if (!applet.equals("bin/busybox")) {
                    TarArchiveEntry e = new TarArchiveEntry(applet, TarConstants.LF_SYMLINK);
                    e.setLinkName("/bin/busybox");
                    e.setModTime(mtime * 1000);
                    out.putArchiveEntry(e);
                    out.closeArchiveEntry();
                }
            }
            file(out, "etc/passwd", BusyboxRootfs.PASSWD.getBytes(StandardCharsets.UTF_8), 0644, mtime);
            file(out, "etc/group", BusyboxRootfs.GROUP.getBytes(StandardCharsets.UTF_8), 0644, mtime);
            file(out, "etc/hosts", BusyboxRootfs.HOSTS.getBytes(StandardCharsets.UTF_8), 0644, mtime);
        }
        byte[] plain = tar.toByteArray();
        Digest diffId = Digest.sha256(plain);
        ByteArrayOutputStream gz = new ByteArrayOutputStream(plain.length / 2);
        try (GZIPOutputStream z = new GZIPOutputStream(gz, 1 << 16)) {
            z.write(plain);
        }
        byte[] layer = gz.toByteArray();
        Digest layerDigest = store.content().write(layer);
        String created = Instant.ofEpochSecond(mtime).toString();
        return LocalImage.record(store, NAME, new Descriptor(MediaTypes.OCI_LAYER_GZIP, layerDigest, layer.length),
                diffId, new ImageConfig.Config(null, null,
                        List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), null,
                        List.of("sh"), null, null, Map.of("org.opencontainers.image.source",
                                "Debian busybox-static (" + bin + "), built into Hull"), null),
                created, "hull: busybox from " + bin);
    }

    private static void dir(TarArchiveOutputStream out, String name, int mode, long mtime) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_DIR);
        e.setMode(mode | 040000);
        e.setModTime(mtime * 1000);
        out.putArchiveEntry(e);
        out.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream out, String name, byte[] data, int mode, long mtime)
            throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(mode | 0100000);
        e.setSize(data.length);
        e.setModTime(mtime * 1000);
        out.putArchiveEntry(e);
        out.write(data);
        out.closeArchiveEntry();
    }

}
