package dev.hull.build;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Dockerfile's word rules (its reference, "Environment replacement"): words split on unquoted
 * white space; single quotes keep everything literal; double quotes keep white space and allow
 * {@code $} replacement; the escape character ({@code \} or the escape directive's) makes the next
 * character literal. Replacement: {@code $NAME}, {@code ${NAME}}, {@code ${NAME:-word}},
 * {@code ${NAME-word}}, {@code ${NAME:+word}}, {@code ${NAME+word}}. A name that is not set is empty.
 */
final class Words {
    private final char escape;

    Words(char escape) {
        this.escape = escape;
    }

    /** Splits on unquoted white space, keeping quotes and escapes as they are (for key=value parsing). */
    List<String> splitRaw(String s) throws IllegalArgumentException {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean in = false;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote == 0 && Character.isWhitespace(c)) {
                if (in) {
                    out.add(cur.toString());
                    cur.setLength(0);
                    in = false;
                }
                continue;
            }
            in = true;
            cur.append(c);
            if (c == escape && quote != '\'' && i + 1 < s.length()) {
                cur.append(s.charAt(++i));
            } else if (quote == 0 && (c == '\'' || c == '"')) {
                quote = c;
            } else if (quote != 0 && c == quote) {
                quote = 0;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unterminated " + (quote == '"' ? "double" : "single") + " quote");
        }
        if (in) {
            out.add(cur.toString());
        }
        return out;
    }

    /** Words with quotes removed and variables replaced. */
    List<String> words(String s, Map<String, String> env) {
        List<String> out = new ArrayList<>();
        for (String w : splitRaw(s)) {
            out.add(word(w, env));
        }
        return out;
    }

    /** One word: quotes removed, variables replaced, white space kept. */
    String word(String s, Map<String, String> env) {
        StringBuilder out = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    out.append(c);
                }
                continue;
            }
            if (c == escape && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (quote == '"' && n != '"' && n != '$' && n != escape) {
                    out.append(c); // inside double quotes only \" \$ and \\ are escapes
                } else {
                    out.append(n);
                    i++;
                }
                continue;
            }
            if (quote == 0 && (c == '\'' || c == '"')) {
                quote = c;
                continue;
            }
            if (quote == '"' && c == '"') {
                quote = 0;
                continue;
            }
            if (c == '$' && i + 1 < s.length()) {
                i = expand(s, i, env, out);
                continue;
            }
            out.append(c);
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unterminated " + (quote == '"' ? "double" : "single") + " quote");
        }
        return out.toString();
    }

    /** Variables replaced, quotes and everything else kept as written (a heredoc's content); escape + $ is a $. */
    String replaceVariables(String s, Map<String, String> env) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == escape && i + 1 < s.length() && s.charAt(i + 1) == '$') {
                out.append('$');
                i++;
            } else if (c == '$' && i + 1 < s.length()) {
                i = expand(s, i, env, out);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Replaces the variable at s[i] == '$'; returns the index of its last character. */
    private int expand(String s, int i, Map<String, String> env, StringBuilder out) {
        char n = s.charAt(i + 1);
        if (n == '{') {
            int depth = 1;
            int j = i + 2;
            for (; j < s.length() && depth > 0; j++) {
                char c = s.charAt(j);
                if (c == '{') {
                    depth++;
                } else if (c == '}') {
                    depth--;
                }
            }
            if (depth != 0) {
                throw new IllegalArgumentException("missing '}' in " + s.substring(i));
            }
            String body = s.substring(i + 2, j - 1);
            int k = 0;
            while (k < body.length() && (Character.isLetterOrDigit(body.charAt(k)) || body.charAt(k) == '_')) {
                k++;
            }
            String name = body.substring(0, k);
            if (name.isEmpty()) {
                throw new IllegalArgumentException("bad substitution: ${" + body + "}");
            }
            String value = env.get(name);
            String rest = body.substring(k);
            if (rest.isEmpty()) {
                out.append(value == null ? "" : value);
            } else if (rest.startsWith(":-")) {
                out.append(value == null || value.isEmpty() ? word(rest.substring(2), env) : value);
            } else if (rest.startsWith("-")) {
                out.append(value == null ? word(rest.substring(1), env) : value);
            } else if (rest.startsWith(":+")) {
                out.append(value == null || value.isEmpty() ? "" : word(rest.substring(2), env));
            } else if (rest.startsWith("+")) {
                out.append(value == null ? "" : word(rest.substring(1), env));
            } else {
                throw new IllegalArgumentException("unsupported modifier in ${" + body + "}");
            }
            return j - 1;
        }
        if (Character.isLetter(n) || n == '_') {
            int j = i + 1;
            while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                j++;
            }
            String value = env.get(s.substring(i + 1, j));
            out.append(value == null ? "" : value);
            return j - 1;
        }
        out.append('$');
        return i;
    }
}
