package dev.hull.cli.format;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Runs a parsed template over data, as text/template's exec.go does (variables, pipelines, if/with/range). */
final class Executor {
    private record Var(String name, Object value) {
    }

    private static final class Jump extends RuntimeException {
        final boolean isBreak;

        Jump(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    /** Marks "no final argument" in a pipeline's first command. */
    private static final Object NONE = new Object();

    private final String src;
    private final boolean missingKeyError;
    private final StringBuilder out = new StringBuilder();
    private final List<Var> vars = new ArrayList<>();
    private boolean header;
    private Map<String, List<Node>> defined = Map.of();
    private int depth;
    /** Go stops at 100000 nested calls; a Java stack holds fewer. */
    private static final int MAX_DEPTH = 1000;

    Executor(String src, boolean missingKeyError) {
        this.src = src;
        this.missingKeyError = missingKeyError;
    }

    String run(Parser.Parsed parsed, Object data) throws TemplateException {
        defined = parsed.defined();
        vars.add(new Var("$", data));
        try {
            walk(data, parsed.nodes());
        } catch (Failure f) {
            throw f.error;
        }
        return out.toString();
    }

    /** docker's header row: HeaderFunctions return their argument; output up to an error is kept. */
    String header(Parser.Parsed parsed, Object headers) {
        header = true;
        defined = parsed.defined();
        vars.add(new Var("$", headers));
        try {
            walk(headers, parsed.nodes());
        } catch (Failure f) {
            // docker ignores the header's error: the row template is what reports it
        }
        return out.toString();
    }

    /** A TemplateException carried through the walk. */
    private static final class Failure extends RuntimeException {
        final TemplateException error;

        Failure(TemplateException error) {
            super(null, null, false, false);
            this.error = error;
        }
    }

    private Failure fail(Node at, String msg) {
        return new Failure(TemplateException.exec(src, at, msg));
    }

    private void walk(Object dot, List<Node> nodes) {
        for (Node n : nodes) {
            walk(dot, n);
        }
    }

    private void walk(Object dot, Node node) {
        switch (node) {
            case Node.Text t -> out.append(t.text());
            case Node.Action a -> {
                Object v = pipeline(dot, a.pipe());
                if (a.pipe().decl().isEmpty()) {
                    // a nil out of a pipeline is an invalid value to Go: it prints as "<no value>"
                    out.append(v == null ? "<no value>" : Values.print(v));
                }
            }
            case Node.Jump j -> throw new Jump(j.kind().equals("break"));
            case Node.Branch b -> branch(dot, b);
            case Node.Call c -> call(dot, c);
            default -> throw fail(node, "unknown node: " + node);
        }
    }

    private void branch(Object dot, Node.Branch b) {
        int mark = vars.size();
        try {
            if (b.kind().equals("range")) {
                range(dot, b);
                return;
            }
            Object v = pipeline(dot, b.pipe());
            if (Values.truth(v)) {
                walk(b.kind().equals("with") ? v : dot, b.body());
            } else {
                walk(dot, b.elseBody());
            }
        } finally {
            truncate(mark);
        }
    }

    /** {{template "name" pipeline}}: the named template with the pipeline's value as dot and $, no other variables. */
    private void call(Object dot, Node.Call c) {
        List<Node> body = defined.get(c.name());
        if (body == null) {
            throw fail(c, "template \"" + c.name() + "\" not defined");
        }
        if (depth >= MAX_DEPTH) {
            throw fail(c, "exceeded maximum template depth (" + MAX_DEPTH + ")");
        }
        Object arg = c.pipe() == null ? null : pipeline(dot, c.pipe());
        List<Var> outer = new ArrayList<>(vars);
        vars.clear();
        vars.add(new Var("$", arg));
        depth++;
        try {
            walk(arg, body);
        } finally {
            depth--;
            vars.clear();
            vars.addAll(outer);
        }
    }

    private void truncate(int mark) {
        while (vars.size() > mark) {
            vars.removeLast();
        }
    }

    private void range(Object dot, Node.Branch b) {
        Node.Pipeline p = b.pipe();
        Object v = pipeline(dot, new Node.Pipeline(p.pos(), List.of(), false, p.cmds()));
        List<Object[]> items = new ArrayList<>();
        switch (v) {
            case Collection<?> c -> {
                long i = 0;
                for (Object e : c) {
                    items.add(new Object[] {i++, e});
                }
            }
            case Map<?, ?> m -> Values.sorted(m).forEach((k, e) -> items.add(new Object[] {k, e}));
            case Long n -> {
                for (long i = 0; i < n; i++) {
                    items.add(new Object[] {i, i});
                }
            }
            case Integer n -> {
                for (long i = 0; i < n; i++) {
                    items.add(new Object[] {i, i});
                }
            }
            case null -> {
            }
            default -> {
                if (v != Values.MISSING) {
                    throw fail(p.cmds().getLast().args().getFirst(), "range can't iterate over " + Values.print(v));
                }
            }
        }
        if (items.isEmpty()) {
            walk(dot, b.elseBody());
            return;
        }
        int mark = vars.size();
        for (Object[] item : items) {
            if (p.decl().size() == 1) {
                declare(p.decl().get(0), item[1], p.assign(), b);
            } else if (p.decl().size() == 2) {
                declare(p.decl().get(0), item[0], p.assign(), b);
                declare(p.decl().get(1), item[1], p.assign(), b);
            }
            try {
                walk(item[1], b.body());
            } catch (Jump j) {
                if (j.isBreak) {
                    break;
                }
            } finally {
                truncate(mark);
            }
        }
    }

    private void declare(String name, Object value, boolean assign, Node at) {
        if (!assign) {
            vars.add(new Var(name, value));
            return;
        }
        for (int i = vars.size() - 1; i >= 0; i--) {
            if (vars.get(i).name().equals(name)) {
                vars.set(i, new Var(name, value));
                return;
            }
        }
        throw fail(at, "undefined variable: " + name);
    }

    private Object variable(Node at, String name) {
        for (int i = vars.size() - 1; i >= 0; i--) {
            if (vars.get(i).name().equals(name)) {
                return vars.get(i).value();
            }
        }
        throw fail(at, "undefined variable: " + name);
    }

    private Object pipeline(Object dot, Node.Pipeline p) {
        Object value = NONE;
        for (Node.Command c : p.cmds()) {
            value = command(dot, c, value);
        }
        for (String d : p.decl()) {
            declare(d, value, p.assign(), p);
        }
        return value;
    }

    private Object command(Object dot, Node.Command cmd, Object fin) {
        Node first = cmd.args().get(0);
        List<Node> rest = cmd.args().subList(1, cmd.args().size());
        return switch (first) {
            case Node.Field f -> fields(dot, dot, f, f.names(), rest, fin);
            case Node.Variable v -> v.fields().isEmpty() ? noArgs(first, rest, fin, variable(v, v.name()))
                    : fields(dot, variable(v, v.name()), v, v.fields(), rest, fin);
            case Node.Chain c -> c.fields().isEmpty() ? noArgs(first, rest, fin, arg(dot, c.node()))
                    : fields(dot, arg(dot, c.node()), c, c.fields(), rest, fin);
            case Node.Identifier id -> function(dot, id, cmd, rest, fin);
            case Node.Literal l when l.value() == null -> throw fail(l, "nil is not a command");
            default -> noArgs(first, rest, fin, arg(dot, first));
        };
    }

    private Object noArgs(Node at, List<Node> rest, Object fin, Object value) {
        if (!rest.isEmpty() || fin != NONE) {
            throw fail(at, "can't give argument to non-function " + at);
        }
        return value;
    }

    private Object arg(Object dot, Node n) {
        return switch (n) {
            case Node.Dot d -> dot;
            case Node.Literal l -> l.value();
            case Node.Field f -> fields(dot, dot, f, f.names(), List.of(), NONE);
            case Node.Variable v -> v.fields().isEmpty() ? variable(v, v.name())
                    : fields(dot, variable(v, v.name()), v, v.fields(), List.of(), NONE);
            case Node.Chain c -> c.fields().isEmpty() ? arg(dot, c.node())
                    : fields(dot, arg(dot, c.node()), c, c.fields(), List.of(), NONE);
            case Node.Pipeline p -> pipeline(dot, p);
            case Node.Identifier id -> function(dot, id, new Node.Command(id.pos(), List.of(id)), List.of(), NONE);
            default -> throw fail(n, "can't handle " + n);
        };
    }

    /** receiver.A.B...: every field but the last without arguments; the last takes the command's arguments. */
    private Object fields(Object dot, Object receiver, Node at, List<String> names, List<Node> args, Object fin) {
        Object v = receiver;
        for (int i = 0; i < names.size(); i++) {
            boolean last = i == names.size() - 1;
            v = field(dot, v, names.get(i), at, last ? args : List.of(), last ? fin : NONE);
        }
        return v;
    }

    private Object field(Object dot, Object receiver, String name, Node at, List<Node> args, Object fin) {
        boolean hasArgs = !args.isEmpty() || fin != NONE;
        if (receiver == Values.MISSING) {
            if (missingKeyError) {
                throw fail(at, "nil data; no entry for key \"" + name + "\"");
            }
            return Values.MISSING;
        }
        switch (receiver) {
            case null -> throw fail(at, "nil pointer evaluating interface {}." + name);
            case GoStruct s when s.has(name) -> {
                List<Object> values = new ArrayList<>();
                for (Node a : args) {
                    values.add(arg(dot, a));
                }
                if (fin != NONE) {
                    values.add(fin);
                }
                try {
                    return s.get(name, values);
                } catch (Functions.CallError e) {
                    throw fail(at, e.getMessage());
                }
            }
            case Map<?, ?> m -> {
                if (hasArgs) {
                    throw fail(at, name + " is not a method but has arguments");
                }
                if (m.containsKey(name)) {
                    return m.get(name);
                }
                if (missingKeyError) {
                    throw fail(at, "map has no entry for key \"" + name + "\"");
                }
                return Values.MISSING;
            }
            default -> throw fail(at, "can't evaluate field " + name + " in type " + Values.typeName(receiver));
        }
    }

    private Object function(Object dot, Node.Identifier id, Node.Command cmd, List<Node> args, Object fin) {
        String name = id.name();
        if (name.equals("and") || name.equals("or")) {
            return andOr(dot, cmd, name.equals("and"), args, fin);
        }
        List<Object> values = new ArrayList<>();
        for (Node a : args) {
            values.add(arg(dot, a));
        }
        if (fin != NONE) {
            values.add(fin);
        }
        if (header && Functions.DOCKER.contains(name) && !values.isEmpty()) {
            return values.get(0);
        }
        try {
            return Functions.call(name, values);
        } catch (Functions.CallError e) {
            String msg = e.getMessage();
            throw fail(cmd, msg.startsWith("wrong number of args") ? msg : "error calling " + name + ": " + msg);
        }
    }

    /** and / or: evaluate arguments left to right until the answer is known; the answer is that argument. */
    private Object andOr(Object dot, Node.Command cmd, boolean and, List<Node> args, Object fin) {
        if (args.isEmpty() && fin == NONE) {
            throw fail(cmd, "wrong number of args for " + (and ? "and" : "or") + ": want at least 1 got 0");
        }
        Object v = null;
        for (Node a : args) {
            v = arg(dot, a);
            if (Values.truth(v) != and) {
                return v;
            }
        }
        return fin != NONE ? fin : v;
    }
}
