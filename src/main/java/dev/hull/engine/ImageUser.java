package dev.hull.engine;

import dev.hull.runtime.RuntimeError;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves a docker-style user ("name", "uid", "name:group", "uid:gid") to
 * numeric ids with the image's own /etc/passwd and /etc/group, as docker
 * does: a name must exist there; a number need not; supplementary groups
 * are the groups that list the user.
 */
record ImageUser(long uid, long gid, List<Long> additionalGids, String home) {

    static ImageUser resolve(String spec, byte[] passwd, byte[] group) throws RuntimeError {
        if (spec == null || spec.isEmpty()) {
            spec = "0";
        }
        String[] ug = spec.split(":", 2);
        String userPart = ug[0];
        String name = null;
        long uid;
        long gid = -1;
        String home = "/";
        List<String[]> users = parse(passwd).stream().filter(u -> u.length >= 4 && u[3].matches("[0-9]+")).toList();
        String[] entry = null;
        if (userPart.matches("[0-9]+")) {
            uid = Long.parseLong(userPart);
            for (String[] u : users) {
                if (u[2].equals(userPart)) {
                    entry = u;
                    break;
                }
            }
        } else {
            for (String[] u : users) {
                if (u[0].equals(userPart)) {
                    entry = u;
                    break;
                }
            }
            if (entry == null) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "user \"" + userPart + "\" is not in the image's"
                        + " /etc/passwd" + (passwd == null ? " (the image has none)" : "") + ": give a numeric UID[:GID]");
            }
            uid = Long.parseLong(entry[2]);
        }
        if (entry != null) {
            name = entry[0];
            gid = Long.parseLong(entry[3]);
            if (entry.length >= 6 && !entry[5].isEmpty()) {
                home = entry[5];
            }
        } else if (uid == 0) {
            home = "/root";
        }
        List<String[]> groups = parse(group);
        if (ug.length > 1) {
            String g = ug[1];
            if (g.matches("[0-9]+")) {
                gid = Long.parseLong(g);
            } else {
                gid = -1;
                for (String[] e : groups) {
                    if (e.length >= 3 && e[0].equals(g)) {
                        gid = Long.parseLong(e[2]);
                    }
                }
                if (gid < 0) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "group \"" + g
                            + "\" is not in the image's /etc/group: give a numeric GID");
                }
            }
        }
        if (gid < 0) {
            gid = 0; // docker: a uid the image's /etc/passwd doesn't know runs with gid 0
        }
        List<Long> extra = new ArrayList<>();
        if (name != null && ug.length == 1) {
            for (String[] e : groups) {
                if (e.length >= 4 && List.of(e[3].split(",")).contains(name)) {
                    long g = Long.parseLong(e[2]);
                    if (g != gid && !extra.contains(g)) {
                        extra.add(g);
                    }
                }
            }
        }
        return new ImageUser(uid, gid, extra, home);
    }

    private static List<String[]> parse(byte[] file) {
        List<String[]> out = new ArrayList<>();
        if (file == null) {
            return out;
        }
        for (String line : new String(file, StandardCharsets.UTF_8).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split(":", -1);
            if (f.length >= 3 && f[2].matches("[0-9]+")) {
                out.add(f);
            }
        }
        return out;
    }
}
