package dev.hull.machine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The host's apt configuration as apt-get uses it: the Debian mirror named in /etc/apt/sources.list
 * and sources.list.d (one-line and deb822 forms), and apt's HTTP proxy — so a template builds where
 * the host's apt works (a local mirror or proxy, no internet).
 */
final class AptSources {
    static final String DEFAULT_MIRROR = "http://deb.debian.org/debian";

    private AptSources() {}

    /** The first Debian archive URI (not its security archive) of the host's sources, else deb.debian.org. */
    static String debianMirror(Path etcApt) {
        for (String uri : uris(etcApt)) {
            if (!uri.contains("security") && uri.matches("(https?|file)://.*") && uri.replaceAll("/+$", "").endsWith("debian")) {
                return uri.replaceAll("/+$", "");
            }
        }
        return DEFAULT_MIRROR;
    }

    /** Every deb URI the host's sources name, in apt's reading order. */
    static List<String> uris(Path etcApt) {
        List<Path> files = new ArrayList<>();
        files.add(etcApt.resolve("sources.list"));
        try (Stream<Path> d = Files.list(etcApt.resolve("sources.list.d"))) {
            d.filter(p -> p.toString().endsWith(".list") || p.toString().endsWith(".sources")).sorted()
                    .forEach(files::add);
        } catch (IOException e) {
            // no sources.list.d
        }
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            List<String> lines;
            try {
                lines = Files.readAllLines(f);
            } catch (IOException e) {
                continue;
            }
            boolean deb822 = f.toString().endsWith(".sources");
            boolean debType = false;
            for (String raw : lines) {
                String line = raw.strip();
                if (line.startsWith("#")) {
                    continue;
                }
                if (!deb822) {
                    String[] w = line.replaceAll("\\[[^]]*]", "").trim().split("\\s+");
                    if (w.length >= 3 && w[0].equals("deb")) {
                        out.add(w[1]);
                    }
                } else if (line.isEmpty()) {
                    debType = false;
                } else if (line.regionMatches(true, 0, "Types:", 0, 6)) {
                    debType = List.of(line.substring(6).trim().split("\\s+")).contains("deb");
                } else if (line.regionMatches(true, 0, "URIs:", 0, 5) && debType) {
                    out.addAll(List.of(line.substring(5).trim().split("\\s+")));
                }
            }
        }
        return out;
    }

    /** apt's Acquire::http::Proxy (apt-config), or null. */
    static String httpProxy() {
        try {
            Process p = new ProcessBuilder("apt-config", "shell", "P", "Acquire::http::Proxy")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() != 0 || !out.startsWith("P=")) {
                return null;
            }
            String v = out.substring(2).replaceAll("^'|'$", "");
            return v.isEmpty() ? null : v;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
