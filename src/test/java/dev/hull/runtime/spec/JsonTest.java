package dev.hull.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
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
}
