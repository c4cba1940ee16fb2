package dev.hull.runtime.spec;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Map;

/**
 * JSON trees, read by {@link JsonReader} and written here, without Jackson's parser or generator.
 * A short-lived runtime command (containerd calls {@code hull-runtime state} for every container,
 * a JVM each) cannot afford
 * {@code ObjectMapper}: constructing one runs ~30 ms of start-up code in a cold JVM, more than
 * everything else {@code state} does. The trees are databind's ({@link JsonNode}), so callers keep
 * their code; numbers keep the node types a mapper would give (int, long, BigInteger, double).
 */
public final class Json {
    private Json() {}

    /**
     * One JSON document as a tree (a missing node when there is none); a duplicate key or anything
     * after the value is an error (with its line and column, as every {@link JsonParseException}).
     * Read by {@link JsonReader}, not Jackson's parser (whose first use costs a cold JVM ~30 ms).
     */
    public static JsonNode read(byte[] json) throws IOException {
        return JsonReader.read(json);
    }

    /**
     * The tree as JSON text: compact, or indented as Jackson's default pretty printer does (two
     * spaces per object level, {@code "key" : value}, arrays on one line as {@code [ 1, 2 ]}, empty
     * ones as {@code { }} and {@code [ ]}), with Jackson's escapes. Written here, not by Jackson's
     * generator: setting up a {@code JsonFactory} was ~9 % of a cold {@code hull-runtime state}.
     */
    public static String write(JsonNode node, boolean pretty) {
        StringBuilder out = new StringBuilder(256);
        write(out, node, pretty ? 0 : -1);
        return out.toString();
    }

    /** level: the number of enclosing objects when pretty, -1 for compact output. */
    private static void write(StringBuilder out, JsonNode n, int level) {
        switch (n.getNodeType()) {
            case OBJECT -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    if (level >= 0) {
                        newLine(out, level + 1);
                    }
                    string(out, e.getKey());
                    out.append(level < 0 ? ":" : " : ");
                    write(out, e.getValue(), level < 0 ? -1 : level + 1);
                }
                if (level >= 0) {
                    if (first) {
                        out.append(' ');
                    } else {
                        newLine(out, level);
                    }
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                boolean first = true;
                for (JsonNode e : n) {
                    out.append(first ? "" : ",").append(level < 0 ? "" : " ");
                    first = false;
                    write(out, e, level);
                }
                out.append(level < 0 ? "]" : " ]");
            }
            case STRING -> string(out, n.textValue());
            case BOOLEAN -> out.append(n.booleanValue());
            case NULL, MISSING -> out.append("null");
            case NUMBER -> {
                switch (n.numberType()) {
                    case INT -> out.append(n.intValue());
                    case LONG -> out.append(n.longValue());
                    case BIG_INTEGER -> out.append(n.bigIntegerValue());
                    case BIG_DECIMAL -> out.append(n.decimalValue());
                    case FLOAT -> finite(out, n.floatValue(), Float.isFinite(n.floatValue()));
                    default -> finite(out, n.doubleValue(), Double.isFinite(n.doubleValue()));
                }
            }
            default -> throw new IllegalArgumentException("a " + n.getNodeType() + " node has no JSON text here");
        }
    }

    /** A number; NaN and the infinities quoted, as Jackson's QUOTE_NON_NUMERIC_NUMBERS (on by default) does. */
    private static void finite(StringBuilder out, Object number, boolean finite) {
        if (finite) {
            out.append(number);
        } else {
            out.append('"').append(number).append('"');
        }
    }

    private static void newLine(StringBuilder out, int level) {
        out.append('\n').repeat(' ', 2 * level);
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** s as a JSON string, with Jackson's escapes. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2);
        string(out, s);
        return out.toString();
    }

    /** A quoted string with Jackson's escapes: quote, backslash, and every control character. */
    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
