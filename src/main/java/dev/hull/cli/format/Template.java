package dev.hull.cli.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * A Go text/template, as docker's --format takes them: our own implementation of the language (fields, variables,
 * pipelines, if/else/with/range, break/continue, define/template/block, whitespace trimming, comments) with Go's builtin functions and
 * docker's (json, join, split, title, lower, upper, pad, truncate), and Go's error texts.
 */
public final class Template {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final Parser.Parsed nodes;
    private final boolean missingKeyError;

    private Template(String source, Parser.Parsed nodes, boolean missingKeyError) {
        this.source = source;
        this.nodes = nodes;
        this.missingKeyError = missingKeyError;
    }

    public static Template parse(String source) throws TemplateException {
        return new Template(source, Parser.parse(source, Functions.NAMES), false);
    }

    /** Go's Option("missingkey=error"): a missing map key is an error rather than "<no value>". */
    public Template missingKeyError() {
        return new Template(source, nodes, true);
    }

    /**
     * docker's header row: the template over the headers map with its own functions (json, upper... hand back their
     * argument); what failed (.Label "k" on a map) is left out, as docker ignores that error.
     */
    String header(java.util.Map<String, String> headers) {
        return new Executor(source, false).header(nodes, headers);
    }

    /** The output for data: a GoStruct, a Map, a List, a String, a number or a Jackson JsonNode (taken as plain values). */
    public String execute(Object data) throws TemplateException {
        Object root = data instanceof JsonNode n ? JSON.convertValue(n, Object.class) : data;
        return new Executor(source, missingKeyError).run(nodes, root);
    }
}
