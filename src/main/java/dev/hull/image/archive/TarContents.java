package dev.hull.image.archive;

import dev.hull.image.ContentStore;
import dev.hull.image.Digest;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The files of an image archive (a tar, possibly compressed), read in one pass.
 * Entries named {@code blobs/<alg>/<hex>} go straight into the content store,
 * verified against their name; small JSON files stay in memory; anything else
 * (a docker-archive's layer.tar) goes to a temporary file, hashed, and reaches
 * the store only if a manifest refers to it. Nothing is ever written under an
 * entry's own name, so a hostile name cannot place a file anywhere.
 */
final class TarContents implements Closeable {
    static final long SMALL_LIMIT = 16L << 20;
    private static final Pattern BLOB = Pattern.compile("blobs/([a-z0-9]+)/([^/]+)");

    /** One file of the archive. */
    sealed interface Entry permits Small, Temp, Blob, Link {}

    record Small(byte[] data) implements Entry {}

    record Temp(Path file, Digest sha256, long size) implements Entry {}

    record Blob(Digest digest, long size) implements Entry {}

    /** A symbolic link (target relative to the link's directory) or hard link (target an archive path). */
    record Link(String target) implements Entry {}

    final Path archive;
    private final ContentStore content;
    private final Path tmp;
    private final Map<String, Entry> entries = new HashMap<>();
    private int temps;

    private TarContents(Path archive, ContentStore content, Path tmp) {
        this.archive = archive;
        this.content = content;
        this.tmp = tmp;
    }

    static TarContents read(Path archive, ContentStore content, Path tmpParent) throws IOException {
        Files.createDirectories(tmpParent);
        TarContents t = new TarContents(archive, content, Files.createTempDirectory(tmpParent, "load-"));
        try {
            t.scan();
            return t;
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private void scan() throws IOException {
        try (InputStream file = Files.newInputStream(archive);
                TarArchiveInputStream tar = new TarArchiveInputStream(dev.hull.image.unpack.Compression.decompressAny(file))) {
            TarArchiveEntry e;
            int count = 0;
            while (true) {
                try {
                    e = tar.getNextEntry();
                } catch (IOException ex) {
                    throw new IOException(archive + ": not a readable tar archive: " + ex.getMessage(), ex);
                }
                if (e == null) {
                    break;
                }
                count++;
                String name = e.getName();
                String path;
                try {
                    path = normalize(name);
                } catch (IllegalArgumentException ex) {
                    throw new IOException(archive + ": entry \"" + name + "\": " + ex.getMessage());
                }
                if (e.isDirectory() || path.isEmpty()) {
                    continue;
                }
                if (e.isSymbolicLink()) {
                    String dir = path.contains("/") ? path.substring(0, path.lastIndexOf('/') + 1) : "";
                    String target = e.getLinkName();
                    entries.put(path, new Link(target.startsWith("/") ? target : dir + target));
                } else if (e.isLink()) {
                    entries.put(path, new Link(e.getLinkName()));
                } else if (e.isFile()) {
                    entries.put(path, store(path, e.getSize(), tar));
                }
            }
            if (count == 0) {
                throw new IOException(archive + ": not an image archive (an empty or unreadable tar)");
            }
        }
    }

    private Entry store(String path, long size, InputStream in) throws IOException {
        if (path.startsWith("blobs/")) {
            var m = BLOB.matcher(path);
            Digest d;
            try {
                if (!m.matches()) {
                    throw new IllegalArgumentException("not blobs/<algorithm>/<hex>");
                }
                d = new Digest(m.group(1), m.group(2));
            } catch (IllegalArgumentException ex) {
                throw new IOException(archive + ": entry " + path + ": " + ex.getMessage());
            }
            try (ContentStore.Writer w = content.writer(d, size)) {
                if (!w.complete()) {
                    w.truncate();
                    Streams.copy(in, w.stream(), null);
                    w.commit();
                }
            } catch (IOException ex) {
                throw new IOException(archive + ": entry " + path + ": " + ex.getMessage(), ex);
            }
            return new Blob(d, size);
        }
        String base = path.substring(path.lastIndexOf('/') + 1);
        boolean small = base.endsWith(".json") || base.equals("oci-layout") || base.equals("repositories")
                || base.equals("json") || base.equals("VERSION");
        if (small && size <= SMALL_LIMIT) {
            return new Small(in.readAllBytes());
        }
        Path f = tmp.resolve("entry-" + temps++);
        MessageDigest md = Digest.sha256();
        long n;
        try (OutputStream out = Files.newOutputStream(f)) {
            n = Streams.copy(in, out, md);
        }
        return new Temp(f, Digest.of("sha256", md), n);
    }

    /**
     * An archive path made canonical: no leading "./" or "/", no "." parts, no
     * empty parts. A ".." part or an absolute path is refused.
     */
    static String normalize(String name) {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("NUL in path");
        }
        if (name.startsWith("/")) {
            throw new IllegalArgumentException("absolute path");
        }
        StringBuilder out = new StringBuilder();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new IllegalArgumentException("path leaves the archive (\"..\")");
            }
            if (!out.isEmpty()) {
                out.append('/');
            }
            out.append(part);
        }
        return out.toString();
    }

    boolean has(String path) {
        return entries.containsKey(path);
    }

    /**
     * The file at a path a manifest gave, links followed; what refers to it
     * (e.g. "manifest.json") goes into errors.
     */
    Entry find(String rawPath, String referrer) throws IOException {
        String path;
        try {
            path = normalize(rawPath);
        } catch (IllegalArgumentException e) {
            throw new IOException(archive + ": " + referrer + " refers to \"" + rawPath + "\": " + e.getMessage());
        }
        for (int hops = 0; hops < 16; hops++) {
            Entry e = entries.get(path);
            if (e == null) {
                throw new IOException(archive + ": " + referrer + " refers to \"" + rawPath
                        + "\", which is not in the archive");
            }
            if (!(e instanceof Link l)) {
                return e;
            }
            try {
                path = resolveLink(l.target());
            } catch (IllegalArgumentException ex) {
                throw new IOException(archive + ": " + referrer + " refers to \"" + rawPath + "\", a link to \""
                        + l.target() + "\": " + ex.getMessage());
            }
        }
        throw new IOException(archive + ": " + referrer + " refers to \"" + rawPath + "\": too many links");
    }

    private static String resolveLink(String target) {
        if (target.startsWith("/")) {
            throw new IllegalArgumentException("absolute link target");
        }
        StringBuilder out = new StringBuilder();
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        for (String p : target.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                if (parts.isEmpty()) {
                    throw new IllegalArgumentException("link leaves the archive");
                }
                parts.removeLast();
            } else {
                parts.addLast(p);
            }
        }
        for (String p : parts) {
            if (!out.isEmpty()) {
                out.append('/');
            }
            out.append(p);
        }
        return out.toString();
    }

    InputStream open(Entry e) throws IOException {
        return switch (e) {
            case Small s -> new ByteArrayInputStream(s.data());
            case Temp t -> Files.newInputStream(t.file());
            case Blob b -> content.open(b.digest());
            case Link l -> throw new IllegalStateException("unresolved link " + l);
        };
    }

    byte[] bytes(Entry e, String what) throws IOException {
        long size = size(e);
        if (size > SMALL_LIMIT) {
            throw new IOException(archive + ": " + what + " is " + size + " bytes; more than a JSON document"
                    + " should be");
        }
        try (InputStream in = open(e)) {
            return in.readAllBytes();
        }
    }

    static long size(Entry e) {
        return switch (e) {
            case Small s -> s.data().length;
            case Temp t -> t.size();
            case Blob b -> b.size();
            case Link l -> throw new IllegalStateException("unresolved link " + l);
        };
    }

    /** The entry's sha256. */
    Digest sha256(Entry e) throws IOException {
        return switch (e) {
            case Small s -> Digest.sha256(s.data());
            case Temp t -> t.sha256();
            case Blob b when b.digest().algorithm().equals("sha256") -> b.digest();
            default -> {
                MessageDigest md = Digest.sha256();
                try (InputStream in = open(e)) {
                    Streams.copy(in, null, md);
                }
                yield Digest.of("sha256", md);
            }
        };
    }

    /** Puts the entry into the content store as blob d (verified: the store refuses other content). */
    void importAs(Entry e, Digest d, long size, String what) throws IOException {
        if (e instanceof Blob b && b.digest().equals(d)) {
            if (size >= 0 && b.size() != size) {
                throw new IOException(archive + ": " + what + ": " + b.size() + " bytes, descriptor says " + size);
            }
            return;
        }
        try (ContentStore.Writer w = content.writer(d, size); InputStream in = open(e)) {
            if (w.complete()) {
                return;
            }
            w.truncate();
            Streams.copy(in, w.stream(), null);
            w.commit();
        } catch (IOException ex) {
            throw new IOException(archive + ": " + what + ": " + ex.getMessage(), ex);
        }
    }

    @Override
    public void close() throws IOException {
        deleteTree(tmp);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
