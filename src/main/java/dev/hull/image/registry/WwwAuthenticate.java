package dev.hull.image.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * WWW-Authenticate challenges (RFC 7235): {@code Bearer realm="…",service="…",scope="repository:a:pull,push"}.
 * Values may be quoted strings containing commas and backslash escapes; one header may hold several challenges.
 */
public final class WwwAuthenticate {
    /** One challenge: its scheme (lowercase) and parameters (keys lowercase). */
    public record Challenge(String scheme, Map<String, String> params) {
        public String param(String name) {
            return params.get(name);
        }
    }

    private WwwAuthenticate() {}

    public static List<Challenge> parse(List<String> headers) {
        List<Challenge> out = new ArrayList<>();
        for (String h : headers) {
            out.addAll(parse(h));
        }
        return out;
    }

    public static List<Challenge> parse(String header) {
        List<Challenge> out = new ArrayList<>();
        Parser p = new Parser(header);
        String scheme = null;
        Map<String, String> params = new LinkedHashMap<>();
        while (true) {
            p.skip(" \t,");
            if (p.end()) {
                break;
            }
            String token = p.token();
            if (token.isEmpty()) {
                p.pos++; // garbage: skip a character
                continue;
            }
            int save = p.pos;
            p.skip(" \t");
            if (!p.end() && p.peek() == '=' && scheme != null) {
                p.pos++;
                p.skip(" \t");
                String value = !p.end() && p.peek() == '"' ? p.quoted() : p.token();
                params.put(token.toLowerCase(Locale.ROOT), value);
            } else {
                p.pos = save;
                if (scheme != null) {
                    out.add(new Challenge(scheme, params));
                    params = new LinkedHashMap<>();
                }
                scheme = token.toLowerCase(Locale.ROOT);
            }
        }
        if (scheme != null) {
            out.add(new Challenge(scheme, params));
        }
        return out;
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        boolean end() {
            return pos >= s.length();
        }

        char peek() {
            return s.charAt(pos);
        }

        void skip(String chars) {
            while (!end() && chars.indexOf(peek()) >= 0) {
                pos++;
            }
        }

        String token() {
            int start = pos;
            while (!end() && " \t,=\"".indexOf(peek()) < 0) {
                pos++;
            }
            return s.substring(start, pos);
        }

        String quoted() {
            StringBuilder b = new StringBuilder();
            pos++; // opening quote
            while (!end()) {
                char c = s.charAt(pos++);
                if (c == '\\' && !end()) {
                    b.append(s.charAt(pos++));
                } else if (c == '"') {
                    break;
                } else {
                    b.append(c);
                }
            }
            return b.toString();
        }
    }
}
