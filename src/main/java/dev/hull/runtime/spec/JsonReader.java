package dev.hull.runtime.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.io.ContentReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * A strict JSON (RFC 8259) reader into databind's trees, for {@link Json#read}. Not Jackson's
 * parser: the first use of any of Jackson's parsers initialises {@code ParserMinimalBase}, whose
 * {@code BigDecimal} constants run {@code BigDecimal}'s static initialiser, which computes 5^65536
 * (JDK 25): about a third of a cold {@code hull-runtime state}'s own CPU. Accepts what Jackson's
 * default parser accepts, with the same node types (int, long, BigInteger, double); refuses
 * duplicate keys (as {@code STRICT_DUPLICATE_DETECTION}), trailing tokens, comments, NaN, leading
 * zeros, unescaped control characters and malformed UTF-8, each as a {@link JsonParseException}
 * at its line and column.
 */
final class JsonReader {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_DEPTH = 1000; // Jackson's default nesting limit (StreamReadConstraints)

    private final String s;
    private int pos;
    private int line = 1;
    private int lineStart;
    private int depth;

    private JsonReader(String s) {
        this.s = s;
    }

    static JsonNode read(byte[] json) throws JsonParseException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(json)).toString();
        } catch (CharacterCodingException e) {
            throw new JsonParseException(null, "Invalid UTF-8: " + e.getMessage(), location(1, 1, 0));
        }
        JsonReader r = new JsonReader(text);
        if (text.startsWith("\uFEFF")) {
            r.pos = 1; // a byte order mark, skipped as Jackson does
            r.lineStart = 1;
        }
        if (!r.skipSpace()) {
            return MissingNode.getInstance();
        }
        JsonNode root = r.value();
        if (r.skipSpace()) {
            throw r.error("Trailing token (" + r.describe(r.s.charAt(r.pos)) + ") found after value");
        }
        return root;
    }

    /** Skips white space; true when a character follows. */
    private boolean skipSpace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '\n') {
                line++;
                lineStart = pos + 1;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return true;
            }
            pos++;
        }
        return false;
    }

    private char next(String expected) throws JsonParseException {
        if (!skipSpace()) {
            throw error("Unexpected end-of-input: expected " + expected);
        }
        return s.charAt(pos);
    }

    private JsonNode value() throws JsonParseException {
        char c = next("a value");
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> NODES.textNode(string());
            case 't' -> literal("true", NODES.booleanNode(true));
            case 'f' -> literal("false", NODES.booleanNode(false));
            case 'n' -> literal("null", NODES.nullNode());
            default -> {
                if (c == '-' || c >= '0' && c <= '9') {
                    yield number();
                }
                throw error("Unexpected character (" + describe(c) + "): expected a value");
            }
        };
    }

    private ObjectNode object() throws JsonParseException {
        ObjectNode o = NODES.objectNode();
        if (open('}')) {
            return o;
        }
        do {
            char c = next("a field name");
            if (c != '"') {
                throw error("Unexpected character (" + describe(c) + "): was expecting double-quote to start field name");
            }
            int keyAt = pos;
            String name = string();
            if (next("':'") != ':') {
                throw error("Unexpected character (" + describe(s.charAt(pos)) + "): was expecting a colon to separate field name and value");
            }
            pos++;
            JsonNode v = value();
            if (o.has(name)) {
                pos = keyAt;
                throw error("Duplicate field '" + name + "'");
            }
            o.set(name, v);
        } while (!closed('}', "Object"));
        return o;
    }

    private ArrayNode array() throws JsonParseException {
        ArrayNode a = NODES.arrayNode();
        if (open(']')) {
            return a;
        }
        do {
            a.add(value());
        } while (!closed(']', "Array"));
        return a;
    }

    /** Past an opening bracket, one level deeper; true when {@code close} follows at once (then past it too). */
    private boolean open(char close) throws JsonParseException {
        if (++depth > MAX_DEPTH) {
            throw error("Document nesting depth exceeds the maximum allowed (" + MAX_DEPTH + ")");
        }
        pos++;
        return closed(close);
    }

    /** After an entry: true past {@code close} (one level up), false past a comma; anything else is an error. */
    private boolean closed(char close, String what) throws JsonParseException {
        if (closed(close)) {
            return true;
        }
        char c = next("',' or '" + close + "'");
        if (c != ',') {
            throw error("Unexpected character (" + describe(c) + "): was expecting comma to separate " + what + " entries");
        }
        pos++;
        return false;
    }

    private boolean closed(char close) throws JsonParseException {
        if (next("'" + close + "'") != close) {
            return false;
        }
        pos++;
        depth--;
        return true;
    }

    private JsonNode literal(String word, JsonNode node) throws JsonParseException {
        if (!s.startsWith(word, pos) || pos + word.length() < s.length() && isWordChar(s.charAt(pos + word.length()))) {
            int end = pos;
            while (end < s.length() && isWordChar(s.charAt(end))) {
                end++;
            }
            throw error("Unrecognized token '" + s.substring(pos, Math.max(end, pos + 1))
                    + "': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')");
        }
        pos += word.length();
        return node;
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    private JsonNode number() throws JsonParseException {
        int start = pos;
        if (s.charAt(pos) == '-') {
            pos++;
        }
        int intStart = pos;
        int digits = digits();
        if (digits == 0) {
            throw error("Unexpected character (" + describe(at(pos)) + ") in numeric value: expected digit");
        }
        if (digits > 1 && s.charAt(intStart) == '0') {
            pos = intStart;
            throw error("Invalid numeric value: Leading zeroes not allowed");
        }
        boolean integral = true;
        if (at(pos) == '.') {
            pos++;
            integral = false;
            if (digits() == 0) {
                throw error("Unexpected character (" + describe(at(pos)) + ") in numeric value: Decimal point not followed by a digit");
            }
        }
        char e = at(pos);
        if (e == 'e' || e == 'E') {
            pos++;
            integral = false;
            char sign = at(pos);
            if (sign == '+' || sign == '-') {
                pos++;
            }
            if (digits() == 0) {
                throw error("Unexpected character (" + describe(at(pos)) + ") in numeric value: Exponent indicator not followed by a digit");
            }
        }
        if (pos < s.length() && isWordChar(s.charAt(pos))) {
            throw error("Unexpected character (" + describe(s.charAt(pos)) + ") in numeric value");
        }
        String text = s.substring(start, pos);
        if (!integral) {
            return NODES.numberNode(Double.parseDouble(text));
        }
        if (digits <= 18) { // fits a long; an int when it can be one
            long v = Long.parseLong(text);
            return v == (int) v ? NODES.numberNode((int) v) : NODES.numberNode(v);
        }
        BigInteger big = new BigInteger(text);
        return big.bitLength() < 64 ? NODES.numberNode(big.longValue()) : NODES.numberNode(big);
    }

    private int digits() {
        int n = 0;
        while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
            pos++;
            n++;
        }
        return n;
    }

    private char at(int i) {
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private String string() throws JsonParseException {
        pos++; // the opening quote
        StringBuilder b = null;
        int from = pos;
        for (;;) {
            if (pos >= s.length()) {
                throw error("Unexpected end-of-input: was expecting closing quote for a string value");
            }
            char c = s.charAt(pos);
            if (c == '"') {
                String out = b == null ? s.substring(from, pos) : b.append(s, from, pos).toString();
                pos++;
                return out;
            }
            if (c < 0x20) {
                throw error("Illegal unquoted character (" + describe(c) + "): has to be escaped using backslash to be included in string value");
            }
            if (c != '\\') {
                pos++;
                continue;
            }
            if (b == null) {
                b = new StringBuilder();
            }
            b.append(s, from, pos);
            pos++;
            char esc = at(pos);
            switch (esc) {
                case '"', '\\', '/' -> b.append(esc);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    int v = 0;
                    for (int i = 1; i <= 4; i++) {
                        int d = Character.digit(at(pos + i), 16);
                        if (d < 0) {
                            pos += i;
                            throw error("Unexpected character (" + describe(at(pos)) + "): expected a hex-digit for character escape sequence");
                        }
                        v = v << 4 | d;
                    }
                    b.append((char) v);
                    pos += 4;
                }
                default -> throw error("Unrecognized character escape (" + describe(esc) + ")");
            }
            pos++;
            from = pos;
        }
    }

    private String describe(char c) {
        if (pos >= s.length()) {
            return "end-of-input";
        }
        return c < 0x20 ? "CTRL-CHAR, code " + (int) c : "'" + c + "' (code " + (int) c + ")";
    }

    /** An error at the current position (line and 1-based column, as Jackson counts them). */
    private JsonParseException error(String message) {
        return new JsonParseException(null, message, location(line, pos - lineStart + 1, pos));
    }

    private static JsonLocation location(int line, int column, long offset) {
        return new JsonLocation(ContentReference.unknown(), -1, offset, line, column);
    }
}
