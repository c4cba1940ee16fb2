package dev.hull.runtime.spec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * JSON trees read by {@link JsonReader} and written with Jackson's streaming generator. A short-lived runtime command
 * (containerd calls {@code hull-runtime state} for every container, a JVM each) cannot afford
 * {@code ObjectMapper}: constructing one runs ~30 ms of start-up code in a cold JVM, more than
 * everything else {@code state} does. The trees are databind's ({@link JsonNode}), so callers keep
 * their code; numbers keep the node types a mapper would give (int, long, BigInteger, double).
 */
public final class Json {
    private static final JsonFactory FACTORY = new JsonFactory();

    private Json() {}

    /**
     * One JSON document as a tree (a missing node when there is none); a duplicate key or anything
     * after the value is an error (with its line and column, as every {@link JsonParseException}).
     * Read by {@link JsonReader}, not Jackson's parser (whose first use costs a cold JVM ~30 ms).
     */
    public static JsonNode read(byte[] json) throws IOException {
        return JsonReader.read(json);
    }

    /** The tree as JSON text: compact, or indented as Jackson's default pretty printer does. */
    public static String write(JsonNode node, boolean pretty) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            if (pretty) {
                g.setPrettyPrinter(new DefaultPrettyPrinter());
            }
            write(g, node);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    private static void write(JsonGenerator g, JsonNode n) throws IOException {
        switch (n.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    g.writeFieldName(e.getKey());
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode e : n) {
                    write(g, e);
                }
                g.writeEndArray();
            }
            case STRING -> g.writeString(n.textValue());
            case BOOLEAN -> g.writeBoolean(n.booleanValue());
            case NULL, MISSING -> g.writeNull();
            case NUMBER -> {
                switch (n.numberType()) {
                    case INT -> g.writeNumber(n.intValue());
                    case LONG -> g.writeNumber(n.longValue());
                    case BIG_INTEGER -> g.writeNumber(n.bigIntegerValue());
                    case BIG_DECIMAL -> g.writeNumber(n.decimalValue());
                    case FLOAT -> g.writeNumber(n.floatValue());
                    default -> g.writeNumber(n.doubleValue());
                }
            }
            default -> throw new IllegalArgumentException("a " + n.getNodeType() + " node has no JSON text here");
        }
    }
}
