package dev.hull.cli.format;

import dev.hull.cli.format.Lexer.Kind;
import dev.hull.cli.format.Lexer.Token;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Builds the tree of a Go template from its tokens (text/template/parse's grammar, with define, template and block). */
final class Parser {
    private final String src;
    private final List<Token> tokens;
    private final Set<String> functions;
    private int at;
    private int rangeDepth;
    /** Variables in scope while parsing: Go rejects an undeclared one before running. */
    private final List<String> vars = new ArrayList<>(List.of("$"));
    /** {{define}}d and {{block}} templates by name. */
    private final java.util.Map<String, List<Node>> defined = new java.util.HashMap<>();
    /** Inside an action's body: a {{define}} must be at the top level. */
    private int depth;

    /** The main template and the named ones it defines. */
    record Parsed(List<Node> nodes, java.util.Map<String, List<Node>> defined) {
    }

    private Parser(String src, Set<String> functions) throws TemplateException {
        this.src = src;
        this.tokens = Lexer.lex(src);
        this.functions = functions;
    }

    static Parsed parse(String src, Set<String> functions) throws TemplateException {
        Parser p = new Parser(src, functions);
        List<Node> nodes = new ArrayList<>();
        String end = p.list(nodes);
        if (end != null) {
            throw p.error("unexpected {{" + end + "}}");
        }
        return new Parsed(nodes, java.util.Map.copyOf(p.defined));
    }

    /** {{define "name"}} body {{end}}: a named template (Go: only at the top level; a later one replaces it). */
    private void define(Token keyword) throws TemplateException {
        if (depth > 0) {
            at--;
            throw error("unexpected <define> in command");
        }
        String name = Literals.unquote(expect(Kind.STRING, "define clause").text());
        expect(Kind.RIGHT, "define clause");
        add(name, body("define"));
    }

    /** Go's rule: a template with only spaces in it may be replaced, or leaves one in place; two with content clash. */
    private void add(String name, List<Node> body) throws TemplateException {
        List<Node> old = defined.get(name);
        if (old != null && !blank(old) && !blank(body)) {
            throw error("template: multiple definition of template \"" + name + "\"");
        }
        if (old == null || !blank(body)) {
            defined.put(name, body);
        }
    }

    private static boolean blank(List<Node> body) {
        return body.stream().allMatch(n -> n instanceof Node.Text t && t.text().isBlank());
    }

    /** {{template "name" [pipeline]}}, or {{block "name" pipeline}} body {{end}}: define name, then call it. */
    private Node call(Token keyword, boolean block) throws TemplateException {
        String context = block ? "block clause" : "template clause";
        Token nameToken = expect(Kind.STRING, context);
        String name = Literals.unquote(nameToken.text());
        Node.Pipeline pipe = null;
        if (peek().kind() == Kind.RIGHT) {
            next();
        } else {
            pipe = pipeline(context, Kind.RIGHT);
        }
        if (block) {
            add(name, body("block"));
        }
        return new Node.Call(nameToken.pos(), name, pipe);
    }

    /** A define's or block's body up to its {{end}}, with no variables but $ (Go: its own scope). */
    private List<Node> body(String what) throws TemplateException {
        List<String> outer = new ArrayList<>(vars);
        vars.clear();
        vars.add("$");
        depth++;
        int ranges = rangeDepth;
        rangeDepth = 0; // a named template is a tree of its own: {{break}} needs a range in it
        try {
            List<Node> body = new ArrayList<>();
            String end = list(body);
            if (end == null) {
                throw error("unexpected EOF");
            }
            if (!end.equals("end")) {
                throw error("unexpected {{" + end + "}} in " + what);
            }
            return body;
        } finally {
            depth--;
            rangeDepth = ranges;
            vars.clear();
            vars.addAll(outer);
        }
    }

    private TemplateException error(String msg) {
        return TemplateException.parse(src, peek().pos(), msg);
    }

    private Token peek() {
        return tokens.get(at);
    }

    private Token next() {
        return tokens.get(at++);
    }

    private Token expect(Kind kind, String context) throws TemplateException {
        Token t = next();
        if (t.kind() != kind) {
            at--;
            throw error("unexpected " + describe(t) + " in " + context);
        }
        return t;
    }

    private static String describe(Token t) {
        return switch (t.kind()) {
            case EOF -> "EOF";
            case RIGHT -> "\"}}\"";
            default -> "\"" + t.text() + "\"";
        };
    }

    /** Parses nodes up to EOF (returns null) or to an {{end}} / {{else...}} (returns "end" or "else", after it). */
    private String list(List<Node> into) throws TemplateException {
        while (true) {
            Token t = next();
            switch (t.kind()) {
                case EOF -> {
                    at--;
                    return null;
                }
                case TEXT -> into.add(new Node.Text(t.pos(), t.text()));
                case LEFT -> {
                    Token k = peek();
                    String word = k.kind() == Kind.IDENT ? k.text() : "";
                    switch (word) {
                        case "end" -> {
                            next();
                            expect(Kind.RIGHT, "end");
                            return "end";
                        }
                        case "else" -> {
                            next();
                            return "else";
                        }
                        case "if", "with", "range" -> {
                            depth++;
                            try {
                                into.add(branch(next()));
                            } finally {
                                depth--;
                            }
                        }
                        case "break", "continue" -> {
                            if (rangeDepth == 0) {
                                throw error("{{" + word + "}} outside {{range}}");
                            }
                            next();
                            expect(Kind.RIGHT, word);
                            into.add(new Node.Jump(k.pos(), word));
                        }
                        case "define" -> define(next());
                        case "template", "block" -> into.add(call(next(), word.equals("block")));
                        default -> {
                            Node.Pipeline pipe = pipeline("command", Kind.RIGHT);
                            into.add(new Node.Action(t.pos(), pipe));
                        }
                    }
                }
                default -> throw error("unexpected " + describe(t));
            }
        }
    }

    private Node.Branch branch(Token keyword) throws TemplateException {
        int scope = vars.size();
        try {
            return control(keyword);
        } finally {
            while (vars.size() > scope) {
                vars.removeLast();
            }
        }
    }

    private Node.Branch control(Token keyword) throws TemplateException {
        String kind = keyword.text();
        Node.Pipeline pipe = pipeline(kind, Kind.RIGHT);
        List<Node> body = new ArrayList<>();
        if (kind.equals("range")) {
            rangeDepth++;
        }
        String end = list(body);
        if (kind.equals("range")) {
            rangeDepth--;
        }
        List<Node> elseBody = new ArrayList<>();
        if (end == null) {
            throw error("unexpected EOF");
        }
        if (end.equals("else")) {
            Token k = peek();
            if (k.kind() == Kind.IDENT && (k.text().equals("if") && kind.equals("if")
                    || k.text().equals("with") && kind.equals("with"))) {
                // {{else if x}}: an if nested in the else, closed by the same {{end}}
                elseBody.add(branch(next()));
                return new Node.Branch(keyword.pos(), kind, pipe, body, elseBody);
            }
            expect(Kind.RIGHT, "else");
            end = list(elseBody);
            if (end == null) {
                throw error("unexpected EOF");
            }
            if (end.equals("else")) {
                throw error("expected end; found {{else}}");
            }
        }
        return new Node.Branch(keyword.pos(), kind, pipe, body, elseBody);
    }

    /** [$x [, $y] := | =] command { | command } up to the closing token (consumed). */
    private Node.Pipeline pipeline(String context, Kind close) throws TemplateException {
        int pos = peek().pos();
        List<String> decl = new ArrayList<>();
        boolean assign = false;
        int mark = at;
        if (peek().kind() == Kind.VARIABLE) {
            Token v = next();
            if (peek().kind() == Kind.DECLARE || peek().kind() == Kind.ASSIGN) {
                assign = next().kind() == Kind.ASSIGN;
                decl.add(v.text());
            } else if (peek().kind() == Kind.COMMA && context.equals("range")) {
                next();
                Token v2 = expect(Kind.VARIABLE, "range");
                decl.add(v.text());
                decl.add(v2.text());
                Token d = next();
                if (d.kind() != Kind.DECLARE && d.kind() != Kind.ASSIGN) {
                    at--;
                    throw error("range can only initialize variables");
                }
                assign = d.kind() == Kind.ASSIGN;
            } else {
                at = mark;
            }
        }
        List<Node.Command> cmds = new ArrayList<>();
        for (String d : decl) {
            if (assign && !vars.contains(d)) {
                throw error("undefined variable \"" + d + "\"");
            }
        }
        while (true) {
            Node.Command cmd = command(close);
            cmds.add(cmd);
            Token t = next();
            if (t.kind() == close) {
                break;
            }
            if (t.kind() != Kind.PIPE) {
                at--;
                throw error("unexpected " + describe(t) + " in " + context);
            }
        }
        if (cmds.get(0).args().isEmpty()) {
            throw error("missing value for " + context);
        }
        if (!assign) {
            vars.addAll(decl);
        }
        for (int c = 1; c < cmds.size(); c++) {
            Node first = cmds.get(c).args().get(0);
            if (first instanceof Node.Literal || first instanceof Node.Dot) {
                throw error("non executable command in pipeline stage " + (c + 1));
            }
        }
        return new Node.Pipeline(pos, decl, assign, cmds);
    }

    private Node.Command command(Kind close) throws TemplateException {
        int pos = peek().pos();
        List<Node> args = new ArrayList<>();
        while (peek().kind() != Kind.PIPE && peek().kind() != close) {
            if (peek().kind() == Kind.EOF || peek().kind() == Kind.RIGHT) {
                throw error(peek().kind() == Kind.EOF ? "unclosed action" : "unclosed left paren");
            }
            if (!args.isEmpty() && !peek().spaced() && peek().kind() != Kind.LPAREN) {
                throw error("missing space?");
            }
            args.add(operand());
        }
        if (args.isEmpty() && peek().kind() == Kind.PIPE) {
            throw error("missing command");
        }
        return new Node.Command(pos, args);
    }

    private Node operand() throws TemplateException {
        Node term = term();
        List<String> fields = new ArrayList<>();
        // Go places a chain at its first chained field: errors in .A.B point at .B
        int chainPos = peek().pos();
        while (peek().kind() == Kind.FIELD && !peek().spaced()) {
            fields.add(next().text().substring(1));
        }
        if (fields.isEmpty()) {
            return term;
        }
        return switch (term) {
            case Node.Field f -> new Node.Field(chainPos, concat(f.names(), fields));
            case Node.Variable v -> new Node.Variable(chainPos, v.name(), concat(v.fields(), fields));
            case Node.Literal l when !(l.value() instanceof String) && l.value() != null
                    && !(l.value() instanceof Boolean) -> throw error("unexpected . after term \"" + l.text() + "\"");
            default -> new Node.Chain(term.pos(), term, fields);
        };
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private Node term() throws TemplateException {
        Token t = next();
        return switch (t.kind()) {
            case DOT -> new Node.Dot(t.pos());
            case FIELD -> new Node.Field(t.pos(), List.of(t.text().substring(1)));
            case VARIABLE -> {
                if (!vars.contains(t.text())) {
                    at--;
                    throw error("undefined variable \"" + t.text() + "\"");
                }
                yield new Node.Variable(t.pos(), t.text(), List.of());
            }
            case STRING -> new Node.Literal(t.pos(), Literals.unquote(t.text()), t.text());
            case CHAR -> new Node.Literal(t.pos(), (long) Literals.unquoteChar(t.text()), t.text());
            case NUMBER -> {
                try {
                    yield new Node.Literal(t.pos(), Literals.number(t.text()), t.text());
                } catch (NumberFormatException e) {
                    at--;
                    throw error("bad number syntax: \"" + t.text() + "\"");
                }
            }
            case LPAREN -> new Node.Chain(t.pos(), pipeline("parenthesized pipeline", Kind.RPAREN), List.of());
            case IDENT -> switch (t.text()) {
                case "true", "false" -> new Node.Literal(t.pos(), Boolean.valueOf(t.text()), t.text());
                case "nil" -> new Node.Literal(t.pos(), null, "nil");
                default -> {
                    if (!functions.contains(t.text())) {
                        at--;
                        throw error("function \"" + t.text() + "\" not defined");
                    }
                    yield new Node.Identifier(t.pos(), t.text());
                }
            };
            default -> {
                at--;
                throw error("unexpected " + describe(t) + " in operand");
            }
        };
    }
}
