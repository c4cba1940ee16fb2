package dev.hull.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile parsed as its reference describes: parser directives at the top ({@code escape},
 * {@code syntax} and {@code check} are known; escape is {@code \} or a backtick), comment lines,
 * line continuations with the escape character (comment and empty lines inside one are dropped),
 * one instruction per logical line with its first physical line number, leading {@code --flag}s,
 * the exec (JSON array) form where an instruction has one, and the heredocs of RUN, COPY and ADD
 * ({@link Heredoc}); {@code --mount} may be given more than once. Every error names the file and line.
 */
public final class Dockerfile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DIRECTIVE = Pattern.compile("^#\\s*([a-zA-Z][a-zA-Z0-9]*)\\s*=\\s*(.*?)\\s*$");
    static final Set<String> KNOWN = Set.of("FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD",
            "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL");
    /** The flags each instruction takes. */
    private static final Map<String, Set<String>> FLAGS = Map.of("FROM", Set.of("platform"), "RUN",
            Set.of("mount", "network", "security"), "COPY", Set.of("from", "chown", "chmod", "link", "parents", "exclude"),
            "ADD", Set.of("chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"), "HEALTHCHECK",
            Set.of("interval", "timeout", "start-period", "start-interval", "retries"));

    /**
     * One instruction. args: the text after the keyword and its flags; json: the exec form's strings
     * (null for the shell form); original: the whole logical line as written (continuations joined).
     */
    public record Instruction(String file, int line, String keyword, Map<String, String> flags, List<String> mounts,
            List<String> excludes, String args, List<String> json, List<Heredoc> heredocs, String original) {
        BuildException error(String message) {
            return BuildException.at(file, line, message);
        }

        /** e's value; its IllegalArgumentException (a bad quote or substitution) as this line's error. */
        <T> T expand(Expansion<T> e) throws BuildException {
            try {
                return e.get();
            } catch (IllegalArgumentException x) {
                throw error(keyword + ": " + x.getMessage());
            }
        }

        /** "COPY a /b" with flags (and heredocs' content), as history's created_by and the cache key show it. */
        String text() {
            StringBuilder b = new StringBuilder(keyword);
            flags.forEach((k, v) -> b.append(" --").append(k).append(v == null ? "" : "=" + v));
            mounts.forEach(m -> b.append(" --mount=").append(m));
            excludes.forEach(x -> b.append(" --exclude=").append(x));
            b.append(' ').append(args);
            heredocs.forEach(h -> b.append('\n').append(h.content()).append(h.name()));
            return b.toString();
        }
    }

    /** A word expansion that may throw IllegalArgumentException. */
    interface Expansion<T> {
        T get();
    }

    private final String name;
    private final char escape;
    private final List<Instruction> instructions;

    private Dockerfile(String name, char escape, List<Instruction> instructions) {
        this.name = name;
        this.escape = escape;
        this.instructions = instructions;
    }

    public String name() {
        return name;
    }

    public char escape() {
        return escape;
    }

    public List<Instruction> instructions() {
        return instructions;
    }

    /** Parses text; name is how errors call the file ("Dockerfile", "build/Dockerfile.prod"). */
    public static Dockerfile parse(String name, String text) throws BuildException {
        String[] lines = text.split("\n", -1);
        char escape = '\\';
        int i = 0;
        Set<String> seen = new java.util.HashSet<>();
        if (lines.length > 0 && lines[0].startsWith("\uFEFF")) {
            lines[0] = lines[0].substring(1);
        }
        for (; i < lines.length; i++) {
            Matcher m = DIRECTIVE.matcher(stripCr(lines[i]));
            if (!m.matches()) {
                break;
            }
            String key = m.group(1).toLowerCase(java.util.Locale.ROOT);
            if (!seen.add(key)) {
                throw BuildException.at(name, i + 1, "parser directive " + key + " given twice");
            }
            if (key.equals("escape")) {
                String v = m.group(2);
                if (!v.equals("\\") && !v.equals("`")) {
                    throw BuildException.at(name, i + 1, "invalid escape directive '" + v + "': use \\ or `");
                }
                escape = v.charAt(0);
            } else if (!key.equals("syntax") && !key.equals("check")) {
                break; // an unknown directive is a comment, and ends the directives
            }
        }
        List<Instruction> out = new ArrayList<>();
        while (i < lines.length) {
            String line = stripCr(lines[i]);
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                i++;
                continue;
            }
            int first = i + 1;
            StringBuilder logical = new StringBuilder();
            String cur = line;
            while (true) {
                String t = stripTrailingBlanks(cur);
                if (!t.isEmpty() && t.charAt(t.length() - 1) == escape && !endsWithEscapedEscape(t, escape)) {
                    logical.append(t, 0, t.length() - 1);
                    i++;
                    // comment and empty lines inside a continuation are dropped
                    while (i < lines.length) {
                        String n = stripCr(lines[i]).strip();
                        if (n.isEmpty() || n.startsWith("#")) {
                            i++;
                        } else {
                            break;
                        }
                    }
                    if (i >= lines.length) {
                        break; // a continuation at the end of the file ends the instruction
                    }
                    cur = stripCr(lines[i]);
                } else {
                    logical.append(cur);
                    i++;
                    break;
                }
            }
            String logicalLine = logical.toString().strip();
            List<Heredoc> heredocs = new ArrayList<>();
            for (Heredoc.Marker m : heredocMarkers(logicalLine, escape)) {
                StringBuilder content = new StringBuilder();
                while (true) {
                    if (i >= lines.length || i == lines.length - 1 && lines[i].isEmpty()) {
                        throw BuildException.at(name, first, "the heredoc " + m.name() + " has no end (a line "
                                + m.name() + ")");
                    }
                    String l = lines[i++];
                    if (m.ends(l)) {
                        break;
                    }
                    content.append(stripCr(l)).append('\n');
                }
                heredocs.add(new Heredoc(m.name(), content.toString(), m.expand(), m.chomp()));
            }
            out.add(instruction(name, first, logicalLine, escape, heredocs));
        }
        return new Dockerfile(name, escape, out);
    }

    private static boolean endsWithEscapedEscape(String t, char escape) {
        return false; // as docker: a trailing escape always continues the line
    }

    private static String stripCr(String s) {
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    private static String stripTrailingBlanks(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
            end--;
        }
        return s.substring(0, end);
    }

    /** The heredoc markers of a RUN, COPY or ADD in shell form (none for other instructions). */
    private static List<Heredoc.Marker> heredocMarkers(String text, char escape) {
        String[] kw = text.split("\\s+", 2);
        if (kw.length < 2 || !Set.of("RUN", "COPY", "ADD").contains(kw[0].toUpperCase(java.util.Locale.ROOT))) {
            return List.of();
        }
        String rest = kw[1].strip();
        while (rest.startsWith("--")) {
            String[] f = rest.split("\\s+", 2);
            rest = f.length < 2 ? "" : f[1].strip();
        }
        if (rest.startsWith("[") && jsonArray(rest) != null) {
            return List.of();
        }
        return Heredoc.markers(rest, escape);
    }

    private static Instruction instruction(String file, int line, String text, char escape, List<Heredoc> heredocs)
            throws BuildException {
        int sp = 0;
        while (sp < text.length() && !Character.isWhitespace(text.charAt(sp))) {
            sp++;
        }
        String word = text.substring(0, sp);
        String keyword = word.toUpperCase(java.util.Locale.ROOT);
        if (!KNOWN.contains(keyword)) {
            throw BuildException.at(file, line, "unknown instruction: " + word
                    + (keyword.matches("[A-Z]+") ? "" : " (is a line continuation missing above?)"));
        }
        String rest = text.substring(sp).strip();
        Map<String, String> flags = new LinkedHashMap<>();
        List<String> mounts = new ArrayList<>();
        List<String> excludes = new ArrayList<>();
        Set<String> allowed = FLAGS.getOrDefault(keyword, Set.of());
        while (rest.startsWith("--")) {
            int end = 0;
            while (end < rest.length() && !Character.isWhitespace(rest.charAt(end))) {
                end++;
            }
            String flag = rest.substring(2, end);
            if (flag.isEmpty()) { // "--" alone: the end of flags
                rest = rest.substring(end).strip();
                break;
            }
            int eq = flag.indexOf('=');
            String key = eq < 0 ? flag : flag.substring(0, eq);
            if (!allowed.contains(key)) {
                throw BuildException.at(file, line, keyword + " has no flag --" + key
                        + (allowed.isEmpty() ? "" : " (it takes --" + String.join(", --", new java.util.TreeSet<>(allowed)) + ")"));
            }
            if (key.equals("mount")) {
                mounts.add(eq < 0 ? "" : flag.substring(eq + 1));
            } else if (key.equals("exclude")) { // repeatable: each one a pattern
                if (eq < 0 || eq == flag.length() - 1) {
                    throw BuildException.at(file, line, keyword + " --exclude needs a pattern (--exclude=*.txt)");
                }
                excludes.add(flag.substring(eq + 1));
            } else {
                flags.put(key, eq < 0 ? null : flag.substring(eq + 1));
            }
            rest = rest.substring(end).strip();
        }
        if (rest.isEmpty() && !keyword.equals("HEALTHCHECK")) {
            throw BuildException.at(file, line, keyword + " needs arguments");
        }
        List<String> json = null;
        if (rest.startsWith("[") && Set.of("RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD")
                .contains(keyword)) {
            json = jsonArray(rest);
            if (json == null && keyword.equals("SHELL")) {
                throw BuildException.at(file, line, "SHELL takes a JSON array of strings, like SHELL [\"/bin/sh\", \"-c\"]");
            }
        } else if (keyword.equals("SHELL")) {
            throw BuildException.at(file, line, "SHELL takes a JSON array of strings, like SHELL [\"/bin/sh\", \"-c\"]");
        }
        return new Instruction(file, line, keyword, flags, mounts, excludes, rest, json, heredocs, text);
    }

    /** The strings of a JSON array of strings, or null if text is not one (then it is the shell form). */
    static List<String> jsonArray(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            if (n == null || !n.isArray()) {
                return null;
            }
            List<String> out = new ArrayList<>();
            for (JsonNode e : n) {
                if (!e.isTextual()) {
                    return null;
                }
                out.add(e.asText());
            }
            return out;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
