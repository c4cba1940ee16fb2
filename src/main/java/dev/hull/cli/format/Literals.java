package dev.hull.cli.format;

/** Go's constants as templates write them: quoted strings, characters and numbers. */
final class Literals {
    private Literals() {
    }

    static String unquote(String text) {
        if (text.startsWith("`")) {
            return text.substring(1, text.length() - 1).replace("\r", "");
        }
        StringBuilder sb = new StringBuilder();
        String s = text.substring(1, text.length() - 1);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                sb.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case 'x' -> {
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                case 'u' -> {
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                case 'U' -> {
                    sb.appendCodePoint(Integer.parseInt(s.substring(i + 1, i + 9), 16));
                    i += 8;
                }
                default -> sb.append(e);
            }
        }
        return sb.toString();
    }

    static int unquoteChar(String text) {
        String s = unquote("\"" + text.substring(1, text.length() - 1) + "\"");
        return s.codePointAt(0);
    }

    /** An integer as a Long, anything with a fraction or exponent as a Double. */
    static Object number(String text) {
        String t = text.replace("_", "");
        boolean neg = t.startsWith("-");
        if (neg || t.startsWith("+")) {
            t = t.substring(1);
        }
        String lower = t.toLowerCase(java.util.Locale.ROOT);
        long v;
        if (lower.startsWith("0x")) {
            v = Long.parseLong(t.substring(2), 16);
        } else if (lower.startsWith("0o")) {
            v = Long.parseLong(t.substring(2), 8);
        } else if (lower.startsWith("0b")) {
            v = Long.parseLong(t.substring(2), 2);
        } else if (lower.contains(".") || lower.contains("e")) {
            double d = Double.parseDouble(t);
            return neg ? -d : d;
        } else if (t.length() > 1 && t.startsWith("0")) {
            v = Long.parseLong(t.substring(1), 8);
        } else {
            v = Long.parseLong(t);
        }
        return neg ? -v : v;
    }
}
