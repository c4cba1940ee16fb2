package dev.hull.cli.format;

import java.util.ArrayList;
import java.util.List;

/** Splits a Go template into text and the tokens of its actions, as text/template/parse's lexer does. */
final class Lexer {
    enum Kind { TEXT, LEFT, RIGHT, FIELD, DOT, VARIABLE, IDENT, STRING, NUMBER, CHAR, PIPE, LPAREN, RPAREN, DECLARE,
        ASSIGN, COMMA, EOF }

    /** One token; spaced: whitespace came before it inside the action. */
    record Token(Kind kind, String text, int pos, boolean spaced) {
    }

    private final String src;
    private final List<Token> out = new ArrayList<>();
    private int i;
    private boolean trimNextText;

    private Lexer(String src) {
        this.src = src;
    }

    static List<Token> lex(String src) throws TemplateException {
        Lexer l = new Lexer(src);
        l.run();
        return l.out;
    }

    private TemplateException error(String msg) {
        return TemplateException.parse(src, i, msg);
    }

    private void run() throws TemplateException {
        while (i < src.length()) {
            int open = src.indexOf("{{", i);
            int end = open < 0 ? src.length() : open;
            String text = src.substring(i, end);
            boolean trimLeft = open >= 0 && src.startsWith("{{-", open) && open + 3 < src.length()
                    && isSpace(src.charAt(open + 3));
            if (trimNextText) {
                text = text.stripLeading();
            }
            if (trimLeft) {
                text = text.stripTrailing();
            }
            if (!text.isEmpty()) {
                out.add(new Token(Kind.TEXT, text, i, false));
            }
            trimNextText = false;
            if (open < 0) {
                break;
            }
            i = open + 2;
            if (trimLeft) {
                i += 2;
            }
            action(open);
        }
        out.add(new Token(Kind.EOF, "", src.length(), false));
    }

    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    private boolean atRight() {
        if (src.startsWith("}}", i)) {
            return true;
        }
        return src.startsWith("-}}", i) && i > 0 && isSpace(src.charAt(i - 1));
    }

    private void action(int open) throws TemplateException {
        int comment = i;
        while (comment < src.length() && isSpace(src.charAt(comment))) {
            comment++;
        }
        if (src.startsWith("/*", comment)) {
            int close = src.indexOf("*/", comment + 2);
            if (close < 0) {
                i = comment;
                throw error("unclosed comment");
            }
            i = close + 2;
            while (i < src.length() && isSpace(src.charAt(i))) {
                i++;
            }
            if (!atRight()) {
                throw error("comment ends before closing delimiter");
            }
            closeAction();
            return;
        }
        out.add(new Token(Kind.LEFT, "{{", open, false));
        boolean spaced = false;
        while (true) {
            if (i >= src.length()) {
                throw error("unclosed action");
            }
            if (atRight()) {
                out.add(new Token(Kind.RIGHT, "}}", i, spaced));
                closeAction();
                return;
            }
            char c = src.charAt(i);
            if (isSpace(c)) {
                spaced = true;
                i++;
                continue;
            }
            int start = i;
            Kind kind;
            if (c == '|') {
                i++;
                kind = Kind.PIPE;
            } else if (c == '(') {
                i++;
                kind = Kind.LPAREN;
            } else if (c == ')') {
                i++;
                kind = Kind.RPAREN;
            } else if (c == ',') {
                i++;
                kind = Kind.COMMA;
            } else if (c == ':' && src.startsWith(":=", i)) {
                i += 2;
                kind = Kind.DECLARE;
            } else if (c == '=') {
                i++;
                kind = Kind.ASSIGN;
            } else if (c == '"') {
                quoted('"');
                kind = Kind.STRING;
            } else if (c == '`') {
                int close = src.indexOf('`', i + 1);
                if (close < 0) {
                    throw error("unterminated raw quoted string");
                }
                i = close + 1;
                kind = Kind.STRING;
            } else if (c == '\'') {
                quoted('\'');
                kind = Kind.CHAR;
            } else if (c == '.' && i + 1 < src.length() && Character.isDigit(src.charAt(i + 1))) {
                number();
                kind = Kind.NUMBER;
            } else if (c == '.' && (i + 1 >= src.length() || !isWord(src.charAt(i + 1)))) {
                i++;
                kind = Kind.DOT;
            } else if (c == '.') {
                i++;
                word();
                kind = Kind.FIELD;
            } else if (c == '$') {
                i++;
                word();
                kind = Kind.VARIABLE;
            } else if (Character.isDigit(c) || (c == '-' || c == '+') && i + 1 < src.length()
                    && (Character.isDigit(src.charAt(i + 1)) || src.charAt(i + 1) == '.')) {
                number();
                kind = Kind.NUMBER;
            } else if (isWord(c)) {
                word();
                kind = Kind.IDENT;
            } else {
                throw error("unexpected \"" + c + "\" in command");
            }
            out.add(new Token(kind, src.substring(start, i), start, spaced));
            spaced = false;
        }
    }

    private void closeAction() {
        if (src.startsWith("-}}", i)) {
            trimNextText = true;
            i += 3;
        } else {
            i += 2;
        }
    }

    private static boolean isWord(char c) {
        return c == '_' || Character.isLetterOrDigit(c);
    }

    private void word() {
        while (i < src.length() && isWord(src.charAt(i))) {
            i++;
        }
    }

    private void number() {
        i++;
        while (i < src.length() && (isWord(src.charAt(i)) || src.charAt(i) == '.'
                || (src.charAt(i) == '-' || src.charAt(i) == '+') && "eEpP".indexOf(src.charAt(i - 1)) >= 0)) {
            i++;
        }
    }

    private void quoted(char q) throws TemplateException {
        i++;
        while (true) {
            if (i >= src.length() || src.charAt(i) == '\n') {
                throw error(q == '"' ? "unterminated quoted string" : "unterminated character constant");
            }
            char c = src.charAt(i++);
            if (c == '\\') {
                i++;
            } else if (c == q) {
                return;
            }
        }
    }
}
