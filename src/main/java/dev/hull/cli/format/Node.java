package dev.hull.cli.format;

import java.util.List;
import java.util.stream.Collectors;

/** The parse tree of a Go text/template, as text/template/parse has it (the parts docker's templates use). */
sealed interface Node {
    /** Byte offset in the template, for errors' line:column. */
    int pos();

    record Text(int pos, String text) implements Node {
        @Override
        public String toString() {
            return text;
        }
    }

    /** {{pipeline}}: prints the pipeline's value unless it declares variables. */
    record Action(int pos, Pipeline pipe) implements Node {
        @Override
        public String toString() {
            return "{{" + pipe + "}}";
        }
    }

    /** if, with and range: kind is the keyword; elseBody is empty when there is no else. */
    record Branch(int pos, String kind, Pipeline pipe, List<Node> body, List<Node> elseBody) implements Node {
        @Override
        public String toString() {
            return "{{" + kind + " " + pipe + "}}";
        }
    }

    /** {{template "name" pipeline}} (and a block's use of its body); pipe null: no argument (dot is nil). */
    record Call(int pos, String name, Pipeline pipe) implements Node {
        @Override
        public String toString() {
            return "{{template \"" + name + "\"" + (pipe == null ? "" : " " + pipe) + "}}";
        }
    }

    /** {{break}} or {{continue}} inside a range. */
    record Jump(int pos, String kind) implements Node {
        @Override
        public String toString() {
            return "{{" + kind + "}}";
        }
    }

    /** $a, $b := cmd | cmd; decl empty when nothing is declared; assign: = rather than :=. */
    record Pipeline(int pos, List<String> decl, boolean assign, List<Command> cmds) implements Node {
        @Override
        public String toString() {
            String head = decl.isEmpty() ? "" : String.join(", ", decl) + (assign ? " = " : " := ");
            return head + cmds.stream().map(Object::toString).collect(Collectors.joining(" | "));
        }
    }

    record Command(int pos, List<Node> args) implements Node {
        @Override
        public String toString() {
            return args.stream().map(a -> a instanceof Pipeline ? "(" + a + ")" : a.toString())
                    .collect(Collectors.joining(" "));
        }
    }

    /** .A.B: fields of dot. */
    record Field(int pos, List<String> names) implements Node {
        @Override
        public String toString() {
            return names.stream().map(n -> "." + n).collect(Collectors.joining());
        }
    }

    /** $x.A.B: a variable and fields of it. */
    record Variable(int pos, String name, List<String> fields) implements Node {
        @Override
        public String toString() {
            return name + fields.stream().map(n -> "." + n).collect(Collectors.joining());
        }
    }

    /** (pipeline).A.B or a literal's fields. */
    record Chain(int pos, Node node, List<String> fields) implements Node {
        @Override
        public String toString() {
            String head = node instanceof Pipeline ? "(" + node + ")" : node.toString();
            return head + fields.stream().map(n -> "." + n).collect(Collectors.joining());
        }
    }

    record Dot(int pos) implements Node {
        @Override
        public String toString() {
            return ".";
        }
    }

    /** A function's name. */
    record Identifier(int pos, String name) implements Node {
        @Override
        public String toString() {
            return name;
        }
    }

    /** A string, number, bool or nil constant; text is how it was written. */
    record Literal(int pos, Object value, String text) implements Node {
        @Override
        public String toString() {
            return text;
        }
    }
}
