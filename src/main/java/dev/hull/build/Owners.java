package dev.hull.build;

import dev.hull.image.ImageService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** {@code --chown=USER[:GROUP]}: names looked up in the image's /etc/passwd and /etc/group, or numbers. */
final class Owners {
    private Owners() {}

    /** {uid, gid}. A user without a group gets the user's primary group (a number: the same number). */
    static long[] resolve(String spec, List<Path> layers) throws IOException {
        int colon = spec.indexOf(':');
        String user = colon < 0 ? spec : spec.substring(0, colon);
        String group = colon < 0 ? null : spec.substring(colon + 1);
        long uid;
        long gid;
        if (user.matches("\\d+")) {
            uid = Long.parseLong(user);
            gid = uid;
        } else {
            String[] pw = find(ImageService.readImageFile(layers, "etc/passwd"), user, "user", "/etc/passwd");
            uid = Long.parseLong(pw[2]);
            gid = Long.parseLong(pw[3]);
        }
        if (group != null && !group.isEmpty()) {
            if (group.matches("\\d+")) {
                gid = Long.parseLong(group);
            } else {
                gid = Long.parseLong(find(ImageService.readImageFile(layers, "etc/group"), group, "group",
                        "/etc/group")[2]);
            }
        }
        return new long[] {uid, gid};
    }

    private static String[] find(byte[] file, String name, String what, String path) {
        if (file == null) {
            throw new IllegalArgumentException("no " + what + " " + name + ": the image has no " + path);
        }
        for (String line : new String(file, StandardCharsets.UTF_8).split("\n")) {
            String[] f = line.split(":", -1);
            if (f.length >= 3 && f[0].equals(name) && (what.equals("group") || f.length >= 4)) {
                return f;
            }
        }
        throw new IllegalArgumentException("no " + what + " " + name + " in the image's " + path);
    }
}
