package dev.hull.build;

import dev.hull.build.Dockerfile.Instruction;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * ADD's http(s) sources, as docker's builder takes them: the file downloaded (redirects followed)
 * into the build's temp dir, named after the URL's last path segment, mode 0600, its mtime the
 * response's Last-Modified when there is one; not extracted. The step's cache key is the
 * downloaded content, so a changed file misses the cache and an unchanged one hits it.
 */
final class RemoteSource {
    private RemoteSource() {}

    static boolean isUrl(String src) {
        return src.matches("(?i)https?://.*");
    }

    static boolean isGit(String src) {
        return src.matches("(?i)git://.*") || src.startsWith("git@") || src.matches("(?i)https?://.*\\.git(#.*)?");
    }

    /**
     * Downloads url into a new dir under tmp; its one match. checksum (ADD --checksum=sha256:HEX, or
     * null): the download must have that digest, or the step fails naming both.
     */
    static List<BuildContext.Match> fetch(Instruction in, String url, Path tmp, String checksum)
            throws BuildException, IOException {
        String want = null;
        if (checksum != null) {
            if (!checksum.matches("sha256:[0-9a-f]{64}")) {
                throw in.error("ADD --checksum=" + checksum + ": use sha256: and 64 lowercase hex digits");
            }
            want = checksum;
        }
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw in.error("ADD " + url + ": not a valid URL: " + e.getMessage());
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            name = "download";
        }
        Path dir = Files.createTempDirectory(tmp, "url-");
        Path part = dir.resolve(".part");
        HttpResponse<Path> r;
        try {
            HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(Duration.ofSeconds(30)).build();
            r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofFile(part));
        } catch (IOException e) {
            throw in.error("ADD " + url + ": cannot download it: " + (e.getMessage() == null ? e.toString()
                    : e.getMessage()) + " (no network here? COPY a file you downloaded into the context instead)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException("interrupted");
        } catch (IllegalArgumentException e) {
            throw in.error("ADD " + url + ": not a valid URL: " + e.getMessage());
        }
        if (r.statusCode() / 100 != 2) {
            throw in.error("ADD " + url + ": the server answered HTTP " + r.statusCode());
        }
        if (want != null) {
            String got = "sha256:" + sha256(part);
            if (!got.equals(want)) {
                throw in.error("ADD " + url + ": checksum mismatch: --checksum says " + want + ", the download is "
                        + got);
            }
        }
        Path f = dir.resolve(name);
        Files.move(part, f, StandardCopyOption.REPLACE_EXISTING);
        dev.hull.linux.Syscalls.lchmod(f.toString(), 0600);
        r.headers().firstValue("Last-Modified").ifPresent(lm -> {
            try {
                ZonedDateTime t = ZonedDateTime.parse(lm, DateTimeFormatter.RFC_1123_DATE_TIME);
                Files.setLastModifiedTime(f, FileTime.from(t.toInstant()));
            } catch (RuntimeException | IOException ignored) {
                // a header we cannot read: the download's own time
            }
        });
        return new BuildContext(dir, DockerIgnore.none()).match(name);
    }

    /** The file's SHA-256, hex. */
    private static String sha256(Path f) throws IOException {
        java.security.MessageDigest md = dev.hull.image.Digest.sha256();
        try (java.io.InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }
}
