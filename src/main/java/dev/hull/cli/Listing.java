package dev.hull.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.cli.format.GoStruct;
import dev.hull.cli.format.RowFormat;
import dev.hull.cli.format.Template;
import dev.hull.cli.format.TemplateException;
import dev.hull.runtime.RuntimeError;
import java.util.Map;

/**
 * A listing command's --format: "table" (the default), "table TEMPLATE", "json" (the command's own JSON lines) or a
 * Go template (dev.hull.cli.format), with docker's error texts as Hull's bad-input errors.
 */
final class Listing {
    private final RowFormat rows;

    private Listing(RowFormat rows) {
        this.rows = rows;
    }

    /** format: as given; defaultTable: the columns "table" means; headers: each field's column title. */
    static Listing of(String format, String defaultTable, Map<String, String> headers) throws RuntimeError {
        try {
            return new Listing(new RowFormat(format, defaultTable, headers));
        } catch (TemplateException e) {
            throw error(e);
        }
    }

    static boolean isJson(String format) {
        return RowFormat.isJson(format);
    }

    void add(GoStruct row) throws RuntimeError {
        try {
            rows.add(row);
        } catch (TemplateException e) {
            throw error(e);
        }
    }

    /** Prints every row added so far (a table: under its header row, aligned). */
    void print() {
        System.out.print(rows.render());
        System.out.flush();
    }

    String render() {
        return rows.render();
    }

    /** One document (inspect, info, version) through a template; a missing key is an error, as in docker. */
    static String document(String format, JsonNode doc) throws RuntimeError {
        try {
            return Template.parse(format).missingKeyError().execute(doc);
        } catch (TemplateException e) {
            throw error(e);
        }
    }

    /** Parses a template, to refuse a bad one before doing anything. */
    static void check(String format) throws RuntimeError {
        try {
            Template.parse(format);
        } catch (TemplateException e) {
            throw error(e);
        }
    }

    static RuntimeError error(TemplateException e) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                (e.parsing() ? "template parsing error: " : "") + e.getMessage());
    }
}
