package dev.hull.build;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code .dockerignore} as docker reads it (moby's patternmatcher): one pattern a line, {@code #}
 * comments, paths cleaned and relative to the context root, Go's filepath.Match syntax plus
 * {@code **} for any number of directories, {@code !} for exceptions; the last pattern that matches
 * a path decides. A pattern that matches a directory matches everything below it.
 */
final class DockerIgnore {
    private record Rule(Pattern regex, boolean exception) {}

    private final List<Rule> rules = new ArrayList<>();
    private boolean exceptions;

    static DockerIgnore parse(String text) {
        DockerIgnore d = new DockerIgnore();
        for (String line : text.split("\n")) {
            String p = line.strip();
            if (p.isEmpty() || p.startsWith("#")) {
                continue;
            }
            boolean exception = p.startsWith("!");
            if (exception) {
                p = p.substring(1).strip();
                d.exceptions = true;
            }
            p = clean(p);
            if (p.isEmpty()) {
                continue;
            }
            d.rules.add(new Rule(Pattern.compile(regex(p)), exception));
        }
        return d;
    }

    static DockerIgnore none() {
        return new DockerIgnore();
    }

    /** Whether no rule leaves anything out. */
    boolean isEmpty() {
        return rules.isEmpty();
    }

    boolean hasExceptions() {
        return exceptions;
    }

    /** Whether path (relative to the context, '/'-separated) is left out. */
    boolean ignored(String path) {
        boolean out = false;
        String[] parts = path.split("/");
        for (Rule r : rules) {
            boolean m = r.regex.matcher(path).matches();
            // or one of the path's parent directories (moby's MatchesOrParentMatches)
            for (int i = 1; !m && i < parts.length; i++) {
                m = r.regex.matcher(String.join("/", java.util.Arrays.copyOf(parts, i))).matches();
            }
            if (m) {
                out = !r.exception;
            }
        }
        return out;
    }

    /** filepath.Clean without a leading "/" or "./". */
    static String clean(String p) {
        List<String> parts = new ArrayList<>();
        for (String s : p.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
                continue;
            }
            parts.add(s);
        }
        return String.join("/", parts);
    }

    /** A filepath.Match pattern (with **) as a regular expression over '/'-separated paths. */
    static String regex(String p) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '*') {
                if (i + 1 < p.length() && p.charAt(i + 1) == '*') {
                    i++;
                    if (i + 1 < p.length() && p.charAt(i + 1) == '/') {
                        i++;
                        b.append("(?:.*/)?"); // **/ : zero or more directories
                    } else {
                        b.append(".*");
                    }
                } else {
                    b.append("[^/]*");
                }
            } else if (c == '?') {
                b.append("[^/]");
            } else if (c == '[') {
                int end = p.indexOf(']', i + 2);
                if (end < 0) {
                    b.append("\\[");
                    continue;
                }
                String cls = p.substring(i + 1, end);
                if (cls.startsWith("^") || cls.startsWith("!")) {
                    cls = "^" + cls.substring(1);
                }
                b.append('[').append(cls.replace("\\", "\\\\").replace("[", "\\[")).append(']');
                i = end;
            } else if (c == '\\' && i + 1 < p.length()) {
                b.append(Pattern.quote(String.valueOf(p.charAt(++i))));
            } else {
                b.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return b.toString();
    }
}
