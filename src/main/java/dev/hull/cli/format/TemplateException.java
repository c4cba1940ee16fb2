package dev.hull.cli.format;

/** A template that does not parse or fails while executing, worded as Go's text/template words it. */
public final class TemplateException extends Exception {
    private final boolean parsing;

    private TemplateException(String message, boolean parsing) {
        super(message);
        this.parsing = parsing;
    }

    /** True when the template did not parse (docker prefixes those with "template parsing error: "). */
    public boolean parsing() {
        return parsing;
    }

    static TemplateException parse(String src, int pos, String msg) {
        int line = 1 + (int) src.substring(0, Math.min(pos, src.length())).chars().filter(c -> c == '\n').count();
        return new TemplateException("template: :" + line + ": " + msg, true);
    }

    /** Go's "template: :1:2: executing "" at <.Nope>: ..." for an error at node. */
    static TemplateException exec(String src, Node node, String msg) {
        int pos = Math.min(node.pos(), src.length());
        String before = src.substring(0, pos);
        int nl = before.lastIndexOf('\n');
        int col = nl < 0 ? pos : pos - nl - 1;
        int line = 1 + (int) before.chars().filter(c -> c == '\n').count();
        return new TemplateException("template: :" + line + ":" + col + ": executing \"\" at <" + node + ">: " + msg,
                false);
    }
}
