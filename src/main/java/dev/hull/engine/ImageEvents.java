package dev.hull.engine;

import dev.hull.image.ImageConfig;
import dev.hull.image.ImageRecord;
import dev.hull.image.Reference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Image events in the engine's log ({@link EventLog#image}), whichever front door acted: the
 * Docker API and the hull command line both record through here.
 */
public final class ImageEvents {
    private ImageEvents() {}

    /** "sha256:ID". */
    public static String sha(String id) {
        return id.startsWith("sha256:") ? id : "sha256:" + id;
    }

    /** One event, the image's labels among its attributes (none if its config cannot be read). */
    public static void record(Engine e, String action, String actor, String name, ImageRecord image) {
        e.events().image(action, actor, name, config(e, image));
    }

    private static ImageConfig config(Engine e, ImageRecord image) {
        try {
            return image == null ? null : e.images().config(image);
        } catch (java.io.IOException | RuntimeException unreadable) {
            return null;
        }
    }

    /** What an rmi is about to touch: the images the texts name, with their configs, read before they go. */
    public static Before before(Engine e, List<String> texts) {
        List<ImageRecord> images = new ArrayList<>();
        Map<String, ImageConfig> configs = new HashMap<>();
        for (String t : texts) {
            try {
                ImageRecord r = e.images().getOrBuildBuiltin(t);
                images.add(r);
                configs.put(sha(r.id()), config(e, r));
            } catch (java.io.IOException | RuntimeException missing) {
                // the removal says so
            }
        }
        return new Before(images, configs);
    }

    public record Before(List<ImageRecord> images, Map<String, ImageConfig> configs) {}

    /** rmi's answer lines ("Untagged: NAME", "Deleted: ID") as dockerd's untag and delete events (named by ID). */
    public static void removed(Engine e, List<String> lines, Before before) {
        for (String line : lines) {
            if (line.startsWith("Untagged: ")) {
                ImageRecord r = null;
                String name = line.substring("Untagged: ".length());
                for (ImageRecord x : before.images()) {
                    if (x.names().stream().anyMatch(n -> n.equals(name) || familiar(n).equals(name))) {
                        r = x;
                    }
                }
                if (r != null) {
                    e.events().image("untag", sha(r.id()), sha(r.id()), before.configs().get(sha(r.id())));
                }
            } else if (line.startsWith("Deleted: ")) {
                String id = sha(line.substring("Deleted: ".length()));
                e.events().image("delete", id, id, before.configs().get(id));
            }
        }
    }

    private static String familiar(String name) {
        try {
            return Reference.parse(name).familiar();
        } catch (RuntimeException e) {
            return name;
        }
    }
}
