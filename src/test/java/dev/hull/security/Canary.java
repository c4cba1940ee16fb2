package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A host directory the test owns and the attacks aim at — never a real host file. It holds files
 * named like the ones an attacker would go for (hosts, passwd, kernel/domainname ...), each with a
 * line no container has. {@link #assertUntouched} compares every entry (type, mode, owner, size,
 * link count, mtime, content or link target) with the state at creation, and checks that the host
 * has no mount at or below it.
 */
final class Canary {
    final Path dir;
    /** The line every canary file holds: seen anywhere else, it was read from the host. */
    final String secret;
    private final Map<String, String> before;

    Canary(Path dir) {
        this.dir = dir;
        this.secret = "HULL-CANARY-" + Long.toHexString(System.nanoTime()) + "-" + ProcessHandle.current().pid();
        try {
            Files.createDirectories(dir);
            for (String f : List.of("file", "hosts", "hostname", "resolv.conf", "sub/secret", "kernel/domainname",
                    "dev/null", "proc/keys", "attr/exec", "attr/current", "attr/apparmor/exec")) {
                Path p = dir.resolve(f);
                Files.createDirectories(p.getParent());
                Files.writeString(p, secret + "\n");
            }
            // an /etc/passwd and /etc/group with a user only the host's canary knows
            Files.writeString(dir.resolve("passwd"), "canary:x:4242:4242:" + secret + ":/canary-home:/bin/sh\n");
            Files.writeString(dir.resolve("group"), "canary:x:4242:\n");
            before = snapshot();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path file() {
        return dir.resolve("file");
    }

    /** Every entry at and below dir, described without following any symlink. */
    Map<String, String> snapshot() throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,nlink,lastModifiedTime,ctime",
                        LinkOption.NOFOLLOW_LINKS);
                String desc = Integer.toOctalString((Integer) a.get("mode")) + " " + a.get("uid") + ":" + a.get("gid")
                        + " size " + a.get("size") + " nlink " + a.get("nlink") + " mtime " + a.get("lastModifiedTime")
                        + " ctime " + a.get("ctime");
                if (Files.isSymbolicLink(p)) {
                    desc += " -> " + Files.readSymbolicLink(p);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    desc += " content " + Files.readString(p, StandardCharsets.ISO_8859_1);
                }
                m.put(dir.relativize(p).toString(), desc);
            }
        }
        return m;
    }

    /** The host mounts at or below dir (from the test's own mount table, which is the host's). */
    List<String> hostMountsInside() throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String mp = unescape(line.split(" ")[4]);
            if (mp.equals(dir.toString()) || mp.startsWith(dir + "/")) {
                out.add(line);
            }
        }
        return out;
    }

    static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    /** Nothing at or below dir changed, appeared or disappeared, and nothing is mounted there. */
    void assertUntouched() {
        try {
            assertThat(snapshot()).as("the canary %s after the attack", dir).isEqualTo(before);
            assertThat(hostMountsInside()).as("host mounts at or below the canary %s", dir).isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
