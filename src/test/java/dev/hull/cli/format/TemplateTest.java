package dev.hull.cli.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Go text/template as docker uses it; the expected texts are what Go's text/template printed for the same input. */
class TemplateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String run(String template, String json) throws Exception {
        return Template.parse(template).execute(JSON.readTree(json));
    }

    private static String error(String template, String json) {
        try {
            return "no error: " + run(template, json);
        } catch (TemplateException e) {
            return e.getMessage();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static GoStruct container() {
        return new GoStruct("*formatter.ContainerContext").value("ID", "0123456789ab").value("Names", "web")
                .value("Labels", "a=1,b=2").method("Label", 1, args -> Map.of("a", "1").getOrDefault(args.get(0), ""));
    }

    @Test
    void fieldsAndNestedFields() throws Exception {
        assertThat(run("{{.Name}}", "{\"Name\":\"web\"}")).isEqualTo("web");
        assertThat(run("{{.A.B}}", "{\"A\":{\"B\":\"x\"}}")).isEqualTo("x");
        assertThat(run("{{.A.B}}", "{\"A\":{\"B\":{\"C\":1}}}")).isEqualTo("map[C:1]");
        assertThat(run("{{.}}", "\"just a string\"")).isEqualTo("just a string");
        assertThat(run("{{ (index .L 0).A }}", "{\"L\":[{\"A\":\"deep\"}]}")).isEqualTo("deep");
    }

    @Test
    void printsValuesAsGoDoes() throws Exception {
        assertThat(run("{{.L}} {{.M}} {{.N}}", "{\"L\":[1,\"a\",null],\"M\":{\"b\":2,\"a\":[1]},\"N\":null}"))
                .isEqualTo("[1 a <nil>] map[a:[1] b:2] <no value>");
        assertThat(run("{{.Num}} {{.F}} {{.Neg}}", "{\"Num\":3,\"F\":1.5,\"Neg\":-0.00001}")).isEqualTo("3 1.5 -1e-05");
        assertThat(run("{{.F}} {{.G}}", "{\"F\":1234567.5,\"G\":100000.0}")).isEqualTo("1.2345675e+06 100000");
        assertThat(run("{{.Missing}}", "{\"A\":1}")).isEqualTo("<no value>");
        assertThat(run("{{.A.Nope.C}}", "{\"A\":{}}")).isEqualTo("<no value>");
    }

    @Test
    void unknownFieldOfAStructIsAnErrorAsInDocker() {
        assertThatThrownBy(() -> Template.parse("{{.Nope}}").execute(container())).hasMessage(
                "template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext");
        assertThatThrownBy(() -> Template.parse("x {{.Names.Nope}}").execute(container())).hasMessage(
                "template: :1:10: executing \"\" at <.Names.Nope>: can't evaluate field Nope in type string");
        assertThatThrownBy(() -> Template.parse("{{.Nope}}").missingKeyError().execute(Map.of("A", 1)))
                .hasMessage("template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"");
        assertThat(error("{{.N.X}}", "{\"N\":null}"))
                .isEqualTo("template: :1:4: executing \"\" at <.N.X>: nil pointer evaluating interface {}.X");
        assertThat(error("{{.A \"x\"}}", "{\"A\":1}"))
                .isEqualTo("template: :1:2: executing \"\" at <.A>: A is not a method but has arguments");
    }

    @Test
    void methodsTakeArguments() throws Exception {
        assertThat(Template.parse("{{.Label \"a\"}}|{{.Label \"z\"}}|{{\"a\" | .Label}}").execute(container()))
                .isEqualTo("1||1");
        assertThatThrownBy(() -> Template.parse("{{.Label}}").execute(container()))
                .hasMessage("template: :1:2: executing \"\" at <.Label>: wrong number of args for Label: want 1 got 0");
        assertThat(Template.parse("{{json .}}").execute(container()))
                .isEqualTo("{\"ID\":\"0123456789ab\",\"Labels\":\"a=1,b=2\",\"Names\":\"web\"}");
    }

    @Test
    void json() throws Exception {
        assertThat(run("{{json .A}}", "{\"A\":{\"z\":\"é<>&\",\"y\":true}}")).isEqualTo("{\"z\":\"é<>&\",\"y\":true}");
        assertThat(run("{{json .L}} {{json .S}} {{json .Nope}}", "{\"L\":[1,\"x\"],\"S\":\"q\\\"\"}"))
                .isEqualTo("[1,\"x\"] \"q\\\"\" null");
    }

    @Test
    void rangeIfWithAndVariables() throws Exception {
        assertThat(run("{{range .L}}[{{.}}]{{end}}", "{\"L\":[\"a\",\"b\",\"c\"]}")).isEqualTo("[a][b][c]");
        assertThat(run("{{range $i, $e := .L}}{{$i}}={{$e}} {{end}}", "{\"L\":[\"a\",\"b\"]}")).isEqualTo("0=a 1=b ");
        assertThat(run("{{range $k, $v := .M}}{{$k}}:{{$v}};{{end}}", "{\"M\":{\"z\":1,\"a\":2,\"m\":3}}"))
                .isEqualTo("a:2;m:3;z:1;");
        assertThat(run("{{range .L}}x{{else}}empty{{end}}", "{\"L\":[]}")).isEqualTo("empty");
        assertThat(run("{{range $i, $e := .L}}{{if $i}}, {{end}}{{$e}}{{end}}", "{\"L\":[\"x\",\"y\",\"z\"]}"))
                .isEqualTo("x, y, z");
        assertThat(run("{{range .L}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}",
                "{\"L\":[1,2,3,4,5]}")).isEqualTo("13");
        assertThat(run("{{if .X}}yes{{else}}no{{end}}", "{\"X\":0}")).isEqualTo("no");
        assertThat(run("{{if .X}}yes{{else if .Y}}y{{else}}no{{end}}", "{\"X\":false,\"Y\":\"s\"}")).isEqualTo("y");
        assertThat(run("{{with .A}}{{.B}}{{else}}none{{end}}", "{\"A\":{\"B\":7}}")).isEqualTo("7");
        assertThat(run("{{with .Q}}{{.B}}{{else}}none{{end}}", "{\"A\":{\"B\":7}}")).isEqualTo("none");
        assertThat(run("{{with $x := .A}}{{$x.B}}{{end}}", "{\"A\":{\"B\":\"vb\"}}")).isEqualTo("vb");
        assertThat(run("{{$x := .S}}{{$x}}{{$x = \"y\"}}{{$x}}", "{\"S\":\"s\"}")).isEqualTo("sy");
        assertThat(run("{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}}", "{}")).isEqualTo("2");
        assertThat(run("{{range 3}}{{.}}{{end}}", "{}")).isEqualTo("012");
    }

    @Test
    void functions() throws Exception {
        assertThat(run("{{index .L 1}} {{index .M \"k\"}} {{index .M \"a\" 1}}",
                "{\"L\":[\"a\",\"b\"],\"M\":{\"k\":\"v\",\"a\":[5,6]}}")).isEqualTo("b v 6");
        assertThat(run("{{index .Labels \"nope\"}}", "{\"Labels\":{\"k\":\"v\"}}")).isEqualTo("");
        assertThat(run("{{join (split .S \",\") \"|\"}}", "{\"S\":\"a,b,c\"}")).isEqualTo("a|b|c");
        assertThat(run("{{upper .S}} {{lower .S}} {{title .S}}", "{\"S\":\"hello wORLD foo-bar\"}"))
                .isEqualTo("HELLO WORLD FOO-BAR hello world foo-bar Hello WORLD Foo-Bar");
        assertThat(run("{{len .L}} {{len .S}} {{len .M}} {{\"abc\" | len}}",
                "{\"L\":[1,2,3],\"S\":\"héllo\",\"M\":{\"a\":1}}")).isEqualTo("3 6 1 3");
        assertThat(run("{{printf \"%s-%d-%5.2f|%-6s|%05d|%q|%v|%x\" .S 42 3.14159 \"ab\" 42 \"q\\\"x\" .L 255}}",
                "{\"S\":\"s\",\"L\":[1,\"a\"]}")).isEqualTo("s-42- 3.14|ab    |00042|\"q\\\"x\"|[1 a]|ff");
        assertThat(run("{{printf \"%5s|%-5d|%+d|%x|%X|%o|%q\" \"ab\" 3 4 \"hi\" 255 8 65}}", "{}"))
                .isEqualTo("   ab|3    |+4|6869|FF|10|'A'");
        assertThat(run("{{printf \"%d\" \"x\"}} {{printf \"%s\"}} {{printf \"a\" 1}}", "{}"))
                .isEqualTo("%!d(string=x) %!s(MISSING) a%!(EXTRA int=1)");
        assertThat(run("{{printf \"%v %t %c %T %T\" true false 65 \"s\" 1}}", "{}")).isEqualTo("true false A string int");
        assertThat(run("{{printf \"%6.2f|%e|%g\" 3.14159 1234.5 0.000012}}", "{}")).isEqualTo("  3.14|1.234500e+03|1.2e-05");
        assertThat(run("{{.S | printf \"%s!\" | upper}}", "{\"S\":\"hi\"}")).isEqualTo("HI!");
        assertThat(run("{{eq .S \"a\" \"b\"}} {{ne 1 2}} {{lt 1 2}} {{ge \"b\" \"a\"}} {{and 1 0}} {{or 0 \"x\"}} {{not .S}}",
                "{\"S\":\"b\"}")).isEqualTo("true true true true 0 x false");
        assertThat(run("{{slice .S 1 3}} {{slice .L 1}}", "{\"S\":\"abcdef\",\"L\":[1,2,3]}")).isEqualTo("bc [2 3]");
        assertThat(run("{{print 1 2 \"a\" \"b\" 3}}", "{}")).isEqualTo("1 2ab3");
        assertThat(run("{{println \"a\" 1}}", "{}")).isEqualTo("a 1\n");
        assertThat(run("{{html \"<a href='x'>&\"}} {{urlquery \"a b&c\"}}", "{}"))
                .isEqualTo("&lt;a href=&#39;x&#39;&gt;&amp; a+b%26c");
        assertThat(run("{{pad .S 1 2}}|{{truncate .S 2}}", "{\"S\":\"abc\"}")).isEqualTo(" abc  |ab");
    }

    @Test
    void whitespaceTrimAndComments() throws Exception {
        assertThat(run("a  {{- .S -}}  b", "{\"S\":\"X\"}")).isEqualTo("aXb");
        assertThat(run("a\n  {{- /* comment */ -}}\n b", "{}")).isEqualTo("ab");
        assertThat(run("{{ .Name }} {{- \" x\" }}", "{\"Name\":\"n\"}")).isEqualTo("n x");
        assertThat(run("{{-3}} {{ -3 }}", "{}")).isEqualTo("-3 -3");
    }

    @Test
    void executionErrorsAsGoWordsThem() {
        assertThat(error("{{index .L 5}}", "{\"L\":[\"a\",\"b\"]}"))
                .isEqualTo("template: :1:2: executing \"\" at <index .L 5>: error calling index: index out of range: 5");
        assertThat(error("{{eq 1 \"a\"}}", "{}"))
                .isEqualTo("template: :1:2: executing \"\" at <eq 1 \"a\">: error calling eq: incompatible types for comparison");
        assertThat(error("{{len 3}}", "{}"))
                .isEqualTo("template: :1:2: executing \"\" at <len 3>: error calling len: len of type int");
        assertThat(error("{{nil}}", "{}")).isEqualTo("template: :1:2: executing \"\" at <nil>: nil is not a command");
        assertThat(error("{{range .S}}{{end}}", "{\"S\":\"str\"}"))
                .isEqualTo("template: :1:8: executing \"\" at <.S>: range can't iterate over str");
        assertThat(error("{{\"a\" .}}", "{}"))
                .isEqualTo("template: :1:2: executing \"\" at <\"a\">: can't give argument to non-function \"a\"");
        assertThat(error("\n\n  {{.A.B.C.D.E.F.G.H.I.J.K}}", "{\"A\":5}")).isEqualTo(
                "template: :3:6: executing \"\" at <.A.B.C.D.E.F.G.H.I.J.K>: can't evaluate field B in type int");
    }

    @Test
    void defineTemplateAndBlockAsGoRunsThem() throws Exception {
        String data = "{\"A\":\"x\",\"B\":1,\"L\":[1,2],\"S\":\"abc\"}";
        for (var c : List.of(
                List.of("{{define \"n\"}}<{{.}}>{{end}}{{template \"n\" .A}}{{template \"n\" .B}}", "<x><1>"),
                List.of("{{block \"b\" .A}}[{{.}}]{{end}}", "[x]"),
                List.of("{{range .L}}{{template \"i\" .}}{{end}}{{define \"i\"}}{{.}},{{end}}", "1,2,"),
                List.of("{{define \"n\"}}{{.}}{{end}}{{template \"n\"}}", "<no value>"),
                List.of("{{define \"r\"}}{{if .}}{{len .}}{{template \"r\" slice . 1}}{{end}}{{end}}{{template \"r\" .S}}",
                        "321"),
                List.of("{{define \"a\"}}A{{$}}{{end}}{{template \"a\" 5}}", "A5"),
                List.of("{{define \"x\"}} {{end}}{{define \"x\"}}Y{{end}}{{template \"x\"}}", "Y"),
                List.of("{{template \"n\" .A | printf \"%s!\"}}{{define \"n\"}}{{.}}{{end}}", "x!"))) {
            assertThat(run(c.get(0), data)).as(c.get(0)).isEqualTo(c.get(1));
        }
        assertThat(error("x{{template \"nope\"}}", data)).isEqualTo(
                "template: :1:12: executing \"\" at <{{template \"nope\"}}>: template \"nope\" not defined");
        for (var c : List.of(
                List.of("{{define \"b\"}}D{{end}}{{block \"b\" .}}B{{end}}",
                        "template: :1: template: multiple definition of template \"b\""),
                List.of("{{$x := 1}}{{define \"v\"}}{{$x}}{{end}}", "template: :1: undefined variable \"$x\""),
                List.of("{{if true}}{{define \"n\"}}x{{end}}{{end}}", "template: :1: unexpected <define> in command"),
                List.of("{{range .L}}{{block \"q\" .}}{{break}}{{end}}{{end}}", "template: :1: {{break}} outside {{range}}"),
                List.of("{{template .A}}", "template: :1: unexpected \".A\" in template clause"))) {
            assertThatThrownBy(() -> Template.parse(c.get(0))).as(c.get(0)).hasMessage(c.get(1));
        }
    }

    @Test
    void parseErrorsAsGoWordsThem() {
        for (var c : List.of(
                List.of("{{foo .}}", "template: :1: function \"foo\" not defined"),
                List.of("{{.A", "template: :1: unclosed action"),
                List.of("{{if .A}}x", "template: :1: unexpected EOF"),
                List.of("{{end}}", "template: :1: unexpected {{end}}"),
                List.of("{{else}}", "template: :1: unexpected {{else}}"),
                List.of("a\n{{$nope}}", "template: :2: undefined variable \"$nope\""),
                List.of("{{if}}{{end}}", "template: :1: missing value for if"),
                List.of("{{break}}", "template: :1: {{break}} outside {{range}}"),
                List.of("{{\"abc}}", "template: :1: unterminated quoted string"))) {
            assertThatThrownBy(() -> Template.parse(c.get(0))).as(c.get(0)).isInstanceOf(TemplateException.class)
                    .hasMessage(c.get(1)).matches(e -> ((TemplateException) e).parsing());
        }
    }

    @Test
    void tableHeaderAndColumnsAsDockersTabwriter() throws Exception {
        RowFormat f = new RowFormat("table {{.ID}}\\t{{upper .Names}}\\t{{.Label \"a\"}}",
                "{{.ID}}", Map.of("ID", "CONTAINER ID", "Names", "NAMES"));
        f.add(container());
        f.add(new GoStruct("*formatter.ContainerContext").value("ID", "1").value("Names", "a-much-longer-name")
                .method("Label", 1, args -> "x"));
        // docker: columns as wide as their widest cell plus 3, at least 10; the header stops at what fails in it
        assertThat(f.render()).isEqualTo("CONTAINER ID   NAMES                \n"
                + "0123456789ab   WEB                  1\n"
                + "1              A-MUCH-LONGER-NAME   x\n");
        RowFormat plain = new RowFormat("{{.Names}}", "{{.ID}}", Map.of());
        plain.add(container());
        assertThat(plain.render()).isEqualTo("web\n");
        RowFormat json = new RowFormat("json", "{{.ID}}", Map.of());
        json.add(container());
        json.add(container());
        assertThat(json.render()).isEqualTo("{\"ID\":\"0123456789ab\",\"Labels\":\"a=1,b=2\",\"Names\":\"web\"}\n".repeat(2));
        RowFormat def = new RowFormat("table", "{{.ID}}\t{{.Names}}", Map.of("ID", "CONTAINER ID", "Names", "NAMES"));
        assertThat(def.render()).isEqualTo("CONTAINER ID   NAMES\n");
    }

    @Test
    void tabWriterBlocks() {
        // a line without tabs ends a column block; short cells still get the minimum width
        assertThat(TabWriter.docker().format("a\tb\nccc\td\nplain\nx\ty\n"))
                .isEqualTo("a         b\nccc       d\nplain\nx         y\n");
        assertThat(TabWriter.docker().format("h1\th2\th3\nlonger-cell-here\tb\nc\td\te\n")).isEqualTo(
                "h1                 h2        h3\nlonger-cell-here   b\nc                  d         e\n");
        assertThat(new TabWriter(0, 1).format("a\tbb\tc\naaa\tb\tc\n")).isEqualTo("a   bb c\naaa b  c\n");
    }
}
