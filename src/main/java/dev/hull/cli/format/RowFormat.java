package dev.hull.cli.format;

import java.util.Map;

/**
 * docker's formatter.Context for listings: {@code --format} is "table" (the command's default table), "table
 * TEMPLATE" (a header row from the fields' headers, columns aligned by docker's tabwriter), "json" (one JSON object
 * a row) or a template printed once a row.
 */
public final class RowFormat {
    private final Template template;
    private final boolean table;
    private final Map<String, String> headers;
    private final StringBuilder rows = new StringBuilder();

    /**
     * format: what the user gave (null: "table"); defaultTable: the template "table" stands for (without "table ");
     * headers: each field's column title (docker's SubHeaderContext).
     */
    public RowFormat(String format, String defaultTable, Map<String, String> headers) throws TemplateException {
        String f = format == null || format.isEmpty() ? "table" : format;
        this.table = f.startsWith("table");
        if (f.equals("table")) {
            f = defaultTable;
        } else if (table) {
            f = f.substring("table".length());
        } else if (f.equals("json")) {
            f = "{{json .}}";
        }
        this.template = Template.parse(preformat(f));
        this.headers = headers;
    }

    /** docker trims the format and takes a typed \t or \n as a tab or newline. */
    static String preformat(String f) {
        return f.strip().replace("\\t", "\t").replace("\\n", "\n");
    }

    /** True when the format is docker's "json" (one JSON object a row). */
    public static boolean isJson(String format) {
        return "json".equals(format);
    }

    public boolean table() {
        return table;
    }

    /** Formats one row (a GoStruct, or a JSON node for commands whose rows are documents). */
    public void add(Object row) throws TemplateException {
        rows.append(template.execute(row)).append('\n');
    }

    /** Every row added so far, after the header row and aligned when a table; starts again empty. */
    public String render() {
        String body = rows.toString();
        rows.setLength(0);
        if (!table) {
            return body;
        }
        return TabWriter.docker().format(template.header(headers) + "\n" + body);
    }
}
