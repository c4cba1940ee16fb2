package dev.hull.build;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A here-document of RUN, COPY or ADD, as Docker's reference has them: {@code <<NAME} at the start
 * of a word (outside quotes) takes the lines after the instruction up to a line that is NAME;
 * {@code <<-NAME} also ends on a tab-indented NAME and strips leading tabs from the content where it
 * is used; a quoted name ({@code <<"EOF"}, {@code <<'EOF'}) turns off variable expansion. Several
 * on one line are read one after the other. content: the lines, each with its newline.
 */
record Heredoc(String name, String content, boolean expand, boolean chomp) {
    /** A marker word: digits (a file descriptor), <<, an optional -, then the name, quoted or not. */
    private static final Pattern MARKER = Pattern.compile("\\d*<<(-?)(\"([^\"]+)\"|'([^']+)'|([A-Za-z0-9_.\\-]+))");

    /** One heredoc marker of an instruction line, before its content is read. */
    record Marker(String name, boolean expand, boolean chomp) {
        boolean ends(String line) {
            String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (chomp) {
                l = l.replaceFirst("^\t+", "");
            }
            return l.equals(name);
        }
    }

    /** The marker word w is (as written, quotes kept), or null. */
    static Marker marker(String w) {
        Matcher m = MARKER.matcher(w);
        if (!m.lookingAt() || m.end() < w.length() && !isShellOperator(w.charAt(m.end()))) {
            return null;
        }
        String name = m.group(3) != null ? m.group(3) : m.group(4) != null ? m.group(4) : m.group(5);
        return new Marker(name, m.group(5) != null, !m.group(1).isEmpty());
    }

    private static boolean isShellOperator(char c) {
        return "<>|&;()".indexOf(c) >= 0;
    }

    /** The markers in an instruction's text, in order: words outside quotes that start with <<. */
    static List<Marker> markers(String text, char escape) {
        List<Marker> out = new ArrayList<>();
        char quote = 0;
        boolean wordStart = true;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote != 0) {
                if (c == escape && quote == '"' && i + 1 < text.length()) {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
                wordStart = false;
                continue;
            }
            if (Character.isWhitespace(c) || isShellOperator(c) && c != '<') {
                wordStart = true;
                continue;
            }
            if (wordStart && (Character.isDigit(c) || c == '<')) {
                int end = i;
                while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
                Marker m = marker(text.substring(i, end));
                if (m != null) {
                    out.add(m);
                    i = end - 1;
                    continue;
                }
            }
            if (c == escape) {
                i++;
            } else if (c == '\'' || c == '"') {
                quote = c;
            }
            wordStart = false;
        }
        return out;
    }

    /** The content with leading tabs stripped from every line (for <<-). */
    static String chompTabs(String content) {
        return content.replaceAll("(?m)^\t+", "");
    }

    /** The content as it is used: tabs stripped for <<-. */
    String data() {
        return chomp ? chompTabs(content) : content;
    }
}
