package dev.hull.image.unpack;

import java.util.ArrayList;
import java.util.List;

/**
 * A tar entry name made relative and normal: leading "/" and "./" stripped, "//" and "." collapsed.
 * ".." is never clamped: a name containing it is rejected, as is a NUL byte.
 */
record EntryPath(List<String> parts) {
    EntryPath {
        parts = List.copyOf(parts);
    }

    /** The normal form of name, or throws IllegalArgumentException saying what is wrong with it. */
    static EntryPath of(String name) {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("the name contains a NUL byte");
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw new IllegalArgumentException("the name contains a \"..\" component");
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return new EntryPath(parts);
    }

    boolean isRoot() {
        return parts.isEmpty();
    }

    /** The last component; "" for the root. */
    String base() {
        return parts.isEmpty() ? "" : parts.getLast();
    }

    EntryPath parent() {
        return new EntryPath(parts.isEmpty() ? parts : parts.subList(0, parts.size() - 1));
    }

    EntryPath child(String name) {
        List<String> p = new ArrayList<>(parts);
        p.add(name);
        return new EntryPath(p);
    }

    @Override
    public String toString() {
        return String.join("/", parts);
    }
}
