package dev.hull.cli.format;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/** Go's fmt.Sprintf for the verbs templates use: %v %s %d %q %x %X %o %b %f %e %g %t %c %T, width, precision, flags. */
final class GoFmt {
    private GoFmt() {
    }

    static String sprintf(String format, List<Object> args) {
        StringBuilder out = new StringBuilder();
        int argi = 0;
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i++);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i >= format.length()) {
                out.append("%!(NOVERB)");
                break;
            }
            String flags = "";
            while (i < format.length() && "-+# 0".indexOf(format.charAt(i)) >= 0) {
                flags += format.charAt(i++);
            }
            int width = -1;
            if (i < format.length() && format.charAt(i) == '*') {
                i++;
                width = argi < args.size() && Values.isInteger(args.get(argi)) ? ((Number) args.get(argi++)).intValue() : -1;
            }
            int start = i;
            while (i < format.length() && Character.isDigit(format.charAt(i))) {
                i++;
            }
            if (i > start) {
                width = Integer.parseInt(format.substring(start, i));
            }
            int prec = -1;
            if (i < format.length() && format.charAt(i) == '.') {
                i++;
                start = i;
                while (i < format.length() && Character.isDigit(format.charAt(i))) {
                    i++;
                }
                prec = i > start ? Integer.parseInt(format.substring(start, i)) : 0;
            }
            if (i >= format.length()) {
                out.append("%!(NOVERB)");
                break;
            }
            char verb = format.charAt(i++);
            if (verb == '%') {
                out.append('%');
                continue;
            }
            if (argi >= args.size()) {
                out.append("%!").append(verb).append("(MISSING)");
                continue;
            }
            Object arg = args.get(argi++);
            String s = verb(verb, flags, prec, arg);
            out.append(pad(s, width, flags, arg));
        }
        if (argi < args.size()) {
            List<String> extra = new ArrayList<>();
            for (Object a : args.subList(argi, args.size())) {
                extra.add(Values.typeName(a) + "=" + Values.print(a));
            }
            out.append("%!(EXTRA ").append(String.join(", ", extra)).append(')');
        }
        return out.toString();
    }

    private static String bad(char verb, Object arg) {
        return "%!" + verb + "(" + (arg == null ? "<nil>" : Values.typeName(arg) + "=" + Values.print(arg)) + ")";
    }

    private static String verb(char verb, String flags, int prec, Object arg) {
        boolean integer = Values.isInteger(arg);
        boolean floating = arg instanceof Double || arg instanceof Float;
        String plus = flags.contains("+") ? "+" : flags.contains(" ") ? " " : "";
        return switch (verb) {
            case 'v' -> floating && prec >= 0 ? String.format(Locale.ROOT, "%." + prec + "g", arg) : Values.print(arg);
            case 's' -> integer || floating || arg instanceof Boolean ? bad(verb, arg) : precision(Values.print(arg), prec);
            case 'd' -> integer ? sign(plus, ((Number) arg).longValue(), Long.toString(Math.abs(((Number) arg).longValue())))
                    : bad(verb, arg);
            case 'x', 'X' -> {
                String h = integer ? Long.toHexString(Math.abs(((Number) arg).longValue()))
                        : arg instanceof String str ? HexFormat.of().formatHex(str.getBytes(StandardCharsets.UTF_8)) : null;
                if (h == null) {
                    yield bad(verb, arg);
                }
                h = (flags.contains("#") ? "0x" : "") + h;
                h = verb == 'X' ? h.toUpperCase(Locale.ROOT) : h;
                yield integer && ((Number) arg).longValue() < 0 ? "-" + h : h;
            }
            case 'o' -> integer ? Long.toOctalString(((Number) arg).longValue()) : bad(verb, arg);
            case 'b' -> integer ? Long.toBinaryString(((Number) arg).longValue()) : bad(verb, arg);
            case 'c' -> integer ? Character.toString(((Number) arg).intValue()) : bad(verb, arg);
            case 'q' -> arg instanceof String str ? quote(str) : integer
                    ? "'" + Character.toString(((Number) arg).intValue()) + "'" : bad(verb, arg);
            case 't' -> arg instanceof Boolean ? arg.toString() : bad(verb, arg);
            case 'T' -> arg == null ? "<nil>" : Values.typeName(arg);
            case 'f', 'F', 'e', 'E' -> floating ? String.format(Locale.ROOT, "%" + plus + "." + (prec < 0 ? 6 : prec)
                    + Character.toLowerCase(verb), ((Number) arg).doubleValue()).replace("E", verb == 'E' ? "E" : "e")
                    : bad(verb, arg);
            case 'g', 'G' -> floating ? (prec < 0 ? Values.formatFloat(((Number) arg).doubleValue())
                    : String.format(Locale.ROOT, "%." + prec + "g", arg)) : bad(verb, arg);
            default -> bad(verb, arg);
        };
    }

    private static String sign(String plus, long v, String digits) {
        return (v < 0 ? "-" : plus) + digits;
    }

    private static String precision(String s, int prec) {
        return prec >= 0 && s.length() > prec ? s.substring(0, prec) : s;
    }

    private static String pad(String s, int width, String flags, Object arg) {
        int n = s.codePointCount(0, s.length());
        if (width <= n) {
            return s;
        }
        if (flags.contains("-")) {
            return s + " ".repeat(width - n);
        }
        if (flags.contains("0") && (arg instanceof Number)) {
            boolean neg = s.startsWith("-") || s.startsWith("+");
            return neg ? s.charAt(0) + "0".repeat(width - n) + s.substring(1) : "0".repeat(width - n) + s;
        }
        return " ".repeat(width - n) + s;
    }

    /** strconv.Quote. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (cp < 0x20 || cp == 0x7f) {
                        sb.append(String.format("\\x%02x", cp));
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
            }
        });
        return sb.append('"').toString();
    }
}
