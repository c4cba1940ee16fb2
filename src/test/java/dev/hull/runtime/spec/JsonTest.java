package dev.hull.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The streaming-only JSON trees the runtime's short-lived commands use instead of an ObjectMapper. */
class JsonTest {
    private static final String DOC = """
            {"s":"a\\"b\\u00e9","i":-7,"l":9007199254740993,"u":18446744073709551615,"d":1.5,
             "t":true,"f":false,"n":null,"a":[1,[],{}],"o":{"x":{"y":[0]}}}""";

    private static JsonNode read(String s) throws Exception {
        return Json.read(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsTheSameTreeAsAnObjectMapperWithTheSameNumberTypes() throws Exception {
        JsonNode ours = read(DOC);
        JsonNode theirs = new ObjectMapper().readTree(DOC);
        assertThat(ours).isEqualTo(theirs);
        assertThat(ours.get("i").isInt()).isTrue();
        assertThat(ours.get("l").isLong()).isTrue();
        assertThat(ours.get("u").bigIntegerValue()).isEqualTo(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
        assertThat(ours.get("d").isDouble()).isTrue();
    }

    @Test
    void writesWhatAnObjectMapperWritesCompactAndIndented() throws Exception {
        JsonNode tree = read(DOC);
        ObjectMapper mapper = new ObjectMapper();
        assertThat(Json.write(tree, false)).isEqualTo(mapper.writeValueAsString(tree));
        assertThat(Json.write(tree, true))
                .isEqualTo(mapper.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(tree));
    }

    @Test
    void refusesDuplicatesAndTrailingTokensWithTheirPlace() {
        assertThatThrownBy(() -> read("{\"a\":1,\n\"a\":2}")).isInstanceOf(JsonParseException.class)
                .hasMessageContaining("Duplicate field 'a'").hasMessageContaining("line: 2");
        assertThatThrownBy(() -> read("{} {}")).isInstanceOf(JsonParseException.class)
                .hasMessageContaining("Trailing token");
        assertThatThrownBy(() -> read("{\"a\":")).isInstanceOf(JsonParseException.class);
    }

    @Test
    void anEmptyDocumentIsAMissingNodeAsWithAMapper() throws Exception {
        assertThat(read("").isMissingNode()).isTrue();
        assertThat(read("  \n").isMissingNode()).isTrue();
    }

    @Test
    void readsWhatAMapperReadsEscapesUnicodeAndNumberEdges() throws Exception {
        List<String> docs = List.of(
                "{\"e\":\"\\\\ \\/ \\b\\f\\n\\r\\t \\ud83d\\ude00 \\u0000\",\"u\":\"h\u00e9 \u4e16 \ud83d\ude00\"}",
                "[2147483647,2147483648,-2147483648,-2147483649,9223372036854775807,9223372036854775808,"
                        + "-9223372036854775808,-9223372036854775809,1000000000,-0,0,12345678901234567890123]",
                "[1e5,1E+5,-0.0,0.5e-3,3.25,1.7976931348623157e308]",
                " \t\r\n{ \"a\" : [ ] , \"b\" : { } , \"c\" : [ [ [ null ] ] ] }\n",
                "\uFEFF{\"bom\":true}",
                "[{\"o\":{\"p\":[{},{\"q\":[[],{\"r\":null}]}]}},{}]",
                "{\"ctl\":\"\\u0001\\u001f\\u007f \\u2028\"}",
                "\"just a string\"", "42", "true", "null");
        ObjectMapper mapper = new ObjectMapper();
        for (String doc : docs) {
            JsonNode ours = read(doc);
            JsonNode theirs = mapper.readTree(doc.getBytes(StandardCharsets.UTF_8));
            assertThat(ours).as(doc).isEqualTo(theirs);
            assertThat(Json.write(ours, false)).as(doc).isEqualTo(mapper.writeValueAsString(theirs));
            assertThat(Json.write(ours, true)).as(doc)
                    .isEqualTo(mapper.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(theirs));
        }
        JsonNode n = read(docs.get(1));
        assertThat(n.get(0).isInt()).isTrue();
        assertThat(n.get(1).isLong()).isTrue();
        assertThat(n.get(4).isLong()).isTrue();
        assertThat(n.get(5).isBigInteger()).isTrue();
        assertThat(n.get(8).isInt()).isTrue();
        assertThat(n.get(11).isBigInteger()).isTrue();
    }

    @Test
    void quotesAStringAsAMapperDoes() throws Exception {
        String s = "tab\there \"q\" back\\slash \u0001 \u001f nl\n cr\r \u00e9";
        assertThat(Json.quote(s)).isEqualTo(new ObjectMapper().writeValueAsString(s));
        assertThat(SpecParser.quote(s)).isEqualTo(Json.quote(s)); // error messages quote values the same way
    }

    @Test
    void refusesWhatAMapperRefuses() {
        List<String> bad = List.of("{\"a\":01}", "[-]", "[1.]", "[.5]", "[+1]", "[1e]", "[NaN]", "[tru]", "[nulll]",
                "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{a:1}", "{'a':1}", "[\"x\u0001\"]", "[\"\\x\"]",
                "[\"\\u12g4\"]", "[\"open]", "/* c */ {}", "[", "{\"a\":[}", "]");
        ObjectMapper mapper = new ObjectMapper();
        for (String doc : bad) {
            assertThatThrownBy(() -> mapper.readTree(doc)).as("a mapper refuses %s", doc).isInstanceOf(Exception.class);
            assertThatThrownBy(() -> read(doc)).as(doc).isInstanceOf(JsonParseException.class);
        }
        // a mapper ignores what follows the first value (FAIL_ON_TRAILING_TOKENS is off); the runtime does not
        assertThatThrownBy(() -> read("{} // c")).isInstanceOf(JsonParseException.class).hasMessageContaining("Trailing token");
        byte[] badUtf8 = {'[', '"', (byte) 0xc3, '"', ']'};
        assertThatThrownBy(() -> Json.read(badUtf8)).isInstanceOf(JsonParseException.class).hasMessageContaining("UTF-8");
        assertThatThrownBy(() -> read("[".repeat(1001) + "]".repeat(1001))).isInstanceOf(JsonParseException.class)
                .hasMessageContaining("nesting depth");
        assertThat(catchThrowableOfType(JsonParseException.class, () -> read("{\n  \"a\": 1,\n    ]\n}"))
                .getLocation()).satisfies(l -> {
                    assertThat(l.getLineNr()).isEqualTo(3);
                    assertThat(l.getColumnNr()).isEqualTo(5);
                });
    }
}
